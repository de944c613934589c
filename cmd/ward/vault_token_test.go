package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultToken drives auth/token/ through the client's Auth().Token().
func TestVaultToken(t *testing.T) {
	srv := startDev(t)
	c := vaultClient(t, srv.Addr, "root")
	tokens := c.Auth().Token()
	putPolicy(t, c, "app", `path "secret/data/app/*" { capabilities = ["read"] }`)

	t.Run("create and lookup", func(t *testing.T) {
		no := false
		s, err := tokens.Create(&vaultapi.TokenCreateRequest{
			Policies:       []string{"app"},
			TTL:            "1h",
			ExplicitMaxTTL: "2h",
			DisplayName:    "ci",
			Metadata:       map[string]string{"team": "payments"},
			Renewable:      &no,
		})
		if err != nil {
			t.Fatal(err)
		}
		a := s.Auth
		if a.ClientToken == "" || a.Accessor == "" || a.LeaseDuration != 3600 || a.Renewable || a.Orphan ||
			!reflect.DeepEqual(a.Policies, []string{"app", "default"}) || a.Metadata["team"] != "payments" {
			t.Fatalf("create auth = %+v", a)
		}
		if len(s.Data) > 0 {
			t.Fatalf("create data = %v, want none", s.Data)
		}

		l, err := tokens.Lookup(a.ClientToken)
		if err != nil {
			t.Fatal(err)
		}
		d := l.Data
		if d["id"] != a.ClientToken || d["accessor"] != a.Accessor || d["display_name"] != "token-ci" ||
			d["path"] != "auth/token/create" || d["type"] != "service" || d["orphan"] != false || d["renewable"] != false {
			t.Fatalf("lookup = %v", d)
		}
		// ESO's type assertions: ttl is a json.Number, type a string, and
		// expire_time present.
		ttl, ok := d["ttl"].(json.Number)
		if n, _ := ttl.Int64(); !ok || n < 3590 || n > 3600 {
			t.Fatalf("ttl = %#v", d["ttl"])
		}
		for _, k := range []string{"creation_ttl", "explicit_max_ttl", "num_uses", "creation_time"} {
			if _, ok := d[k].(json.Number); !ok {
				t.Fatalf("%s = %#v, want a number", k, d[k])
			}
		}
		if d["explicit_max_ttl"] != json.Number("7200") || d["creation_ttl"] != json.Number("3600") {
			t.Fatalf("explicit_max_ttl %v creation_ttl %v", d["explicit_max_ttl"], d["creation_ttl"])
		}
		exp, ok := d["expire_time"].(string)
		if !ok {
			t.Fatalf("expire_time = %#v", d["expire_time"])
		}
		if et, err := time.Parse(time.RFC3339Nano, exp); err != nil || time.Until(et) < 59*time.Minute || time.Until(et) > 61*time.Minute {
			t.Fatalf("expire_time = %q (%v)", exp, err)
		}
		if meta, _ := d["meta"].(map[string]any); meta["team"] != "payments" {
			t.Fatalf("meta = %#v", d["meta"])
		}
		if pols, err := l.TokenPolicies(); err != nil || !reflect.DeepEqual(pols, []string{"app", "default"}) {
			t.Fatalf("lookup policies = %v, %v", pols, err)
		}

		// lookup-self as the token itself.
		self, err := withToken(t, c, a.ClientToken).Auth().Token().LookupSelf()
		if err != nil || self.Data["id"] != a.ClientToken {
			t.Fatalf("lookup-self = %v, %v", self, err)
		}
		// lookup-accessor hides the token.
		byAcc, err := tokens.LookupAccessor(a.Accessor)
		if err != nil || byAcc.Data["id"] != "" || byAcc.Data["accessor"] != a.Accessor || byAcc.Data["display_name"] != "token-ci" {
			t.Fatalf("lookup-accessor = %v, %v", byAcc, err)
		}
		// The root token never expires.
		root, err := tokens.LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		if v, present := root.Data["expire_time"]; !present || v != nil || root.Data["ttl"] != json.Number("0") ||
			!reflect.DeepEqual(root.Data["policies"], []any{"root"}) || root.Data["type"] != "service" {
			t.Fatalf("root lookup-self = %v", root.Data)
		}
		// Not renewable.
		_, err = tokens.Renew(a.ClientToken, 60)
		wantStatus(t, err, 400, "")
	})

	t.Run("children of root", func(t *testing.T) {
		// No policies: the child inherits root and does not expire.
		s, err := tokens.Create(&vaultapi.TokenCreateRequest{})
		if err != nil || !reflect.DeepEqual(s.Auth.Policies, []string{"root"}) || s.Auth.LeaseDuration != 0 {
			t.Fatalf("root child = %+v, %v", s.Auth, err)
		}
		s, err = tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"app"}, NoDefaultPolicy: true})
		if err != nil || !reflect.DeepEqual(s.Auth.Policies, []string{"app"}) {
			t.Fatalf("no_default_policy = %+v, %v", s.Auth, err)
		}
		root, err := tokens.LookupSelf()
		if err != nil || root.Data["path"] != "auth/token/root" {
			t.Fatalf("root token path = %v, %v", root.Data["path"], err)
		}
	})

	t.Run("roles", func(t *testing.T) {
		_, err := c.Logical().Write("auth/token/roles/ci", map[string]any{
			"allowed_policies": "app",
			"orphan":           true,
			"token_period":     "30m",
		})
		if err != nil {
			t.Fatal(err)
		}
		s, err := tokens.CreateWithRole(&vaultapi.TokenCreateRequest{Policies: []string{"app"}}, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if !s.Auth.Orphan || s.Auth.LeaseDuration != 1800 || !reflect.DeepEqual(s.Auth.Policies, []string{"app", "default"}) {
			t.Fatalf("role token = %+v", s.Auth)
		}
		l, err := tokens.Lookup(s.Auth.ClientToken)
		if err != nil || l.Data["path"] != "auth/token/create/ci" || l.Data["role"] != "ci" {
			t.Fatalf("role token lookup = %v, %v", l, err)
		}
		_, err = tokens.CreateWithRole(&vaultapi.TokenCreateRequest{Policies: []string{"other"}}, "ci")
		wantStatus(t, err, 400, "")
		roles, err := c.Logical().List("auth/token/roles")
		if err != nil || roles == nil || !reflect.DeepEqual(stringList(t, roles.Data["keys"]), []string{"ci"}) {
			t.Fatalf("list roles = %v, %v", roles, err)
		}
	})

	t.Run("display name sanitised", func(t *testing.T) {
		// As in Vault (and the Terraform provider's copy of its rule):
		// prefix "token-", other characters than [a-zA-Z0-9-] become "-",
		// one trailing "-" is dropped.
		tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app"}, DisplayName: "CI Runner!"})
		l, err := tokens.Lookup(tok)
		if err != nil || l.Data["display_name"] != "token-CI-Runner" {
			t.Fatalf("display_name = %q, %v", l.Data["display_name"], err)
		}
	})

	t.Run("deprecated lease", func(t *testing.T) {
		s, err := tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"app"}, Lease: "15m"})
		if err != nil || s.Auth.LeaseDuration != 900 {
			t.Fatalf("create with lease = %+v, %v", s, err)
		}
	})

	t.Run("unknown policy warns", func(t *testing.T) {
		s, err := tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"not-there"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Warnings) == 0 || s.Auth == nil {
			t.Fatalf("create with unknown policy = %+v", s)
		}
	})

	t.Run("renew", func(t *testing.T) {
		tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app"}, TTL: "10m", ExplicitMaxTTL: "1h"})
		s, err := tokens.Renew(tok, 1800)
		if err != nil {
			t.Fatal(err)
		}
		if s.Auth == nil || s.Auth.ClientToken != tok || s.Auth.LeaseDuration != 1800 || !s.Auth.Renewable {
			t.Fatalf("renew auth = %+v", s.Auth)
		}
		tc := withToken(t, c, tok)
		s, err = tc.Auth().Token().RenewSelf(0)
		if err != nil || s.Auth == nil || s.Auth.ClientToken != tok || s.Auth.LeaseDuration < 500 || s.Auth.LeaseDuration > 600 {
			t.Fatalf("renew-self with the mount default = %+v, %v", s, err)
		}
		// The explicit max caps an increment beyond it.
		s, err = c.Auth().Token().RenewTokenAsSelf(tok, 7200)
		if err != nil || s.Auth == nil || s.Auth.ClientToken != tok || s.Auth.LeaseDuration > 3600 || s.Auth.LeaseDuration < 3590 {
			t.Fatalf("renew as self capped = %+v, %v", s, err)
		}
		if len(s.Warnings) == 0 {
			t.Fatalf("capped renew has no warning")
		}
		// Periodic tokens renew to their period.
		ps, err := tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"app"}, Period: "20m"})
		if err != nil {
			t.Fatal(err)
		}
		if ps.Auth.LeaseDuration != 1200 || !ps.Auth.Renewable {
			t.Fatalf("periodic create = %+v", ps.Auth)
		}
		s, err = tokens.Renew(ps.Auth.ClientToken, 60)
		if err != nil || s.Auth.LeaseDuration != 1200 {
			t.Fatalf("periodic renew = %+v, %v", s, err)
		}
		l, err := tokens.Lookup(ps.Auth.ClientToken)
		if err != nil || l.Data["period"] != json.Number("1200") {
			t.Fatalf("periodic lookup = %v, %v", l, err)
		}
	})

	t.Run("renew accessor and lifetime watcher", func(t *testing.T) {
		tok, acc := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app"}, TTL: "10m"})
		s, err := tokens.RenewAccessor(acc, 900)
		if err != nil || s.Auth == nil || s.Auth.LeaseDuration != 900 {
			t.Fatalf("renew-accessor = %+v, %v", s, err)
		}
		// The client's LifetimeWatcher renews at once and needs an auth
		// block with the same token back.
		secret := &vaultapi.Secret{Auth: &vaultapi.SecretAuth{ClientToken: tok, Renewable: true, LeaseDuration: 900}}
		w, err := withToken(t, c, tok).NewLifetimeWatcher(&vaultapi.LifetimeWatcherInput{Secret: secret, Increment: 1200})
		if err != nil {
			t.Fatal(err)
		}
		go w.Start()
		defer w.Stop()
		select {
		case r := <-w.RenewCh():
			if r.Secret == nil || r.Secret.Auth == nil || r.Secret.Auth.ClientToken != tok || r.Secret.Auth.LeaseDuration != 1200 {
				t.Fatalf("watcher renewal = %+v", r.Secret)
			}
		case err := <-w.DoneCh():
			t.Fatalf("watcher stopped: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("watcher did not renew")
		}
	})

	t.Run("ttl capped by the mount maximum", func(t *testing.T) {
		cfg, err := c.Sys().MountConfig("auth/token")
		if err != nil {
			t.Fatal(err)
		}
		s, err := tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"app"}, TTL: "100000h"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Auth.LeaseDuration != cfg.MaxLeaseTTL || len(s.Warnings) == 0 {
			t.Fatalf("ttl beyond max: lease %d (max %d) warnings %q", s.Auth.LeaseDuration, cfg.MaxLeaseTTL, s.Warnings)
		}
		// No TTL: the mount default.
		s, err = tokens.Create(&vaultapi.TokenCreateRequest{Policies: []string{"app"}})
		if err != nil || s.Auth.LeaseDuration != cfg.DefaultLeaseTTL {
			t.Fatalf("default ttl = %+v (want %d), %v", s.Auth, cfg.DefaultLeaseTTL, err)
		}
	})

	t.Run("num uses", func(t *testing.T) {
		tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app"}, NumUses: 2})
		l, err := tokens.Lookup(tok)
		if err != nil || l.Data["num_uses"] != json.Number("2") {
			t.Fatalf("lookup num_uses = %v, %v", l, err)
		}
		tc := withToken(t, c, tok)
		for i := 0; i < 2; i++ {
			if _, err := tc.Auth().Token().LookupSelf(); err != nil {
				t.Fatalf("use %d: %v", i+1, err)
			}
		}
		_, err = tc.Auth().Token().LookupSelf()
		wantStatus(t, err, 403, "")
		_, err = tokens.Lookup(tok)
		wantStatus(t, err, 403, "")
	})

	t.Run("orphans and revocation", func(t *testing.T) {
		putPolicy(t, c, "token-maker", `path "auth/token/create" { capabilities = ["update"] }`)
		parent, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app", "token-maker"}})
		pc := withToken(t, c, parent)
		// A child inherits its parent's policies by default.
		child, _ := createToken(t, pc, &vaultapi.TokenCreateRequest{})
		grandchild, _ := createToken(t, withToken(t, c, child), &vaultapi.TokenCreateRequest{Policies: []string{"app"}})
		if l, err := tokens.Lookup(child); err != nil || !reflect.DeepEqual(l.Data["policies"], []any{"app", "default", "token-maker"}) {
			t.Fatalf("child lookup = %v, %v", l, err)
		}
		// A non-root parent cannot grant policies it lacks.
		_, err := pc.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"admin"}})
		wantStatus(t, err, 400, "subset")
		// ...nor make orphans.
		_, err = pc.Auth().Token().Create(&vaultapi.TokenCreateRequest{NoParent: true})
		wantStatus(t, err, 400, "")

		orphan, err := tokens.CreateOrphan(&vaultapi.TokenCreateRequest{Policies: []string{"app"}})
		if err != nil || !orphan.Auth.Orphan {
			t.Fatalf("create-orphan = %+v, %v", orphan, err)
		}
		noParent, err := tokens.Create(&vaultapi.TokenCreateRequest{NoParent: true})
		if err != nil || !noParent.Auth.Orphan {
			t.Fatalf("no_parent by root = %+v, %v", noParent, err)
		}
		if l, err := tokens.Lookup(orphan.Auth.ClientToken); err != nil || l.Data["orphan"] != true ||
			l.Data["path"] != "auth/token/create-orphan" {
			t.Fatalf("orphan lookup = %v, %v", l, err)
		}

		// Revoking the parent revokes its whole tree.
		if err := tokens.RevokeTree(parent); err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{"parent": parent, "child": child, "grandchild": grandchild} {
			_, err := tokens.Lookup(tok)
			wantStatus(t, err, 403, "")
			_, err = withToken(t, c, tok).Auth().Token().LookupSelf()
			if re := responseError(t, err); re.StatusCode != 403 {
				t.Fatalf("%s after parent revoke: %d", name, re.StatusCode)
			}
		}
		// The orphan survives.
		if _, err := tokens.Lookup(orphan.Auth.ClientToken); err != nil {
			t.Fatal(err)
		}

		// revoke-orphan keeps the children, now orphaned.
		p2, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"app", "token-maker"}})
		c2, _ := createToken(t, withToken(t, c, p2), &vaultapi.TokenCreateRequest{})
		if err := tokens.RevokeOrphan(p2); err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Lookup(p2); err == nil {
			t.Fatal("revoke-orphan left the parent")
		}
		l, err := tokens.Lookup(c2)
		if err != nil || l.Data["orphan"] != true {
			t.Fatalf("child after revoke-orphan = %v, %v", l, err)
		}

		// revoke-accessor.
		t3, a3 := createToken(t, c, &vaultapi.TokenCreateRequest{})
		if err := tokens.RevokeAccessor(a3); err != nil {
			t.Fatal(err)
		}
		_, err = tokens.Lookup(t3)
		wantStatus(t, err, 403, "")

		// revoke-self.
		t4, _ := createToken(t, c, &vaultapi.TokenCreateRequest{})
		tc4 := withToken(t, c, t4)
		if err := tc4.Auth().Token().RevokeSelf(""); err != nil {
			t.Fatal(err)
		}
		_, err = tc4.Auth().Token().LookupSelf()
		wantStatus(t, err, 403, "")
	})

	t.Run("bad input", func(t *testing.T) {
		_, err := tokens.Create(&vaultapi.TokenCreateRequest{TTL: "forever"})
		wantStatus(t, err, 400, "ttl")
		_, err = tokens.Create(&vaultapi.TokenCreateRequest{Type: "shiny"})
		wantStatus(t, err, 400, "type")
		// A bad or revoked token is 403, never 401.
		_, err = withToken(t, c, "hvs.not-a-real-token").Auth().Token().LookupSelf()
		wantStatus(t, err, 403, "")
		_, err = tokens.Lookup("hvs.not-a-real-token")
		wantStatus(t, err, 403, "")
	})

	t.Run("accessors list needs sudo", func(t *testing.T) {
		s, err := c.Logical().List("auth/token/accessors")
		if err != nil || s == nil || len(stringList(t, s.Data["keys"])) == 0 {
			t.Fatalf("root list accessors = %v, %v", s, err)
		}
		putPolicy(t, c, "acc-list", `path "auth/token/accessors" { capabilities = ["list"] }`)
		tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"acc-list"}})
		_, err = withToken(t, c, tok).Logical().List("auth/token/accessors")
		wantStatus(t, err, 403, "")
		putPolicy(t, c, "acc-list", `path "auth/token/accessors" { capabilities = ["list", "sudo"] }`)
		s, err = withToken(t, c, tok).Logical().List("auth/token/accessors")
		if err != nil || s == nil || !slices.Contains(stringList(t, s.Data["keys"]), mustAccessor(t, c, tok)) {
			t.Fatalf("sudo list accessors = %v, %v", s, err)
		}
	})
}

// mustAccessor looks a token's accessor up as root.
func mustAccessor(t testing.TB, root *vaultapi.Client, tok string) string {
	t.Helper()
	s, err := root.Auth().Token().Lookup(tok)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.TokenAccessor()
	if err != nil {
		t.Fatal(err)
	}
	return a
}
