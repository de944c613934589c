package main

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultWrapping checks response wrapping through the Go client.
func TestVaultWrapping(t *testing.T) {
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if _, err := root.KVv2("secret").Put(context.Background(), "wrapped", map[string]any{"pw": "s3cret"}); err != nil {
		t.Fatal(err)
	}
	// wrapping returns a client that asks for wrapping on every request.
	wrapping := func(ttl string) *vaultapi.Client {
		c := withToken(t, root, "root")
		c.SetWrappingLookupFunc(func(string, string) string { return ttl })
		return c
	}
	checkWrapInfo := func(t *testing.T, s *vaultapi.Secret, path string, ttl int) *vaultapi.SecretWrapInfo {
		t.Helper()
		if s == nil || s.WrapInfo == nil {
			t.Fatalf("no wrap_info in %+v", s)
		}
		w := s.WrapInfo
		if w.Token == "" || w.Accessor == "" || w.TTL != ttl || w.CreationPath != path ||
			time.Since(w.CreationTime) > time.Minute || time.Since(w.CreationTime) < -time.Minute {
			t.Fatalf("wrap_info = %+v, want path %q ttl %d", w, path, ttl)
		}
		if s.Data != nil || s.Auth != nil {
			t.Fatalf("wrapped response leaks data %v / auth %v", s.Data, s.Auth)
		}
		return w
	}

	t.Run("wrap a read and unwrap once", func(t *testing.T) {
		s, err := wrapping("2m").Logical().Read("secret/data/wrapped")
		if err != nil {
			t.Fatal(err)
		}
		w := checkWrapInfo(t, s, "secret/data/wrapped", 120)
		if w.WrappedAccessor != "" {
			t.Fatalf("wrapped data response has wrapped_accessor %q", w.WrappedAccessor)
		}
		// The wrapping token is a short-lived single-use token.
		l, err := root.Auth().Token().Lookup(w.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l.Data["policies"], []any{"response-wrapping"}) || l.Data["num_uses"] != json.Number("1") {
			t.Fatalf("wrapping token lookup = %v", l.Data)
		}

		// Unwrap with the token in the body (client has its own token).
		u, err := root.Logical().Unwrap(w.Token)
		if err != nil {
			t.Fatal(err)
		}
		inner, _ := u.Data["data"].(map[string]any)
		if inner["pw"] != "s3cret" || u.Data["metadata"] == nil {
			t.Fatalf("unwrapped = %+v", u.Data)
		}
		// A second unwrap fails.
		_, err = root.Logical().Unwrap(w.Token)
		wantStatus(t, err, 400, "wrapping token is not valid or does not exist")
	})

	t.Run("unwrap with the wrapping token as client token", func(t *testing.T) {
		s, err := wrapping("60").Logical().Read("secret/data/wrapped")
		if err != nil {
			t.Fatal(err)
		}
		w := checkWrapInfo(t, s, "secret/data/wrapped", 60)
		// Looking the token up with itself does not spend its one use.
		for i := 0; i < 2; i++ {
			l, err := vaultClient(t, srv.Addr, w.Token).Logical().Write("sys/wrapping/lookup", nil)
			if err != nil || l.Data["creation_path"] != "secret/data/wrapped" {
				t.Fatalf("self lookup %d = %v, %v", i, l, err)
			}
		}
		// Nor may it do anything else than unwrap.
		_, err = vaultClient(t, srv.Addr, w.Token).Logical().Write("sys/wrapping/rewrap", nil)
		wantStatus(t, err, 403, "")
		anon := vaultClient(t, srv.Addr, "")
		u, err := anon.Logical().Unwrap(w.Token)
		if err != nil {
			t.Fatal(err)
		}
		if inner, _ := u.Data["data"].(map[string]any); inner["pw"] != "s3cret" {
			t.Fatalf("unwrapped = %+v", u.Data)
		}
		_, err = vaultClient(t, srv.Addr, "").Logical().Unwrap(w.Token)
		if err == nil {
			t.Fatal("second unwrap with the token as client token succeeded")
		}
	})

	t.Run("sys/wrapping/wrap", func(t *testing.T) {
		// The Go client sets a 5m wrap TTL for this path by itself.
		s, err := root.Logical().Write("sys/wrapping/wrap", map[string]any{"hello": "world", "n": 3})
		if err != nil {
			t.Fatal(err)
		}
		w := checkWrapInfo(t, s, "sys/wrapping/wrap", 300)

		// lookup shows the creation facts without using the token.
		l, err := root.Logical().Write("sys/wrapping/lookup", map[string]any{"token": w.Token})
		if err != nil {
			t.Fatal(err)
		}
		if l.Data["creation_path"] != "sys/wrapping/wrap" || l.Data["creation_ttl"] != json.Number("300") {
			t.Fatalf("lookup = %v", l.Data)
		}
		if ct, ok := l.Data["creation_time"].(string); !ok {
			t.Fatalf("creation_time = %#v", l.Data["creation_time"])
		} else if _, err := time.Parse(time.RFC3339Nano, ct); err != nil {
			t.Fatalf("creation_time %q: %v", ct, err)
		}
		// lookup is unauthenticated.
		if l, err := vaultClient(t, srv.Addr, "").Logical().Write("sys/wrapping/lookup", map[string]any{"token": w.Token}); err != nil || l.Data["creation_path"] != "sys/wrapping/wrap" {
			t.Fatalf("unauthenticated lookup = %v, %v", l, err)
		}

		// rewrap gives a new token; the old one dies.
		r, err := root.Logical().Write("sys/wrapping/rewrap", map[string]any{"token": w.Token})
		if err != nil {
			t.Fatal(err)
		}
		w2 := checkWrapInfo(t, r, "sys/wrapping/wrap", 300)
		if w2.Token == w.Token {
			t.Fatal("rewrap returned the same token")
		}
		_, err = root.Logical().Unwrap(w.Token)
		wantStatus(t, err, 400, "wrapping token is not valid")
		u, err := root.Logical().Unwrap(w2.Token)
		if err != nil {
			t.Fatal(err)
		}
		if u.Data["hello"] != "world" || u.Data["n"] != json.Number("3") {
			t.Fatalf("unwrapped = %v", u.Data)
		}

		// Without a wrap TTL the endpoint refuses.
		raw := rawCall(t, "POST", srv.Addr, "sys/wrapping/wrap", "root", []byte(`{"a":"b"}`))
		if raw.Status != 400 || !containsAny(raw.Errors(t), "response wrapping") {
			t.Fatalf("wrap without TTL: %d %s", raw.Status, raw.Body)
		}
		raw = rawCall(t, "POST", srv.Addr, "sys/wrapping/wrap", "root", []byte(`{"a":"b"}`), "X-Vault-Wrap-TTL", "-5m")
		if raw.Status != 400 {
			t.Fatalf("negative wrap TTL: %d %s", raw.Status, raw.Body)
		}
		raw = rawCall(t, "POST", srv.Addr, "sys/wrapping/wrap", "root", []byte(`{"a":"b"}`), "X-Vault-Wrap-TTL", "later")
		if raw.Status != 400 {
			t.Fatalf("malformed wrap TTL: %d %s", raw.Status, raw.Body)
		}
	})

	t.Run("wrapped token create", func(t *testing.T) {
		c := wrapping("90s")
		s, err := c.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"default"}, TTL: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		w := checkWrapInfo(t, s, "auth/token/create", 90)
		if w.WrappedAccessor == "" {
			t.Fatal("wrapped token create lacks wrapped_accessor")
		}
		u, err := root.Logical().Unwrap(w.Token)
		if err != nil {
			t.Fatal(err)
		}
		if u.Auth == nil || u.Auth.ClientToken == "" || u.Auth.Accessor != w.WrappedAccessor || u.Auth.LeaseDuration != 3600 {
			t.Fatalf("unwrapped auth = %+v (wrapped accessor %q)", u.Auth, w.WrappedAccessor)
		}
		// The unwrapped token works.
		if _, err := withToken(t, root, u.Auth.ClientToken).Auth().Token().LookupSelf(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("hand-off between default tokens", func(t *testing.T) {
		// The secret-zero flow: one workload wraps, another unwraps; the
		// default policy allows both.
		sender, _ := createToken(t, root, &vaultapi.TokenCreateRequest{Policies: []string{"default"}})
		receiver, _ := createToken(t, root, &vaultapi.TokenCreateRequest{Policies: []string{"default"}})
		s, err := withToken(t, root, sender).Logical().Write("sys/wrapping/wrap", map[string]any{"api_key": "k-123"})
		if err != nil {
			t.Fatal(err)
		}
		w := checkWrapInfo(t, s, "sys/wrapping/wrap", 300)
		u, err := withToken(t, root, receiver).Logical().Unwrap(w.Token)
		if err != nil || u.Data["api_key"] != "k-123" {
			t.Fatalf("unwrap by another token = %+v, %v", u, err)
		}
	})

	t.Run("policy wrapping ttl bounds", func(t *testing.T) {
		putPolicy(t, root, "wrap-bounds", `
path "secret/data/wrapped" {
  capabilities     = ["read"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "10m"
}`)
		tok, _ := createToken(t, root, &vaultapi.TokenCreateRequest{Policies: []string{"wrap-bounds"}})
		c := withToken(t, root, tok)
		// The minimum makes wrapping mandatory.
		_, err := c.Logical().Read("secret/data/wrapped")
		wantStatus(t, err, 403, "")
		c.SetWrappingLookupFunc(func(string, string) string { return "30s" })
		_, err = c.Logical().Read("secret/data/wrapped")
		wantStatus(t, err, 403, "")
		c.SetWrappingLookupFunc(func(string, string) string { return "1h" })
		_, err = c.Logical().Read("secret/data/wrapped")
		wantStatus(t, err, 403, "")
		c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
		s, err := c.Logical().Read("secret/data/wrapped")
		if err != nil {
			t.Fatal(err)
		}
		checkWrapInfo(t, s, "secret/data/wrapped", 300)
	})

	t.Run("wrapped empty response", func(t *testing.T) {
		// Wrapping a write that has no response body still gives a token;
		// unwrapping it yields nothing.
		s, err := wrapping("1m").Logical().Write("cubbyhole/x", map[string]any{"a": "b"})
		if err != nil {
			t.Fatal(err)
		}
		if s == nil || s.WrapInfo == nil {
			// Vault does not wrap empty responses; a plain 204 is fine.
			return
		}
		u, err := root.Logical().Unwrap(s.WrapInfo.Token)
		if err != nil || (u != nil && len(u.Data) > 0) {
			t.Fatalf("unwrap of empty response = %+v, %v", u, err)
		}
	})
}

// containsAny reports whether any of msgs contains substr.
func containsAny(msgs []string, substr string) bool {
	return slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, substr) })
}
