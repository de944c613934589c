package token

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func TestExpiryAndTidy(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	aTok, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}, TTL: time.Hour})
	// The child asks for longer but dies with its parent.
	bTok, _ := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b"}, TTL: 5 * time.Hour})
	otherTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"o"}, TTL: 3 * time.Hour})

	f.clock.Advance(59 * time.Minute)
	if n, err := f.s.Tidy(ctx); n != 0 || err != nil {
		t.Fatalf("Tidy before expiry = %d, %v", n, err)
	}
	e, err := f.s.Lookup(ctx, aTok)
	if err != nil || e.TTL(f.clock.Now()) != time.Minute {
		t.Fatalf("lookup before expiry: %v ttl %v", err, e.TTL(f.clock.Now()))
	}

	f.clock.Advance(time.Minute)
	if n, err := f.s.Tidy(ctx); n != 2 || err != nil {
		t.Fatalf("Tidy at expiry = %d, %v; want the token and its child", n, err)
	}
	if f.valid(t, aTok) || f.valid(t, bTok) || !f.valid(t, otherTok) {
		t.Fatal("wrong tokens revoked at expiry")
	}
	if len(f.log.list()) != 2 {
		t.Fatalf("OnRevoke calls %d, want 2", len(f.log.list()))
	}
	// Only the other token's expiry key is left.
	if keys := f.keys(t, "expire/"); len(keys) != 1 {
		t.Fatalf("expire keys left: %v", keys)
	}
}

func TestExpiredTokenRevokedOnLookup(t *testing.T) {
	f := newFixture(t, Options{})
	tok, e := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Minute})
	f.clock.Advance(time.Minute)
	if f.valid(t, tok) {
		t.Fatal("expired token accepted")
	}
	if got := f.log.list(); len(got) != 1 || got[0] != e.ID {
		t.Fatalf("expired token not revoked on lookup: %v", got)
	}
	if keys := f.keys(t, ""); len(keys) != 1 || keys[0] != "salt" {
		t.Fatalf("storage after lazy revoke: %v", keys)
	}
}

// countingStorage counts calls, to show that Tidy is cheap when idle.
type countingStorage struct {
	storage.Backend
	gets, lists atomic.Int64
}

func (c *countingStorage) Get(ctx context.Context, k string) ([]byte, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, k)
}

func (c *countingStorage) List(ctx context.Context, p string) ([]string, error) {
	c.lists.Add(1)
	return c.Backend.List(ctx, p)
}

func TestTidyCheapWhenNothingDue(t *testing.T) {
	cs := &countingStorage{Backend: inmem.New()}
	clk := newClock()
	s, err := New(ctx, cs, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, _, err := s.Create(ctx, CreateParams{Policies: []string{"p"}, TTL: time.Duration(i+2) * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	cs.gets.Store(0)
	cs.lists.Store(0)
	if n, err := s.Tidy(ctx); n != 0 || err != nil {
		t.Fatalf("Tidy = %d, %v", n, err)
	}
	if g, l := cs.gets.Load(), cs.lists.Load(); g != 0 || l > 3 {
		t.Fatalf("idle Tidy did %d gets and %d lists", g, l)
	}
}

func TestNumUses(t *testing.T) {
	f := newFixture(t, Options{})
	tok, _ := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 2})
	e, _ := f.s.Lookup(ctx, tok)
	if exhausted, err := f.s.Use(ctx, e); exhausted || err != nil || e.NumUses != 1 {
		t.Fatalf("first use: %v %v, %d left", exhausted, err, e.NumUses)
	}
	e, _ = f.s.Lookup(ctx, tok)
	if e.NumUses != 1 {
		t.Fatalf("uses not persisted: %d", e.NumUses)
	}
	if exhausted, err := f.s.Use(ctx, e); !exhausted || err != nil {
		t.Fatalf("last use: %v %v", exhausted, err)
	}
	if f.valid(t, tok) {
		t.Fatal("exhausted token still accepted")
	}
	if _, err := f.s.Use(ctx, e); !errors.Is(err, ErrNotFound) {
		t.Fatalf("use after exhaustion = %v", err)
	}
	// Core revokes once the request is done.
	if err := f.s.Revoke(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if keys := f.keys(t, ""); len(keys) != 1 {
		t.Fatalf("storage after revoke: %v", keys)
	}

	// Unlimited tokens are untouched.
	tok, _ = f.create(t, CreateParams{Policies: []string{"p"}})
	e, _ = f.s.Lookup(ctx, tok)
	for range 3 {
		if exhausted, err := f.s.Use(ctx, e); exhausted || err != nil {
			t.Fatalf("unlimited use: %v %v", exhausted, err)
		}
	}
}

func TestExhaustedTokenTidiedAfterGrace(t *testing.T) {
	f := newFixture(t, Options{})
	tok, _ := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 1})
	e, _ := f.s.Lookup(ctx, tok)
	if exhausted, _ := f.s.Use(ctx, e); !exhausted {
		t.Fatal("not exhausted")
	}
	// The request that spent the last use may still be running.
	if n, _ := f.s.Tidy(ctx); n != 0 {
		t.Fatal("Tidy revoked a token whose last request may still run")
	}
	f.clock.Advance(pendingGrace)
	if n, err := f.s.Tidy(ctx); n != 1 || err != nil {
		t.Fatalf("Tidy after grace = %d, %v", n, err)
	}
}

func TestConcurrentLastUse(t *testing.T) {
	f := newFixture(t, Options{})
	tok, _ := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 1})
	var wg sync.WaitGroup
	var exhausted, denied atomic.Int64
	// Eight requests all pass lookup, then race to spend the one use.
	var entries []*Entry
	for range 8 {
		e, err := f.s.Lookup(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	for _, e := range entries {
		wg.Go(func() {
			ok, err := f.s.Use(ctx, e)
			switch {
			case ok:
				exhausted.Add(1)
			case errors.Is(err, ErrNotFound):
				denied.Add(1)
			}
		})
	}
	wg.Wait()
	if exhausted.Load() != 1 || denied.Load() != 7 {
		t.Fatalf("exhausted %d denied %d; want exactly one use", exhausted.Load(), denied.Load())
	}
}

func TestConcurrentCreateAndRevoke(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	_, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
	var mu sync.Mutex
	var children []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				tok, _, err := f.s.Create(ctx, CreateParams{Parent: a.ID, Policies: []string{"a"}})
				if err == nil {
					mu.Lock()
					children = append(children, tok)
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() {
		time.Sleep(time.Millisecond)
		if err := f.s.Revoke(ctx, a.ID); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for _, c := range children {
		if f.valid(t, c) {
			t.Fatal("a child outlived its revoked parent")
		}
	}
}

func TestRenew(t *testing.T) {
	f := newFixture(t, Options{MaxTTL: 10 * time.Hour})
	tok, e := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Hour, Renewable: true})

	f.clock.Advance(30 * time.Minute)
	e, err := f.s.Renew(ctx, e, 0)
	if err != nil || !e.ExpireTime.Equal(f.clock.Now().Add(time.Hour)) || !e.LastRenewal.Equal(f.clock.Now()) {
		t.Fatalf("renew without increment: %v, expires %v", err, e.ExpireTime)
	}
	e, _ = f.s.Renew(ctx, e, 3*time.Hour)
	if !e.ExpireTime.Equal(f.clock.Now().Add(3 * time.Hour)) {
		t.Fatalf("renew by 3h: expires %v", e.ExpireTime)
	}
	// Never past creation + max TTL.
	e, _ = f.s.Renew(ctx, e, 100*time.Hour)
	if !e.ExpireTime.Equal(e.CreationTime.Add(10 * time.Hour)) {
		t.Fatalf("renew capped: expires %v, want creation+10h", e.ExpireTime)
	}
	// The old expiry index key is gone: only one remains.
	if keys := f.keys(t, "expire/"); len(keys) != 1 {
		t.Fatalf("expire keys after renewals: %v", keys)
	}
	f.clock.Advance(9*time.Hour + 30*time.Minute)
	if _, err := f.s.Renew(ctx, e, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renew of expired token = %v", err)
	}
	if f.valid(t, tok) {
		t.Fatal("token valid past max TTL")
	}
}

func TestRenewPeriodicAndExplicitMax(t *testing.T) {
	f := newFixture(t, Options{})
	_, p := f.create(t, CreateParams{Policies: []string{"p"}, Period: time.Hour, Renewable: true})
	// A periodic token outlives the max TTL as long as it is renewed.
	for range 40 {
		f.clock.Advance(50 * time.Minute)
		var err error
		if p, err = f.s.Renew(ctx, p, 5*time.Hour); err != nil {
			t.Fatal(err)
		}
		if !p.ExpireTime.Equal(f.clock.Now().Add(time.Hour)) {
			t.Fatalf("periodic renew: expires %v, want now+period", p.ExpireTime)
		}
	}

	_, m := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Hour, ExplicitMaxTTL: 90 * time.Minute, Renewable: true})
	f.clock.Advance(50 * time.Minute)
	m, err := f.s.Renew(ctx, m, time.Hour)
	if err != nil || !m.ExpireTime.Equal(m.CreationTime.Add(90*time.Minute)) {
		t.Fatalf("explicit max: %v, expires %v", err, m.ExpireTime)
	}

	_, n := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Hour, Renewable: false})
	_, err = f.s.Renew(ctx, n, 0)
	errorIs(t, err, engine.ErrInvalidRequest, "not renewable")

	_, r := f.create(t, CreateParams{Policies: []string{"root"}})
	if r2, err := f.s.Renew(ctx, r, time.Hour); err != nil || !r2.ExpireTime.IsZero() {
		t.Fatalf("renew of a non-expiring token: %v, %v", r2, err)
	}
}

func TestFailedRevocationStaysPending(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	aTok, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
	bTok, _ := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b"}})
	f.log.fail = errors.New("lease backend down")
	err := f.s.Revoke(ctx, a.ID)
	if err == nil || !strings.Contains(err.Error(), "lease backend down") {
		t.Fatalf("Revoke = %v, want the OnRevoke error", err)
	}
	if strings.Contains(err.Error(), aTok) || strings.Contains(err.Error(), bTok) {
		t.Fatal("error names a token")
	}
	if f.valid(t, aTok) || f.valid(t, bTok) {
		t.Fatal("tokens still accepted after a failed revocation")
	}
	f.log.fail = nil
	f.clock.Advance(pendingGrace)
	if n, err := f.s.Tidy(ctx); n != 2 || err != nil {
		t.Fatalf("Tidy finishing the revocation = %d, %v", n, err)
	}
	if keys := f.keys(t, "pending/"); len(keys) != 0 {
		t.Fatalf("pending keys left: %v", keys)
	}
}

func TestTidyDropsDanglingIndexes(t *testing.T) {
	f := newFixture(t, Options{})
	_, e := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Minute})
	// Simulate a crash that lost the entry but not its indexes.
	if err := f.st.Delete(ctx, prefixID+e.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Put(ctx, prefixPending+strings.Repeat("0", 64), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.s.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := f.keys(t, "expire/"); len(keys) != 0 {
		t.Fatalf("dangling expire keys left: %v", keys)
	}
	if keys := f.keys(t, "pending/"); len(keys) != 0 {
		t.Fatalf("dangling pending keys left: %v", keys)
	}
}
