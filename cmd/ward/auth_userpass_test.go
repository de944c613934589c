package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestAuthUserpass drives the userpass method through a real server with
// Vault's Go client: an operator creates people, they log in with no
// token, read exactly what their policy allows and change their own
// password; a wrong password, an unknown user and a missing password get
// a 400 "invalid username or password" (or "missing password") and no
// token, and repeated failures lock the username for a while.
func TestAuthUserpass(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().EnableAuthWithOptions("userpass", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	// The smallest bcrypt cost keeps the test fast; lockout after 3
	// failures, for 1s, so that the test can wait it out.
	upWrite(t, root, "auth/userpass/config", map[string]any{"bcrypt_cost": 4, "lockout_threshold": 3, "lockout_duration": "1s"})
	for _, who := range []string{"alice", "bob"} {
		if _, err := root.Logical().Write("secret/data/people/"+who, map[string]any{"data": map[string]any{"pw": who + "-db-pw"}}); err != nil {
			t.Fatal(err)
		}
	}
	putPolicy(t, root, "alice-read", `
path "secret/data/people/alice" { capabilities = ["read"] }
path "auth/userpass/users/alice/password" { capabilities = ["update"] }`)
	// Usernames are lower-cased, as in Vault.
	if s := upWrite(t, root, "auth/userpass/users/Alice", map[string]any{
		"password": "correct horse", "token_policies": "alice-read", "token_ttl": "30m",
	}); s != nil {
		t.Fatalf("create user answered %+v, want 204", s)
	}
	upWrite(t, root, "auth/userpass/users/bob", map[string]any{"password": "bob-pw-1"})

	t.Run("manage users", func(t *testing.T) {
		l, err := root.Logical().List("auth/userpass/users")
		if err != nil || l == nil || !slices.Equal(l.Data["keys"].([]any), []any{"alice", "bob"}) {
			t.Fatalf("list users = %+v, %v", l, err)
		}
		r, err := root.Logical().Read("auth/userpass/users/alice")
		if err != nil || r == nil {
			t.Fatalf("read user = %+v, %v", r, err)
		}
		if r.Data["token_ttl"] != json.Number("1800") || !slices.Equal(r.Data["token_policies"].([]any), []any{"alice-read"}) {
			t.Errorf("read user = %v", r.Data)
		}
		raw := rawCall(t, "GET", srv.Addr, "auth/userpass/users/alice", "root", nil)
		if body := string(raw.Body); strings.Contains(body, "password_hash") || strings.Contains(body, "$2a$") || strings.Contains(body, "correct horse") {
			t.Errorf("read user shows password material: %s", body)
		}
		// Creating needs a password.
		_, err = root.Logical().Write("auth/userpass/users/carol", map[string]any{"token_policies": "x"})
		wantStatus(t, err, 400, "missing password")
		_, err = root.Logical().Write("auth/userpass/users/bad%20name", map[string]any{"password": "x"})
		wantStatus(t, err, 400, "invalid username")
		// Managing users needs a token.
		_, err = vaultClient(t, srv.Addr, "").Logical().Write("auth/userpass/users/mallory", map[string]any{"password": "x"})
		wantStatus(t, err, 403, "permission denied")
	})

	t.Run("log in and read", func(t *testing.T) {
		s, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/userpass/login/ALICE", map[string]any{"password": "correct horse"})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		a := s.Auth
		if a == nil || a.ClientToken == "" || a.EntityID == "" || a.LeaseDuration != 1800 || !a.Renewable || !a.Orphan ||
			a.Metadata["username"] != "alice" || !slices.Contains(a.Policies, "alice-read") ||
			!slices.Contains(a.Policies, "default") {
			t.Fatalf("login auth = %+v", a)
		}
		alice := vaultClient(t, srv.Addr, a.ClientToken)
		got, err := alice.Logical().Read("secret/data/people/alice")
		if err != nil {
			t.Fatalf("read own secret: %v", err)
		}
		if pw := got.Data["data"].(map[string]any)["pw"]; pw != "alice-db-pw" {
			t.Errorf("own secret = %v", pw)
		}
		_, err = alice.Logical().Read("secret/data/people/bob")
		wantStatus(t, err, 403, "permission denied")

		self, err := alice.Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		// The token's path is the login path as sent.
		if self.Data["display_name"] != "userpass-alice" || self.Data["path"] != "auth/userpass/login/ALICE" ||
			self.Data["entity_id"] != a.EntityID || self.Data["type"] != "service" {
			t.Errorf("lookup-self = %v", self.Data)
		}
		// The same person logging in again is the same entity, and a stale
		// token sent along does not get in the way.
		raw := rawCall(t, "POST", srv.Addr, "auth/userpass/login/alice", "hvs.stale-token", []byte(`{"password":"correct horse"}`))
		if raw.Status != 200 {
			t.Fatalf("login with a stale token: %d %s", raw.Status, raw.Body)
		}
		if auth := raw.JSON(t)["auth"].(map[string]any); auth["entity_id"] != a.EntityID {
			t.Errorf("second login entity %v, first %v", auth["entity_id"], a.EntityID)
		}

		// Alice changes her own password with her token.
		if _, err := alice.Logical().Write("auth/userpass/users/alice/password", map[string]any{"password": "battery staple"}); err != nil {
			t.Fatalf("change own password: %v", err)
		}
		upLogin(t, srv.Addr, "alice", "correct horse", 400, "invalid username or password")
		upLogin(t, srv.Addr, "alice", "battery staple", 200, "")
		// But not anyone else's.
		_, err = alice.Logical().Write("auth/userpass/users/bob/password", map[string]any{"password": "owned"})
		wantStatus(t, err, 403, "permission denied")
	})

	t.Run("bad credentials", func(t *testing.T) {
		upLogin(t, srv.Addr, "bob", "wrong password", 400, "invalid username or password")
		upLogin(t, srv.Addr, "nobody", "bob-pw-1", 400, "invalid username or password")
		upLogin(t, srv.Addr, "bob", "", 400, "missing password")
		upLogin(t, srv.Addr, "bob", "bob-pw-1", 200, "") // resets bob's count
		// The Go client sees the refusal as an error.
		_, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/userpass/login/bob", map[string]any{"password": "nope"})
		wantStatus(t, err, 400, "invalid username or password")
	})

	t.Run("lockout", func(t *testing.T) {
		upWrite(t, root, "auth/userpass/users/dave", map[string]any{"password": "dave-pw"})
		for range 3 {
			upLogin(t, srv.Addr, "dave", "guess", 400, "invalid username or password")
		}
		// Locked: even the right password is refused, at once.
		upLogin(t, srv.Addr, "dave", "dave-pw", 403, "permission denied")
		// Unknown names lock the same way, so the lock tells nothing.
		for range 3 {
			upLogin(t, srv.Addr, "ghost", "guess", 400, "invalid username or password")
		}
		upLogin(t, srv.Addr, "ghost", "guess", 403, "permission denied")
		time.Sleep(1100 * time.Millisecond)
		upLogin(t, srv.Addr, "dave", "dave-pw", 200, "")
	})

	t.Run("argon2id", func(t *testing.T) {
		upWrite(t, root, "auth/userpass/config", map[string]any{"hash_algorithm": "argon2id", "argon2_memory": 1024, "argon2_time": 1})
		upWrite(t, root, "auth/userpass/users/erin", map[string]any{"password": strings.Repeat("long passphrase ", 8)})
		r, err := root.Logical().Read("auth/userpass/users/erin")
		if err != nil || r.Data["hash_algorithm"] != "argon2id" {
			t.Fatalf("read erin = %+v, %v", r, err)
		}
		upLogin(t, srv.Addr, "erin", strings.Repeat("long passphrase ", 8), 200, "")
		upLogin(t, srv.Addr, "erin", strings.Repeat("long passphrase ", 7), 400, "invalid username or password")
		// bob's bcrypt hash is replaced by an argon2id one at his next login.
		upLogin(t, srv.Addr, "bob", "bob-pw-1", 200, "")
		if r, err := root.Logical().Read("auth/userpass/users/bob"); err != nil || r.Data["hash_algorithm"] != "argon2id" {
			t.Fatalf("bob after login = %+v, %v", r, err)
		}
		upLogin(t, srv.Addr, "bob", "bob-pw-1", 200, "")
	})

	// No password reached the server's log.
	logs := srv.Stdout.String() + srv.Stderr.String()
	for _, pw := range []string{"correct horse", "battery staple", "bob-pw-1", "dave-pw", "wrong password"} {
		if strings.Contains(logs, pw) {
			t.Errorf("server log shows password %q", pw)
		}
	}
}

// upWrite writes path through the client, failing the test on an error.
func upWrite(t *testing.T, c *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// upLogin posts a userpass login with no token and checks the status:
// 200 must carry a token; anything else must carry an error containing
// msg, and neither a token nor the password.
func upLogin(t *testing.T, addr, user, password string, status int, msg string) {
	t.Helper()
	body := fmt.Sprintf(`{"password":%q}`, password)
	if password == "" {
		body = `{}`
	}
	r := rawCall(t, "POST", addr, "auth/userpass/login/"+user, "", []byte(body))
	if r.Status != status {
		t.Fatalf("login %s: status %d, want %d: %s", user, r.Status, status, r.Body)
	}
	if status == 200 {
		auth, _ := r.JSON(t)["auth"].(map[string]any)
		if auth == nil || auth["client_token"] == "" {
			t.Fatalf("login %s: no token in %s", user, r.Body)
		}
		return
	}
	errs := r.Errors(t)
	if !strings.Contains(strings.Join(errs, "\n"), msg) {
		t.Fatalf("login %s: errors %q, want %q", user, errs, msg)
	}
	if strings.Contains(string(r.Body), "client_token") || (password != "" && strings.Contains(string(r.Body), password)) {
		t.Fatalf("refused login %s leaks: %s", user, r.Body)
	}
}
