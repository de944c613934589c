package main

import (
	"context"
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultSys drives sys/ endpoints through the client's Sys() helpers.
func TestVaultSys(t *testing.T) {
	srv := startDev(t)
	c := vaultClient(t, srv.Addr, "root")
	sys := c.Sys()

	t.Run("health", func(t *testing.T) {
		h, err := sys.Health()
		if err != nil {
			t.Fatal(err)
		}
		if !h.Initialized || h.Sealed || h.Standby || h.Version == "" || h.ServerTimeUTC == 0 {
			t.Fatalf("health = %+v", h)
		}
		// The client sends *code=299 for every non-active state; the
		// server must honour the parameters.
		r := rawCall(t, "GET", srv.Addr, "sys/health?activecode=299", "", nil)
		if r.Status != 299 {
			t.Fatalf("activecode=299 gave %d", r.Status)
		}
		r = rawCall(t, "GET", srv.Addr, "sys/health?activecode=abc", "", nil)
		if r.Status != 400 {
			t.Fatalf("malformed code gave %d: %s", r.Status, r.Body)
		}
		r = rawCall(t, "HEAD", srv.Addr, "sys/health", "", nil)
		if r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("HEAD health: %d %q", r.Status, r.Body)
		}
	})

	t.Run("seal status and leader", func(t *testing.T) {
		s, err := sys.SealStatus()
		if err != nil {
			t.Fatal(err)
		}
		if !s.Initialized || s.Sealed || s.Type != "shamir" || s.T < 1 || s.N < s.T || s.Version == "" || s.ClusterID == "" {
			t.Fatalf("seal status = %+v", s)
		}
		l, err := sys.Leader()
		if err != nil {
			t.Fatal(err)
		}
		if l.HAEnabled {
			t.Fatalf("leader on a single dev node = %+v", l)
		}
	})

	t.Run("mounts", func(t *testing.T) {
		mounts, err := sys.ListMounts()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"secret/", "sys/", "cubbyhole/"} {
			if mounts[p] == nil || mounts[p].Accessor == "" || mounts[p].UUID == "" {
				t.Fatalf("mount %s = %+v", p, mounts[p])
			}
		}
		if mounts["secret/"].Type != "kv" || mounts["secret/"].Options["version"] != "2" {
			t.Fatalf("secret/ = %+v", mounts["secret/"])
		}
		if !mounts["cubbyhole/"].Local {
			t.Fatalf("cubbyhole/ not local: %+v", mounts["cubbyhole/"])
		}

		err = sys.Mount("team-kv/", &vaultapi.MountInput{
			Type:        "kv-v2",
			Description: "team secrets",
			Config:      vaultapi.MountConfigInput{DefaultLeaseTTL: "1h", MaxLeaseTTL: "2h"},
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := sys.GetMount("team-kv")
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "kv" || m.Options["version"] != "2" || m.Description != "team secrets" ||
			m.Config.DefaultLeaseTTL != 3600 || m.Config.MaxLeaseTTL != 7200 || !strings.HasPrefix(m.Accessor, "kv_") {
			t.Fatalf("mounted = %+v", m)
		}
		// The mount works at once.
		if _, err := c.KVv2("team-kv").Put(context.Background(), "x", map[string]any{"a": "b"}); err != nil {
			t.Fatal(err)
		}
		// Mounting over an existing path is refused.
		err = sys.Mount("team-kv", &vaultapi.MountInput{Type: "kv"})
		wantStatus(t, err, 400, "")
		// Unknown engine types are refused.
		err = sys.Mount("bogus", &vaultapi.MountInput{Type: "no-such-engine"})
		wantStatus(t, err, 400, "no-such-engine")

		//lint:ignore SA1019 existing clients still call TuneMount; Ward must serve it
		err = sys.TuneMount("team-kv", vaultapi.MountConfigInput{DefaultLeaseTTL: "30m", MaxLeaseTTL: "3h"})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := sys.MountConfig("team-kv")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DefaultLeaseTTL != 1800 || cfg.MaxLeaseTTL != 10800 {
			t.Fatalf("tuned config = %+v", cfg)
		}
		desc := "renamed"
		//lint:ignore SA1019 existing clients still call TuneMount; Ward must serve it
		if err := sys.TuneMount("team-kv/", vaultapi.MountConfigInput{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		m, err = sys.GetMount("team-kv")
		if err != nil || m.Description != "renamed" || m.Config.DefaultLeaseTTL != 1800 {
			t.Fatalf("after description tune: %+v %v", m, err)
		}

		// "system" resets a TTL to the server default.
		//lint:ignore SA1019 existing clients still call TuneMount; Ward must serve it
		if err := sys.TuneMount("team-kv", vaultapi.MountConfigInput{DefaultLeaseTTL: "system", MaxLeaseTTL: "system"}); err != nil {
			t.Fatal(err)
		}
		cfg, err = sys.MountConfig("team-kv")
		if err != nil {
			t.Fatal(err)
		}
		def, err := sys.MountConfig("secret")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DefaultLeaseTTL != def.DefaultLeaseTTL || def.DefaultLeaseTTL == 0 || cfg.MaxLeaseTTL != def.MaxLeaseTTL {
			t.Fatalf("after reset to system: %+v (server default %+v)", cfg, def)
		}
		//lint:ignore SA1019 existing clients still call TuneMount; Ward must serve it
		err = sys.TuneMount("team-kv", vaultapi.MountConfigInput{DefaultLeaseTTL: "soon"})
		wantStatus(t, err, 400, "default_lease_ttl")

		if err := sys.Unmount("team-kv"); err != nil {
			t.Fatal(err)
		}
		mounts, err = sys.ListMounts()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := mounts["team-kv/"]; ok {
			t.Fatal("team-kv/ still mounted after unmount")
		}
		// Unknown routes are 404 naming the route; the client reads that
		// as "nothing there".
		if s, err := c.Logical().Read("team-kv/data/x"); s != nil || err != nil {
			t.Fatalf("read from removed mount = %v, %v", s, err)
		}
		r := rawCall(t, "GET", srv.Addr, "team-kv/data/x", "root", nil)
		if r.Status != 404 || !strings.Contains(strings.Join(r.Errors(t), " "), "team-kv/data/x") {
			t.Fatalf("read from removed mount: %d %s", r.Status, r.Body)
		}
	})

	t.Run("auth methods", func(t *testing.T) {
		auths, err := sys.ListAuth()
		if err != nil {
			t.Fatal(err)
		}
		tok := auths["token/"]
		if tok == nil || tok.Type != "token" || !strings.HasPrefix(tok.Accessor, "auth_token_") {
			t.Fatalf("token/ = %+v", tok)
		}
		got, err := sys.GetAuth("token")
		if err != nil || got.Accessor != tok.Accessor || got.Type != "token" {
			t.Fatalf("get auth token = %+v, %v", got, err)
		}
		if cfg, err := sys.MountConfig("auth/token"); err != nil || cfg.DefaultLeaseTTL == 0 {
			t.Fatalf("auth/token tune = %+v, %v", cfg, err)
		}
		// A path inside a mount resolves to the mount, as in Vault.
		if m, err := sys.GetMount("secret/some/deep/key"); err != nil || m.Type != "kv" || m.Options["version"] != "2" {
			t.Fatalf("mount for a path inside secret/ = %+v, %v", m, err)
		}
		_, err = sys.GetMount("nowhere")
		wantStatus(t, err, 400, "")
		err = sys.EnableAuthWithOptions("nope", &vaultapi.EnableAuthOptions{Type: "no-such-method"})
		wantStatus(t, err, 400, "no-such-method")
	})

	t.Run("policies", func(t *testing.T) {
		const rules = `path "secret/data/app/*" { capabilities = ["read", "list"] }`
		// Names are taken only in their stored lower-case form, so a deny
		// on an exact policy path cannot be sidestepped by spelling.
		err := sys.PutPolicy("App-Reader", rules)
		wantStatus(t, err, 400, `use "app-reader"`)
		putPolicy(t, c, "app-reader", rules)
		names, err := sys.ListPolicies()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"default", "root", "app-reader"} {
			if !slices.Contains(names, want) {
				t.Fatalf("policies %v lack %q", names, want)
			}
		}
		got, err := sys.GetPolicy("app-reader")
		if err != nil || got != rules {
			t.Fatalf("get policy = %q, %v", got, err)
		}
		// A missing policy is an empty string, not an error.
		got, err = sys.GetPolicy("missing")
		if err != nil || got != "" {
			t.Fatalf("get missing policy = %q, %v", got, err)
		}
		err = sys.PutPolicy("broken", `path "x" { capabilities = ["fly"] }`)
		wantStatus(t, err, 400, "fly")
		err = sys.PutPolicy("root", `path "x" { capabilities = ["read"] }`)
		wantStatus(t, err, 400, "")
		// Rules may arrive base64-encoded.
		putPolicy(t, c, "b64", base64.StdEncoding.EncodeToString([]byte(rules)))
		if got, err := sys.GetPolicy("b64"); err != nil || got != rules {
			t.Fatalf("base64 policy = %q, %v", got, err)
		}
		wantStatus(t, sys.DeletePolicy("default"), 400, "")
		wantStatus(t, sys.DeletePolicy("root"), 400, "")
		if err := sys.DeletePolicy("app-reader"); err != nil {
			t.Fatal(err)
		}
		if err := sys.DeletePolicy("app-reader"); err != nil {
			t.Fatalf("delete is not idempotent: %v", err)
		}
		names, _ = sys.ListPolicies()
		if slices.Contains(names, "app-reader") {
			t.Fatalf("app-reader still listed: %v", names)
		}
	})

	t.Run("capabilities", func(t *testing.T) {
		putPolicy(t, c, "caps", `
path "secret/data/caps/*" { capabilities = ["create", "read"] }
path "secret/data/caps/locked" { capabilities = ["deny"] }
`)
		tok, acc := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"caps"}})
		tc := withToken(t, c, tok)
		caps, err := tc.Sys().CapabilitiesSelf("secret/data/caps/x")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(caps)
		if !reflect.DeepEqual(caps, []string{"create", "read"}) {
			t.Fatalf("capabilities-self = %v", caps)
		}
		caps, err = sys.Capabilities(tok, "secret/data/caps/locked")
		if err != nil || !reflect.DeepEqual(caps, []string{"deny"}) {
			t.Fatalf("capabilities on denied path = %v, %v", caps, err)
		}
		caps, err = sys.Capabilities(tok, "secret/data/other")
		if err != nil || !reflect.DeepEqual(caps, []string{"deny"}) {
			t.Fatalf("capabilities on unmatched path = %v, %v", caps, err)
		}
		caps, err = sys.CapabilitiesAccessor(acc, "secret/data/caps/y")
		slices.Sort(caps)
		if err != nil || !reflect.DeepEqual(caps, []string{"create", "read"}) {
			t.Fatalf("capabilities-accessor = %v, %v", caps, err)
		}
		caps, err = sys.CapabilitiesSelf("anything/at/all")
		if err != nil || !reflect.DeepEqual(caps, []string{"root"}) {
			t.Fatalf("root capabilities-self = %v, %v", caps, err)
		}
	})

	t.Run("key status and rotate", func(t *testing.T) {
		before, err := sys.KeyStatus()
		if err != nil {
			t.Fatal(err)
		}
		if before.Term < 1 || before.InstallTime.IsZero() || time.Since(before.InstallTime) > time.Hour {
			t.Fatalf("key status = %+v", before)
		}
		if err := sys.Rotate(); err != nil {
			t.Fatal(err)
		}
		after, err := sys.KeyStatus()
		if err != nil {
			t.Fatal(err)
		}
		if after.Term != before.Term+1 {
			t.Fatalf("term after rotate = %d, before %d", after.Term, before.Term)
		}
		// Data written before the rotation still reads back.
		if _, err := c.KVv2("secret").Put(context.Background(), "after-rotate", map[string]any{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.KVv2("secret").Get(context.Background(), "after-rotate"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVaultSeal seals a server through the client and checks that normal
// requests then fail with 503 while the unauthenticated status endpoints
// still answer.
func TestVaultSeal(t *testing.T) {
	srv := startDev(t)
	c := vaultClient(t, srv.Addr, "root")
	if _, err := c.KVv2("secret").Put(context.Background(), "k", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	// A token without sudo on sys/seal is refused.
	tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"default"}})
	wantStatus(t, withToken(t, c, tok).Sys().Seal(), 403, "")

	if err := c.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	s, err := c.Sys().SealStatus()
	if err != nil || !s.Sealed || !s.Initialized {
		t.Fatalf("seal status after seal = %+v, %v", s, err)
	}
	h, err := c.Sys().Health()
	if err != nil || !h.Sealed || !h.Initialized {
		t.Fatalf("health after seal = %+v, %v", h, err)
	}
	r := rawCall(t, "GET", srv.Addr, "sys/health", "", nil)
	if r.Status != 503 {
		t.Fatalf("raw health while sealed = %d", r.Status)
	}
	l, err := c.Sys().Leader()
	if err != nil || l.HAEnabled {
		t.Fatalf("leader while sealed = %+v, %v", l, err)
	}
	_, err = c.KVv2("secret").Get(context.Background(), "k")
	wantStatus(t, err, 503, "Vault is sealed")
	_, err = c.Auth().Token().LookupSelf()
	wantStatus(t, err, 503, "Vault is sealed")
	r = rawCall(t, "GET", srv.Addr, "secret/data/k", "", nil)
	if r.Status != 503 || !slices.Contains(r.Errors(t), "Vault is sealed") {
		t.Fatalf("unauthenticated read while sealed: %d %s", r.Status, r.Body)
	}

	// Unseal with the key from the dev banner: the data is still there.
	_, after, ok := strings.Cut(srv.Stdout.String(), "Unseal Key: ")
	key, _, _ := strings.Cut(after, "\n")
	if !ok || key == "" {
		t.Fatalf("no unseal key in the dev banner:\n%s", srv.Stdout.String())
	}
	_, err = c.Sys().Unseal("not-a-key")
	wantStatus(t, err, 400, "")
	st, err := c.Sys().Unseal(strings.TrimSpace(key))
	if err != nil || st.Sealed {
		t.Fatalf("unseal = %+v, %v", st, err)
	}
	got, err := c.KVv2("secret").Get(context.Background(), "k")
	if err != nil || got.Data["a"] != "b" {
		t.Fatalf("read after unseal = %+v, %v", got, err)
	}
}
