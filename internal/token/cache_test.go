package token

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// A revoked token stops working the moment Revoke returns, however many
// lookups race with the revocation (a lookup that read storage before the
// revoke must not put the entry back into the cache).
func TestCacheRevokeRace(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	for range 50 {
		tok, e := f.create(t, CreateParams{Policies: []string{"p"}})
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					_, _ = f.s.Lookup(ctx, tok)
				}
			})
		}
		if err := f.s.Revoke(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if _, err := f.s.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
				t.Fatalf("lookup after revoke = %v, want ErrNotFound", err)
			}
		}
		stop.Store(true)
		wg.Wait()
		if _, err := f.s.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup after the racing lookups ended = %v", err)
		}
	}
}

// Cached entries are copies: a caller changing what Lookup returned
// changes nothing stored, and every write is seen by the next lookup.
func TestCacheCopiesAndWriteThrough(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	tok, _ := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 3, Meta: map[string]string{"k": "v"}})
	e, err := f.s.Lookup(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	e.Policies[0], e.Meta["k"], e.NumUses = "root", "x", 99
	again, err := f.s.Lookup(ctx, tok)
	if err != nil || again.Policies[0] != "p" || again.Meta["k"] != "v" || again.NumUses != 3 {
		t.Fatalf("a caller's change reached the cache: %+v, %v", again, err)
	}
	if _, err := f.s.Use(ctx, again); err != nil {
		t.Fatal(err)
	}
	if after, err := f.s.Lookup(ctx, tok); err != nil || after.NumUses != 2 {
		t.Fatalf("after one use: NumUses %d, %v; want 2", after.NumUses, err)
	}
}

// Children created concurrently while their parent is revoked never
// outlive it: each creation either fails or is revoked with the tree.
func TestConcurrentCreateUnderRevokedParent(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	_, parent := f.create(t, CreateParams{Policies: []string{"p"}})
	var mu sync.Mutex
	var children []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 30 {
				tok, _, err := f.s.Create(ctx, CreateParams{Parent: parent.ID, Path: "auth/token/create", Policies: []string{"p"}})
				if err == nil {
					mu.Lock()
					children = append(children, tok)
					mu.Unlock()
				}
			}
		})
	}
	if err := f.s.Revoke(ctx, parent.ID); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, tok := range children {
		if _, err := f.s.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a child created around its parent's revocation is still valid: %v", err)
		}
	}
}
