package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// The pooled HMACs give exactly HMAC-SHA256(salt, domain 0 value), for
// values of every size and from many goroutines at once.
func TestHashMatchesHMAC(t *testing.T) {
	f := newFixture(t, Options{})
	want := func(domain, value string) string {
		m := hmac.New(sha256.New, f.s.salt)
		m.Write([]byte(domain + "\x00" + value))
		return hex.EncodeToString(m.Sum(nil))
	}
	values := []string{"", "x", "ws." + strings.Repeat("a", 40), strings.Repeat("b", 600), strings.Repeat("c", 5000)}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				v := values[(i+g)%len(values)]
				for _, d := range []string{"token", "accessor"} {
					if got := f.s.hash(d, v); got != want(d, v) {
						t.Errorf("hash(%q, %d bytes) = %s, want %s", d, len(v), got, want(d, v))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if f.s.hash("token", "v") == f.s.hash("accessor", "v") {
		t.Fatal("the domains do not separate a token from an accessor")
	}
}

// A subtree wider than one storage batch is revoked whole, children first,
// and leaves nothing behind.
func TestRevokeTreeLargerThanOneBatch(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	_, p := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	var kids []*Entry
	var toks []string
	for range markBatch + 44 {
		tok, e := f.create(t, CreateParams{Parent: p.ID, Policies: []string{"c"}, TTL: time.Hour})
		kids, toks = append(kids, e), append(toks, tok)
	}
	gtok, g := f.create(t, CreateParams{Parent: kids[7].ID, Policies: []string{"g"}})
	toks = append(toks, gtok)

	if err := f.s.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if f.valid(t, tok) {
			t.Fatal("a token of the revoked subtree is still valid")
		}
	}
	got := f.log.list()
	if len(got) != len(kids)+2 {
		t.Fatalf("OnRevoke called %d times, want %d", len(got), len(kids)+2)
	}
	pos := func(id string) int { return slices.Index(got, id) }
	if pos(g.ID) > pos(kids[7].ID) || pos(p.ID) != len(got)-1 {
		t.Fatal("OnRevoke order: want children before parents, the subtree's root last")
	}
	for _, prefix := range []string{prefixID, prefixAccessor, prefixParent, prefixExpire, prefixPending} {
		keys := f.keys(t, prefix)
		if prefix == prefixID || prefix == prefixAccessor {
			if len(keys) != 1 { // the root's
				t.Fatalf("%s keys left: %d, want the root's only", prefix, len(keys))
			}
			continue
		}
		if len(keys) != 0 {
			t.Fatalf("%s keys left: %v", prefix, keys)
		}
	}
}

// OnRevoke runs under the tree lock held shared only: while one token's
// cleanup is slow, the token is already refused, and creations and uses
// of other tokens carry on. (Marking another revocation waits for it.)
func TestCleanupDoesNotBlockTheStore(t *testing.T) {
	var blockID string
	entered, release := make(chan struct{}), make(chan struct{})
	var f *fixture
	f = newFixture(t, Options{OnRevoke: func(ctx context.Context, e *Entry) error {
		if e.ID == blockID {
			close(entered)
			<-release
		}
		return f.log.onRevoke(ctx, e)
	}})
	_, root := f.root(t)
	slowTok, slow := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	_, other := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	_, limited := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 5})
	blockID = slow.ID

	done := make(chan error, 1)
	go func() { done <- f.s.Revoke(ctx, slow.ID) }()
	waitFor(t, entered, "OnRevoke of the slow token")

	if f.valid(t, slowTok) {
		t.Fatal("a token whose cleanup is running is still accepted")
	}
	ops := make(chan error, 1)
	go func() {
		if _, _, err := f.s.Create(ctx, CreateParams{Parent: root.ID, Policies: []string{"p"}}); err != nil {
			ops <- err
			return
		}
		_, err := f.s.Use(ctx, limited)
		ops <- err
	}()
	select {
	case err := <-ops:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // a deadlock guard
		t.Fatal("create and use waited for another token's cleanup")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := f.s.Revoke(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Get(ctx, prefixID+slow.ID); err == nil {
		t.Fatal("the slow token's entry is left")
	}
}

// Uses and renewals racing a revocation never write the revoked entry
// back: when everything settles the token is refused and gone.
func TestRevokeRacesUseAndRenew(t *testing.T) {
	for range 20 {
		f := newFixture(t, Options{})
		tok, e := f.create(t, CreateParams{Policies: []string{"p"}, NumUses: 1000, TTL: time.Hour, Renewable: true})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for range 30 {
					c := e.clone()
					_, _ = f.s.Use(ctx, c)
					_, _ = f.s.Renew(ctx, c, time.Hour)
				}
			})
		}
		wg.Go(func() {
			if err := f.s.Revoke(ctx, e.ID); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if f.valid(t, tok) {
			t.Fatal("token valid after its revocation")
		}
		for _, k := range f.keys(t, "") {
			if strings.Contains(k, e.ID) {
				t.Fatalf("key %q left after revocation", k)
			}
		}
	}
}

// Grandchildren created while their grandparent is revoked never outlive
// it, and leave no entry behind: each creation either fails or is revoked
// with the tree.
func TestConcurrentCreateDeepTreeAndRevoke(t *testing.T) {
	for range 10 {
		f := newFixture(t, Options{})
		_, root := f.root(t)
		_, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
		var mu sync.Mutex
		var made []string
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 10 {
					tok, c, err := f.s.Create(ctx, CreateParams{Parent: a.ID, Policies: []string{"c"}})
					if err != nil {
						return
					}
					mu.Lock()
					made = append(made, tok)
					mu.Unlock()
					if tok, _, err = f.s.Create(ctx, CreateParams{Parent: c.ID, Policies: []string{"g"}}); err == nil {
						mu.Lock()
						made = append(made, tok)
						mu.Unlock()
					}
				}
			})
		}
		wg.Go(func() {
			if err := f.s.Revoke(ctx, a.ID); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		for _, tok := range made {
			if f.valid(t, tok) {
				t.Fatal("a descendant outlived its revoked ancestor")
			}
		}
		if ids := f.keys(t, prefixID); len(ids) != 1 {
			t.Fatalf("%d entries left, want the root's only", len(ids))
		}
		if keys := f.keys(t, prefixPending); len(keys) != 0 {
			t.Fatalf("pending marks left: %v", keys)
		}
	}
}

// A child whose own revocation has begun is not made an orphan by its
// parent's revoke-orphan: it stays refused and goes with its revocation.
func TestRevokeOrphanLeavesPendingChild(t *testing.T) {
	f := newFixture(t, Options{})
	_, a := f.create(t, CreateParams{Policies: []string{"a"}})
	bTok, b := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b"}, NumUses: 1})
	if exhausted, err := f.s.Use(ctx, b); err != nil || !exhausted {
		t.Fatalf("use = %v, %v", exhausted, err)
	}
	if err := f.s.RevokeOrphan(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if f.valid(t, bTok) {
		t.Fatal("a spent child became valid")
	}
	cur, err := f.s.load(ctx, b.ID)
	if err != nil || !cur.pending() || cur.Orphan {
		t.Fatalf("pending child after revoke-orphan: %+v, %v; want it pending and untouched", cur, err)
	}
	if err := f.s.Revoke(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if keys := f.keys(t, ""); slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, b.ID) }) {
		t.Fatal("keys of the spent child left")
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// The holders of a subtree's tokens keep extending it, each new token the
// parent of the next, while the subtree's root is revoked. The revocation
// must end (it once chased the growing chains for ever) and take every
// token they made.
func TestRevokeEndsWhileSubtreeHoldersKeepCreating(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	_, p := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	const creators, head = 4, 20
	var mu sync.Mutex
	var made []string
	started := make(chan struct{}, creators)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range creators {
		wg.Go(func() {
			parent := p.ID
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				tok, e, err := f.s.Create(t.Context(), CreateParams{Parent: parent, Policies: []string{"c"}, Path: "auth/token/create"})
				if n == head {
					started <- struct{}{}
				}
				if err != nil {
					return // the chain was revoked under it
				}
				mu.Lock()
				made = append(made, tok)
				mu.Unlock()
				parent = e.ID
			}
		})
	}
	for range creators {
		<-started
	}
	done := make(chan error, 1)
	go func() { done <- f.s.Revoke(t.Context(), p.ID) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
	case <-time.After(30 * time.Second): // a deadlock guard, not a speed check
		close(stop)
		t.Fatal("Revoke has not returned after 30s while the subtree keeps growing")
	}
	wg.Wait() // every creator's next Create fails once its chain is gone
	for i, tok := range made {
		if f.valid(t, tok) {
			t.Fatalf("token %d of %d in the revoked subtree is still valid", i, len(made))
		}
	}
	if len(made) < creators*head {
		t.Fatalf("only %d tokens were made before the revocation", len(made))
	}
}

// A revocation that lost a race to another one must not finish a token
// recreated since under the same chosen ID: the new token is not cleaned
// up and stays valid.
func TestStaleRevocationSparesRecreatedToken(t *testing.T) {
	var cleaned sync.Map // accessor -> true
	f := newFixture(t, Options{OnRevoke: func(_ context.Context, e *Entry) error {
		cleaned.Store(e.Accessor, true)
		return nil
	}})
	ctx := t.Context()
	if _, err := f.s.CreateRootWithID(ctx, "chosen-token"); err != nil {
		t.Fatal(err)
	}
	id := f.s.idOf("chosen-token")
	stale, err := f.s.markTree(ctx, id) // a revocation that marked, then stalled
	if err != nil || len(stale) != 1 {
		t.Fatalf("mark: %v, %d entries", err, len(stale))
	}
	if err := f.s.Revoke(ctx, id); err != nil { // another one finishes first
		t.Fatal(err)
	}
	if _, err := f.s.CreateRootWithID(ctx, "chosen-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.finishAll(ctx, stale); err != nil { // the stalled one resumes
		t.Fatal(err)
	}
	e, err := f.s.Lookup(ctx, "chosen-token")
	if err != nil {
		t.Fatalf("the recreated token was deleted by the stale revocation: %v", err)
	}
	if _, ok := cleaned.Load(e.Accessor); ok {
		t.Fatal("the stale revocation cleaned up the recreated token")
	}
	if _, ok := cleaned.Load(stale[0].Accessor); !ok {
		t.Fatal("the first token was never cleaned up")
	}
}

// Marking a subtree is one commit: a revocation that fails to mark the
// child leaves every token as it was, none half revoked, and a retry
// revokes them all.
func TestFailedMarkingChangesNothing(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	ptok, p := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	ctok, c := f.create(t, CreateParams{Parent: p.ID, Policies: []string{"c"}})
	fail := &failingBatches{Backend: f.st, failKey: prefixPending + c.ID}
	f.s.st = fail
	fail.on.Store(true)
	if err := f.s.Revoke(t.Context(), p.ID); err == nil {
		t.Fatal("revoke succeeded with storage failing")
	}
	if !f.valid(t, ptok) || !f.valid(t, ctok) {
		t.Fatal("a failed revocation left part of the tree revoked")
	}
	fail.on.Store(false)
	if err := f.s.Revoke(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if f.valid(t, ptok) || f.valid(t, ctok) {
		t.Fatal("the retried revocation left a token valid")
	}
}

// failingBatches is storage whose batches touching failKey fail while on
// is set.
type failingBatches struct {
	storage.Backend
	failKey string
	on      atomic.Bool
}

func (f *failingBatches) Batch(ctx context.Context, ops []storage.Op) error {
	for _, op := range ops {
		if f.on.Load() && op.Key == f.failKey {
			return errors.New("storage unavailable")
		}
	}
	return storage.Batch(ctx, f.Backend, ops)
}
