package main

import (
	"testing"
)

// A login token renews only while the method still grants it: its
// userpass user or approle role exists with the same policies.
func TestLoginTokenRenewalAsksTheMethod(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := vaultClient(t, p.Addr, "root")
	for _, w := range []struct {
		path string
		data map[string]any
	}{
		{"sys/auth/userpass", map[string]any{"type": "userpass"}},
		{"auth/userpass/users/alice", map[string]any{"password": "correct horse", "token_policies": "app"}},
		{"sys/auth/approle", map[string]any{"type": "approle"}},
		{"auth/approle/role/web", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.1/32", "token_policies": "app"}},
	} {
		if _, err := root.Logical().Write(w.path, w.data); err != nil {
			t.Fatalf("write %s: %v", w.path, err)
		}
	}
	login := func(path string, data map[string]any) string {
		t.Helper()
		s, err := vaultClient(t, p.Addr, "").Logical().Write(path, data)
		if err != nil || s == nil || s.Auth == nil {
			t.Fatalf("login %s: %v", path, err)
		}
		return s.Auth.ClientToken
	}
	renew := func(tok string) error {
		_, err := withToken(t, root, tok).Auth().Token().RenewSelf(60)
		return err
	}

	alice := login("auth/userpass/login/alice", map[string]any{"password": "correct horse"})
	if err := renew(alice); err != nil {
		t.Fatalf("renew alice: %v", err)
	}
	if _, err := root.Logical().Write("auth/userpass/users/alice/policies", map[string]any{"token_policies": "other"}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, renew(alice), 400, "policies have changed")
	alice = login("auth/userpass/login/alice", map[string]any{"password": "correct horse"})
	if _, err := root.Logical().Delete("auth/userpass/users/alice"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, renew(alice), 400, "no longer exists")

	s, err := root.Logical().Read("auth/approle/role/web/role-id")
	if err != nil {
		t.Fatal(err)
	}
	web := login("auth/approle/login", map[string]any{"role_id": s.Data["role_id"]})
	if err := renew(web); err != nil {
		t.Fatalf("renew web: %v", err)
	}
	if _, err := root.Logical().Delete("auth/approle/role/web"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, renew(web), 400, "no longer exists")
}
