package token

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

var ctx = context.Background()

func TestTokenFormat(t *testing.T) {
	f := newFixture(t, Options{})
	seen := map[string]bool{}
	for range 20 {
		tok, e := f.create(t, CreateParams{Policies: []string{"p"}})
		rest, ok := strings.CutPrefix(tok, "ws.")
		if !ok || len(rest) != 40 || strings.Trim(rest, base62) != "" {
			t.Fatalf("token %q is not ws. + 40 base62 characters", tok)
		}
		if len(e.Accessor) != 24 || strings.Trim(e.Accessor, base62) != "" {
			t.Fatalf("accessor %q is not 24 base62 characters", e.Accessor)
		}
		if seen[tok] || seen[e.Accessor] {
			t.Fatal("repeated token or accessor")
		}
		seen[tok], seen[e.Accessor] = true, true
	}
}

func TestTokensNeverStoredInPlaintext(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	tokens := []string{rootTok}
	var accessors []string
	for i := range 5 {
		p := CreateParams{Parent: root.ID, Policies: []string{"p"}, NumUses: i, Meta: map[string]string{"k": "v"}, Renewable: true}
		if i == 4 {
			p.ID = "customTokenValue42"
		}
		tok, e := f.create(t, p)
		tokens = append(tokens, tok)
		accessors = append(accessors, e.Accessor)
		if _, err := f.s.Renew(ctx, e, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := f.s.Lookup(ctx, tokens[2])
	if _, err := f.s.Use(ctx, e); err != nil {
		t.Fatal(err)
	}
	for _, k := range f.keys(t, "") {
		v, err := f.st.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if strings.Contains(k, tok) || bytes.Contains(v, []byte(tok)) {
				t.Fatalf("token found in storage under %q", k)
			}
			// The random part alone must not appear either.
			if r := strings.TrimPrefix(tok, "ws."); strings.Contains(k, r) || bytes.Contains(v, []byte(r)) {
				t.Fatalf("token body found in storage under %q", k)
			}
		}
		for _, a := range accessors {
			if strings.Contains(k, a) {
				t.Fatalf("accessor %q stored in a key (%q); keys must hold only its HMAC", a, k)
			}
		}
	}
}

func TestSaltPersistsAcrossOpens(t *testing.T) {
	st := inmem.New()
	s1, err := New(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s1.Create(ctx, CreateParams{Policies: []string{"p"}})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Lookup(ctx, tok); err != nil {
		t.Fatalf("token not found after reopening: %v", err)
	}
	other, err := New(ctx, inmem.New(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if other.idOf(tok) == s1.idOf(tok) {
		t.Fatal("two clusters derived the same ID: salt is not per cluster")
	}
}

func TestLookupUnknown(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tok := range []string{"", "ws.nope", "../../salt"} {
		if _, err := f.s.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrNotFound", tok, err)
		}
	}
	for _, id := range []string{"", "salt", "../salt", strings.Repeat("g", 64)} {
		if _, err := f.s.LookupID(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupID(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := f.s.LookupAccessor(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookupAccessor = %v", err)
	}
	// Returned unchanged to a client, it is a 403 that names nothing.
	if !errors.Is(ErrNotFound, engine.ErrPermissionDenied) || ErrNotFound.Error() != "permission denied" {
		t.Errorf("ErrNotFound = %v, want a permission-denied engine error", ErrNotFound)
	}
}

func TestRevokeTree(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	aTok, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
	bTok, b := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b"}})
	cTok, c := f.create(t, CreateParams{Parent: b.ID, Policies: []string{"c"}, TTL: time.Hour})
	b2Tok, b2 := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b2"}})
	sibTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"s"}})

	if err := f.s.Revoke(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{aTok, bTok, cTok, b2Tok} {
		if f.valid(t, tok) {
			t.Fatal("a token below the revoked one survived")
		}
	}
	if !f.valid(t, rootTok) || !f.valid(t, sibTok) {
		t.Fatal("revoking a subtree revoked something outside it")
	}
	// Children before parents: c before b, b and b2 before a.
	got := f.log.list()
	pos := func(id string) int { return slices.Index(got, id) }
	if len(got) != 4 || pos(c.ID) > pos(b.ID) || pos(b.ID) > pos(a.ID) || pos(b2.ID) > pos(a.ID) {
		t.Fatalf("OnRevoke order = %v; want children first", got)
	}
	// Nothing of the subtree is left in storage.
	for _, k := range f.keys(t, "") {
		for _, e := range []*Entry{a, b, c, b2} {
			if strings.Contains(k, e.ID) {
				t.Fatalf("key %q left behind", k)
			}
		}
	}
	if err := f.s.Revoke(ctx, a.ID); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
}

func TestRevokeOrphanKeepsChildren(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	aTok, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
	bTok, b := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"b"}})
	cTok, _ := f.create(t, CreateParams{Parent: b.ID, Policies: []string{"c"}})

	if err := f.s.RevokeOrphan(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if f.valid(t, aTok) || !f.valid(t, bTok) || !f.valid(t, cTok) {
		t.Fatal("revoke-orphan: want a revoked, b and c valid")
	}
	nb, _ := f.s.Lookup(ctx, bTok)
	if nb.Parent != "" || !nb.Orphan {
		t.Fatalf("b after revoke-orphan: parent %q orphan %v", nb.Parent, nb.Orphan)
	}
	if got := f.log.list(); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("OnRevoke called for %v, want only a", got)
	}
	// c is still b's child.
	if err := f.s.Revoke(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if f.valid(t, cTok) {
		t.Fatal("c survived revoking b")
	}
	if err := f.s.RevokeOrphan(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke-orphan of a revoked token = %v", err)
	}
}

func TestAccessors(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	tok, e := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	childTok, _ := f.create(t, CreateParams{Parent: e.ID, Policies: []string{"p"}})

	got, err := f.s.LookupAccessor(ctx, e.Accessor)
	if err != nil || got.ID != e.ID {
		t.Fatalf("LookupAccessor = %v, %v", got, err)
	}
	list, err := f.s.Accessors(ctx)
	if err != nil || len(list) != 3 || !slices.Contains(list, e.Accessor) || !slices.IsSorted(list) {
		t.Fatalf("Accessors = %v, %v", list, err)
	}
	if err := f.s.RevokeAccessor(ctx, e.Accessor); err != nil {
		t.Fatal(err)
	}
	if f.valid(t, tok) || f.valid(t, childTok) {
		t.Fatal("revoke by accessor left the token or its child valid")
	}
	if _, err := f.s.LookupAccessor(ctx, e.Accessor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LookupAccessor after revoke = %v", err)
	}
	if err := f.s.RevokeAccessor(ctx, e.Accessor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RevokeAccessor of unknown = %v", err)
	}
	if list, _ := f.s.Accessors(ctx); len(list) != 1 || list[0] != root.Accessor {
		t.Fatalf("Accessors after revoke = %v", list)
	}
}

func TestCreateTTLRules(t *testing.T) {
	f := newFixture(t, Options{MaxTTL: 10 * time.Hour, DefaultTTL: 2 * time.Hour})
	now := f.clock.Now()
	tests := []struct {
		name string
		p    CreateParams
		ttl  time.Duration // 0: never expires
	}{
		{"default", CreateParams{Policies: []string{"p"}}, 2 * time.Hour},
		{"asked", CreateParams{Policies: []string{"p"}, TTL: time.Hour}, time.Hour},
		{"capped at max", CreateParams{Policies: []string{"p"}, TTL: 100 * time.Hour}, 10 * time.Hour},
		{"explicit max caps", CreateParams{Policies: []string{"p"}, TTL: 5 * time.Hour, ExplicitMaxTTL: 3 * time.Hour}, 3 * time.Hour},
		{"period", CreateParams{Policies: []string{"p"}, Period: 30 * time.Minute, TTL: 5 * time.Hour}, 30 * time.Minute},
		{"period capped", CreateParams{Policies: []string{"p"}, Period: 30 * time.Hour}, 10 * time.Hour},
		{"root never expires", CreateParams{Policies: []string{"root"}}, 0},
		{"root with ttl", CreateParams{Policies: []string{"root"}, TTL: time.Hour}, time.Hour},
		{"root with explicit max", CreateParams{Policies: []string{"root"}, ExplicitMaxTTL: 4 * time.Hour}, 4 * time.Hour},
	}
	for _, tt := range tests {
		_, e := f.create(t, tt.p)
		if e.CreationTTL != tt.ttl {
			t.Errorf("%s: creation TTL %v, want %v", tt.name, e.CreationTTL, tt.ttl)
		}
		want := time.Time{}
		if tt.ttl > 0 {
			want = now.Add(tt.ttl)
		}
		if !e.ExpireTime.Equal(want) {
			t.Errorf("%s: expire time %v, want %v", tt.name, e.ExpireTime, want)
		}
	}
}

func TestCreatePolicies(t *testing.T) {
	f := newFixture(t, Options{})
	_, e := f.create(t, CreateParams{Policies: []string{" Dev", "ops", "dev", ""}})
	if !slices.Equal(e.Policies, []string{"dev", "ops"}) {
		t.Fatalf("policies %v", e.Policies)
	}
	_, e = f.create(t, CreateParams{Policies: []string{"dev", "root"}})
	if !slices.Equal(e.Policies, []string{"root"}) {
		t.Fatalf("policies with root %v", e.Policies)
	}
}

func TestCustomID(t *testing.T) {
	f := newFixture(t, Options{})
	tok, e := f.create(t, CreateParams{ID: "my-Token_1", Policies: []string{"p"}})
	if tok != "my-Token_1" || e.ID != f.s.idOf("my-Token_1") {
		t.Fatalf("custom id: token %q", tok)
	}
	if !f.valid(t, "my-Token_1") {
		t.Fatal("custom token not valid")
	}
	_, _, err := f.s.Create(ctx, CreateParams{ID: "my-Token_1", Policies: []string{"p"}})
	errorIs(t, err, engine.ErrInvalidRequest, "already exists")
	for _, id := range []string{"a.b", "a b", "tab\t", "é", "\x01", strings.Repeat("x", 129)} {
		_, _, err := f.s.Create(ctx, CreateParams{ID: id, Policies: []string{"p"}})
		errorIs(t, err, engine.ErrInvalidRequest, "invalid id")
	}
	if _, _, err := f.s.Create(ctx, CreateParams{ID: strings.Repeat("x", 128), Policies: []string{"p"}}); err != nil {
		t.Fatalf("128-character id: %v", err)
	}
	_, _, err = f.s.Create(ctx, CreateParams{Policies: []string{"p"}, NumUses: -1})
	errorIs(t, err, engine.ErrInvalidRequest, "negative")
}

func TestCreateUnderRevokedParent(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	_, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"a"}})
	if err := f.s.Revoke(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.Create(ctx, CreateParams{Parent: a.ID, Policies: []string{"a"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("create under revoked parent = %v, want ErrNotFound", err)
	}
}

func TestCreateRootWithIDAndOrphanParam(t *testing.T) {
	f := newFixture(t, Options{})
	tok, err := f.s.CreateRootWithID(ctx, "root")
	if err != nil || tok != "root" {
		t.Fatalf("CreateRootWithID = %q, %v", tok, err)
	}
	e, err := f.s.Lookup(ctx, "root")
	if err != nil || !e.IsRoot() || !e.ExpireTime.IsZero() || e.Path != "auth/token/root" || !e.Orphan {
		t.Fatalf("dev root entry = %+v, %v", e, err)
	}
	if _, err := f.s.CreateRootWithID(ctx, "bad.id"); err == nil {
		t.Fatal("CreateRootWithID accepted an invalid id")
	}
	_, w := f.create(t, CreateParams{Parent: e.ID, Orphan: true, Policies: []string{"response-wrapping"}, NumUses: 1, TTL: time.Minute})
	if w.Parent != "" || !w.Orphan {
		t.Fatalf("Orphan param: parent %q orphan %v", w.Parent, w.Orphan)
	}
	if err := f.s.Revoke(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.LookupID(ctx, w.ID); err != nil {
		t.Fatal("orphan revoked with the token it was not filed under")
	}
}
