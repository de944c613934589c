package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

const (
	accUserpass = "auth_userpass_1a2b3c4d"
	accJWT      = "auth_jwt_5e6f7a8b"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// flaky is a storage backend whose writes fail while fail is set.
type flaky struct {
	storage.Backend
	mu   sync.Mutex
	fail bool
}

var errInjected = errors.New("injected storage failure")

func (f *flaky) setFail(v bool) { f.mu.Lock(); f.fail = v; f.mu.Unlock() }

func (f *flaky) failing() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.fail }

func (f *flaky) Put(ctx context.Context, key string, value []byte) error {
	if f.failing() {
		return errInjected
	}
	return f.Backend.Put(ctx, key, value)
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if f.failing() {
		return errInjected
	}
	return f.Backend.Delete(ctx, key)
}

// harness drives one Store through its Go API and its identity/ mount.
type harness struct {
	t     testing.TB
	s     *Store
	b     engine.Backend
	st    *flaky
	clock *clock
	opts  Options
}

func newHarness(t testing.TB) *harness {
	return newHarnessOpts(t, Options{})
}

func newHarnessOpts(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, st: &flaky{Backend: inmem.New()}, clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	opts.Now = h.clock.Now
	h.opts = opts
	h.reopen()
	return h
}

// reopen loads a fresh Store from the harness's storage, as an unseal does.
func (h *harness) reopen() {
	h.t.Helper()
	s, err := New(context.Background(), h.st, h.opts)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.s, h.b = s, s.Backend()
}

// body decodes a JSON body as httpapi does (numbers as json.Number).
func body(t testing.TB, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test body %s: %v", s, err)
	}
	return m
}

func (h *harness) do(op engine.Operation, path, data string) (*engine.Response, error) {
	h.t.Helper()
	return h.b.Handle(context.Background(), &engine.Request{Operation: op, Path: path, MountPath: "identity/", Data: body(h.t, data)})
}

// ok runs a request that must succeed and returns its data (nil if none).
func (h *harness) ok(op engine.Operation, path, data string) map[string]any {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	if resp == nil {
		return nil
	}
	return resp.Data
}

// fail runs a request that must fail with an error of kind and a message
// containing want.
func (h *harness) fail(op engine.Operation, path, data string, kind error, want string) {
	h.t.Helper()
	_, err := h.do(op, path, data)
	if err == nil {
		h.t.Fatalf("%s %s %s: succeeded, want error %q", op, path, data, want)
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), want) {
		h.t.Fatalf("%s %s %s: error %v, want %v containing %q", op, path, data, err, kind, want)
	}
}

// missing asserts that a read answers nothing (404).
func (h *harness) missing(path string) {
	h.t.Helper()
	if d := h.ok(engine.OpRead, path, ""); d != nil {
		h.t.Fatalf("read %s = %v, want nothing", path, d)
	}
}

func (h *harness) login(acc, name string, meta map[string]string, groups ...string) *Entity {
	h.t.Helper()
	e, err := h.s.LoginAlias(context.Background(), acc, "userpass", "auth/userpass/", engine.Alias{Name: name, Metadata: meta}, groups)
	if err != nil {
		h.t.Fatalf("LoginAlias(%s, %s): %v", acc, name, err)
	}
	return e
}

func keys(d map[string]any) []string {
	if d == nil {
		return nil
	}
	return d["keys"].([]string)
}
