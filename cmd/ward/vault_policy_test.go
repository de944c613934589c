package main

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultPolicies checks ACL enforcement on tokens that carry policies,
// through the Go client.
func TestVaultPolicies(t *testing.T) {
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	ctx := context.Background()
	kv := root.KVv2("secret")
	as := func(policies ...string) *vaultapi.Client {
		t.Helper()
		tok, _ := createToken(t, root, &vaultapi.TokenCreateRequest{Policies: policies})
		return withToken(t, root, tok)
	}

	t.Run("create only", func(t *testing.T) {
		putPolicy(t, root, "svc-create", `path "secret/data/svc/*" { capabilities = ["create"] }`)
		c := as("svc-create").KVv2("secret")
		if _, err := c.Put(ctx, "svc/new", map[string]any{"k": "v1"}); err != nil {
			t.Fatalf("create a new secret: %v", err)
		}
		_, err := c.Put(ctx, "svc/new", map[string]any{"k": "v2"})
		wantStatus(t, err, 403, "permission denied")
		// As in Vault, a key that has metadata but no versions exists:
		// writing it is an update.
		if err := kv.PutMetadata(ctx, "svc/pushed", vaultapi.KVMetadataPutInput{CustomMetadata: map[string]any{"a": "b"}}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Put(ctx, "svc/pushed", map[string]any{"k": "v"})
		wantStatus(t, err, 403, "")
		// Nor can it read what it wrote.
		_, err = c.Get(ctx, "svc/new")
		wantStatus(t, err, 403, "")
		got, err := kv.Get(ctx, "svc/new")
		if err != nil || got.Data["k"] != "v1" || got.VersionMetadata.Version != 1 {
			t.Fatalf("root read = %+v, %v", got, err)
		}
		// Patch needs the patch capability.
		_, err = c.Patch(ctx, "svc/new", map[string]any{"k": "v3"})
		if err == nil {
			t.Fatal("patch without the patch capability succeeded")
		}
	})

	t.Run("globs", func(t *testing.T) {
		putPolicy(t, root, "globs", `
path "secret/data/+/shared" { capabilities = ["read"] }
path "secret/data/teams/+/db*" { capabilities = ["read"] }
path "secret/data/pre*" { capabilities = ["read"] }
`)
		for _, p := range []string{"a/shared", "b/shared", "teams/x/db", "teams/y/db-admin", "teams/y/db/deep", "prefix", "pre/fix/deep", "a/b/shared", "teams/x/cache", "other"} {
			if _, err := kv.Put(ctx, p, map[string]any{"p": p}); err != nil {
				t.Fatal(err)
			}
		}
		c := as("globs").KVv2("secret")
		for _, p := range []string{"a/shared", "b/shared", "teams/x/db", "teams/y/db-admin", "teams/y/db/deep", "prefix", "pre/fix/deep"} {
			if s, err := c.Get(ctx, p); err != nil || s.Data["p"] != p {
				t.Errorf("read %s: %v", p, err)
			}
		}
		for _, p := range []string{"a/b/shared", "teams/x/cache", "other"} {
			_, err := c.Get(ctx, p)
			wantStatus(t, err, 403, "")
		}
	})

	t.Run("deny precedence", func(t *testing.T) {
		putPolicy(t, root, "team", `
path "secret/data/team/*" { capabilities = ["read", "create", "update"] }
path "secret/data/team/locked" { capabilities = ["deny"] }
path "secret/data/*" { capabilities = ["deny"] }
path "secret/data/open" { capabilities = ["read"] }
`)
		putPolicy(t, root, "team-deny", `path "secret/data/team/*" { capabilities = ["deny"] }`)
		for _, p := range []string{"team/x", "team/locked", "open", "closed"} {
			if _, err := kv.Put(ctx, p, map[string]any{"p": p}); err != nil {
				t.Fatal(err)
			}
		}
		c := as("team").KVv2("secret")
		if _, err := c.Get(ctx, "team/x"); err != nil {
			t.Fatalf("team/x: %v", err)
		}
		_, err := c.Get(ctx, "team/locked")
		wantStatus(t, err, 403, "")
		// The more specific exact path beats the broader deny.
		if _, err := c.Get(ctx, "open"); err != nil {
			t.Fatalf("open: %v", err)
		}
		_, err = c.Get(ctx, "closed")
		wantStatus(t, err, 403, "")
		// The same pattern in two policies: deny wins.
		c = as("team", "team-deny").KVv2("secret")
		_, err = c.Get(ctx, "team/x")
		wantStatus(t, err, 403, "")
	})

	t.Run("list", func(t *testing.T) {
		putPolicy(t, root, "lister", `
path "secret/metadata/" { capabilities = ["list"] }
path "secret/metadata/svc/*" { capabilities = ["list"] }
`)
		c := as("lister")
		s, err := c.Logical().List("secret/metadata")
		if err != nil || s == nil || !slices.Contains(stringList(t, s.Data["keys"]), "svc/") {
			t.Fatalf("list metadata root = %v, %v", s, err)
		}
		s, err = c.Logical().List("secret/metadata/svc/")
		if err != nil || s == nil || !slices.Contains(stringList(t, s.Data["keys"]), "new") {
			t.Fatalf("list svc = %v, %v", s, err)
		}
		_, err = c.Logical().List("secret/metadata/team")
		wantStatus(t, err, 403, "")
		// A list is checked against the path with a trailing slash, but,
		// as in Vault, an exact pattern without the slash also grants it.
		putPolicy(t, root, "lister-noslash", `path "secret/metadata/svc" { capabilities = ["list"] }`)
		if s, err := as("lister-noslash").Logical().List("secret/metadata/svc"); err != nil || s == nil {
			t.Fatalf("list with an exact pattern without slash = %v, %v", s, err)
		}
		// A rule for a path below does not grant listing its parent.
		putPolicy(t, root, "lister-other", `path "secret/metadata/svc/x" { capabilities = ["list"] }`)
		_, err = as("lister-other").Logical().List("secret/metadata/svc")
		wantStatus(t, err, 403, "")
		// Listing does not grant reading.
		_, err = c.Logical().Read("secret/metadata/svc/new")
		wantStatus(t, err, 403, "")
	})

	t.Run("parameter constraints", func(t *testing.T) {
		if err := root.Sys().Mount("kv1", &vaultapi.MountInput{Type: "kv-v1"}); err != nil {
			t.Fatal(err)
		}
		putPolicy(t, root, "params", `
path "kv1/app" {
  capabilities       = ["create", "update"]
  allowed_parameters = { "user" = [], "env" = ["dev", "stage-*"] }
}
path "kv1/locked" {
  capabilities      = ["create", "update"]
  denied_parameters = { "admin" = [] }
}`)
		c := as("params").Logical()
		if _, err := c.Write("kv1/app", map[string]any{"user": "u", "env": "stage-2"}); err != nil {
			t.Fatalf("allowed write: %v", err)
		}
		_, err := c.Write("kv1/app", map[string]any{"user": "u", "pass": "p"})
		wantStatus(t, err, 403, "")
		_, err = c.Write("kv1/app", map[string]any{"env": "prod"})
		wantStatus(t, err, 403, "")
		if _, err := c.Write("kv1/locked", map[string]any{"user": "u"}); err != nil {
			t.Fatalf("write without the denied parameter: %v", err)
		}
		_, err = c.Write("kv1/locked", map[string]any{"admin": "yes"})
		wantStatus(t, err, 403, "")
	})

	t.Run("sudo", func(t *testing.T) {
		putPolicy(t, root, "rotator", `path "sys/rotate" { capabilities = ["update"] }`)
		putPolicy(t, root, "rotator-sudo", `path "sys/rotate" { capabilities = ["update", "sudo"] }`)
		wantStatus(t, as("rotator").Sys().Rotate(), 403, "")
		if err := as("rotator-sudo").Sys().Rotate(); err != nil {
			t.Fatalf("rotate with sudo: %v", err)
		}
		// Policy management itself needs a grant.
		err := as("default").Sys().PutPolicy("mine", `path "x" { capabilities = ["read"] }`)
		wantStatus(t, err, 403, "")
	})

	t.Run("default policy", func(t *testing.T) {
		c := as("default")
		caps, err := c.Sys().CapabilitiesSelf("cubbyhole/foo")
		slices.Sort(caps)
		if err != nil || !reflect.DeepEqual(caps, []string{"create", "delete", "list", "read", "update"}) {
			t.Fatalf("default caps on cubbyhole = %v, %v", caps, err)
		}
		_, err = c.KVv2("secret").Get(ctx, "open")
		wantStatus(t, err, 403, "")
	})
}

// TestVaultCubbyhole checks that each token's cubbyhole is private and is
// destroyed with the token.
func TestVaultCubbyhole(t *testing.T) {
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	a := withToken(t, root, mustCreateID(t, root, "cubby-a"))
	b := withToken(t, root, mustCreateID(t, root, "cubby-b"))

	if _, err := a.Logical().Write("cubbyhole/note", map[string]any{"secret": "only-a"}); err != nil {
		t.Fatal(err)
	}
	s, err := a.Logical().Read("cubbyhole/note")
	if err != nil || s == nil || s.Data["secret"] != "only-a" {
		t.Fatalf("a reads own cubbyhole = %v, %v", s, err)
	}
	l, err := a.Logical().List("cubbyhole")
	if err != nil || l == nil || !reflect.DeepEqual(stringList(t, l.Data["keys"]), []string{"note"}) {
		t.Fatalf("a lists cubbyhole = %v, %v", l, err)
	}
	for name, c := range map[string]*vaultapi.Client{"b": b, "root": root} {
		s, err := c.Logical().Read("cubbyhole/note")
		if err != nil || s != nil {
			t.Fatalf("%s reads a's cubbyhole = %v, %v", name, s, err)
		}
		l, err := c.Logical().List("cubbyhole")
		if err != nil || l != nil {
			t.Fatalf("%s lists a's cubbyhole = %v, %v", name, l, err)
		}
	}
	// b's writes stay in b's cubbyhole.
	if _, err := b.Logical().Write("cubbyhole/note", map[string]any{"secret": "only-b"}); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Logical().Read("cubbyhole/note"); s == nil || s.Data["secret"] != "only-a" {
		t.Fatalf("a's note after b wrote = %v", s)
	}
	if _, err := a.Logical().Delete("cubbyhole/note"); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.Logical().Read("cubbyhole/note"); s == nil || s.Data["secret"] != "only-b" {
		t.Fatalf("b's note after a deleted = %v", s)
	}

	// Revoking b destroys its cubbyhole: a new token with the same ID
	// starts empty.
	if err := root.Auth().Token().RevokeTree("cubby-b"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Logical().Read("cubbyhole/note")
	wantStatus(t, err, 403, "")
	b2 := withToken(t, root, mustCreateID(t, root, "cubby-b"))
	s, err = b2.Logical().Read("cubbyhole/note")
	if err != nil || s != nil {
		t.Fatalf("re-created token sees the old cubbyhole: %v, %v", s, err)
	}
	var re *vaultapi.ResponseError
	if _, err := b2.Logical().Write("cubbyhole/empty", map[string]any{}); !errors.As(err, &re) || re.StatusCode != 400 {
		t.Fatalf("empty cubbyhole write: %v", err)
	}
}

// mustCreateID creates a token with a chosen ID (root only) and the
// default policy.
func mustCreateID(t testing.TB, root *vaultapi.Client, id string) string {
	t.Helper()
	tok, _ := createToken(t, root, &vaultapi.TokenCreateRequest{ID: id, Policies: []string{"default"}})
	if tok != id {
		t.Fatalf("created token %q, want %q", tok, id)
	}
	return tok
}
