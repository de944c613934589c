package token

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// revokeLog records OnRevoke calls.
type revokeLog struct {
	mu   sync.Mutex
	ids  []string
	fail error
}

func (l *revokeLog) onRevoke(_ context.Context, e *Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.ids = append(l.ids, e.ID)
	return nil
}

func (l *revokeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

type fixture struct {
	s     *Store
	st    *inmem.Backend
	clock *clock
	log   *revokeLog
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{st: inmem.New(), clock: newClock(), log: &revokeLog{}}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.OnRevoke == nil {
		opts.OnRevoke = f.log.onRevoke
	}
	s, err := New(context.Background(), f.st, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

func (f *fixture) create(t testing.TB, p CreateParams) (string, *Entry) {
	t.Helper()
	if p.Path == "" {
		p.Path = "auth/token/create"
	}
	tok, e, err := f.s.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("create %+v: %v", p, err)
	}
	return tok, e
}

func (f *fixture) root(t testing.TB) (string, *Entry) {
	t.Helper()
	tok, err := f.s.CreateRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.s.Lookup(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, e
}

// valid reports whether token is accepted by Lookup.
func (f *fixture) valid(t testing.TB, token string) bool {
	t.Helper()
	_, err := f.s.Lookup(context.Background(), token)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup: %v", err)
	}
	return err == nil
}

// keys returns every key in the store's storage under prefix.
func (f *fixture) keys(t testing.TB, prefix string) []string {
	t.Helper()
	keys, err := storage.List(context.Background(), f.st, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// caller describes e as core would for a request.
func caller(e *Entry, sudo bool) *engine.Caller {
	return &engine.Caller{
		TokenID:  e.ID,
		Accessor: e.Accessor,
		Policies: e.Policies,
		EntityID: e.EntityID,
		Root:     e.IsRoot(),
		Sudo:     sudo || e.IsRoot(),
	}
}

// call sends one request to the auth/token/ backend as the token tok.
func (f *fixture) call(t testing.TB, op engine.Operation, path, tok string, data map[string]any) (*engine.Response, error) {
	t.Helper()
	return f.callSudo(t, op, path, tok, false, data)
}

func (f *fixture) callSudo(t testing.TB, op engine.Operation, path, tok string, sudo bool, data map[string]any) (*engine.Response, error) {
	t.Helper()
	req := &engine.Request{Operation: op, Path: path, MountPath: "auth/token/", Data: data, ClientToken: tok}
	if e, err := f.s.load(context.Background(), f.s.idOf(tok)); err == nil {
		req.Caller = caller(e, sudo)
	}
	return f.s.Backend().Handle(context.Background(), req)
}

func errorIs(t testing.TB, err, kind error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v containing %q", kind, substr)
	}
	if !strings.Contains(err.Error(), substr) || !errors.Is(err, kind) {
		t.Fatalf("error = %q (%T), want %v containing %q", err, err, kind, substr)
	}
}
