package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestAuthAppRole drives the AppRole method through a real server with
// Vault's Go client: an operator makes a role and delivers its secret ID
// response-wrapped; the workload unwraps it with no token of its own,
// logs in, and reads exactly the secrets its policy allows. Every bad
// credential gets a 400 "invalid role or secret ID" and no token.
func TestAuthAppRole(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().EnableAuthWithOptions("approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"web", "db"} {
		if _, err := root.Logical().Write("secret/data/apps/"+app, map[string]any{"data": map[string]any{"pw": app + "-pw"}}); err != nil {
			t.Fatal(err)
		}
	}
	putPolicy(t, root, "web-read", `path "secret/data/apps/web" { capabilities = ["read"] }`)
	arWrite(t, root, "auth/approle/role/web", map[string]any{"token_policies": "web-read", "token_ttl": "20m"})
	roleID := arRoleID(t, root, "web")

	t.Run("wrapped secret ID, unwrap, log in, read", func(t *testing.T) {
		wrapping := withToken(t, root, "root")
		wrapping.SetWrappingLookupFunc(func(string, string) string { return "2m" })
		s, err := wrapping.Logical().Write("auth/approle/role/web/secret-id", map[string]any{"metadata": `{"host": "web-1"}`})
		if err != nil {
			t.Fatal(err)
		}
		if s == nil || s.WrapInfo == nil || s.WrapInfo.Token == "" || s.Data != nil {
			t.Fatalf("secret-id with a wrap TTL answered %+v", s)
		}
		if s.WrapInfo.CreationPath != "auth/approle/role/web/secret-id" || s.WrapInfo.TTL != 120 {
			t.Errorf("wrap_info = %+v", s.WrapInfo)
		}

		// The workload has no token: the wrapping token is its only credential.
		workload := vaultClient(t, srv.Addr, "")
		u, err := workload.Logical().Unwrap(s.WrapInfo.Token)
		if err != nil {
			t.Fatalf("unwrap: %v", err)
		}
		secretID, _ := u.Data["secret_id"].(string)
		if secretID == "" || u.Data["secret_id_accessor"] == "" || u.Data["secret_id_ttl"] != json.Number("0") {
			t.Fatalf("unwrapped = %v", u.Data)
		}
		_, err = vaultClient(t, srv.Addr, "").Logical().Unwrap(s.WrapInfo.Token)
		wantStatus(t, err, 400, "wrapping token is not valid")

		login, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		a := login.Auth
		if a == nil || a.ClientToken == "" || a.EntityID == "" || a.LeaseDuration < 1199 || a.LeaseDuration > 1200 || !a.Renewable ||
			a.Metadata["role_name"] != "web" || a.Metadata["host"] != "web-1" || !slices.Contains(a.Policies, "web-read") {
			t.Fatalf("login auth = %+v", a)
		}
		app := vaultClient(t, srv.Addr, a.ClientToken)
		got, err := app.Logical().Read("secret/data/apps/web")
		if err != nil {
			t.Fatalf("read own secret: %v", err)
		}
		if pw := got.Data["data"].(map[string]any)["pw"]; pw != "web-pw" {
			t.Errorf("own secret = %v", pw)
		}
		_, err = app.Logical().Read("secret/data/apps/db")
		wantStatus(t, err, 403, "permission denied")

		// The token's entity has an alias for the role ID on this mount.
		self, err := app.Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		if self.Data["display_name"] != "approle-web" || self.Data["entity_id"] != a.EntityID {
			t.Errorf("token lookup = %v", self.Data)
		}
		// A second login with the same (unlimited) secret ID is the same entity.
		again, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
		if err != nil || again.Auth.EntityID != a.EntityID {
			t.Fatalf("second login = %+v, %v", again, err)
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		arWrite(t, root, "auth/approle/role/fenced", map[string]any{"token_policies": "web-read", "secret_id_bound_cidrs": "10.0.0.0/8"})
		fencedID := arRoleID(t, root, "fenced")
		fencedSecret := arSecretID(t, root, "fenced", nil)
		once := arSecretID(t, root, "web", map[string]any{"num_uses": 1})
		shortLived := arSecretID(t, root, "web", map[string]any{"ttl": "1s"})
		boundSecret := arSecretID(t, root, "web", map[string]any{"cidr_list": "192.0.2.0/24"})
		destroyed := arSecretID(t, root, "web", nil)
		acc := arLookup(t, root, "web", destroyed)["secret_id_accessor"].(string)
		arWrite(t, root, "auth/approle/role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": acc})

		arLogin(t, srv.Addr, roleID, once, 200)
		time.Sleep(1100 * time.Millisecond)
		for _, c := range []struct{ name, roleID, secretID string }{
			{"used-up secret ID", roleID, once},
			{"expired secret ID", roleID, shortLived},
			{"wrong secret ID", roleID, "00000000-1111-4222-8333-444444444444"},
			{"no secret ID", roleID, ""},
			{"unknown role ID", "no-such-role-id", once},
			{"another role's secret ID", roleID, fencedSecret},
			{"client outside the role's CIDRs", fencedID, fencedSecret},
			{"client outside the secret ID's cidr_list", roleID, boundSecret},
			{"destroyed secret ID", roleID, destroyed},
		} {
			t.Run(c.name, func(t *testing.T) { arLogin(t, srv.Addr, c.roleID, c.secretID, 400) })
		}
		// The Go client sees the same refusal as an error.
		_, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": once})
		wantStatus(t, err, 400, "invalid role or secret ID")
	})

	t.Run("one-use secret ID raced by two logins", func(t *testing.T) {
		for round := 0; round < 5; round++ {
			secretID := arSecretID(t, root, "web", map[string]any{"num_uses": 1})
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf(`{"role_id":%q,"secret_id":%q}`, roleID, secretID)
					statuses[i] = rawCall(t, "POST", srv.Addr, "auth/approle/login", "", []byte(body)).Status
				}()
			}
			wg.Wait()
			slices.Sort(statuses)
			if statuses[0] != 200 || statuses[1] != 400 {
				t.Fatalf("round %d: statuses %v, want one 200 and one 400", round, statuses)
			}
		}
	})

	t.Run("manage roles and secret IDs", func(t *testing.T) {
		s, err := root.Logical().List("auth/approle/role")
		if err != nil || s == nil || !slices.Contains(s.Data["keys"].([]any), any("web")) {
			t.Fatalf("list roles = %+v, %v", s, err)
		}
		r, err := root.Logical().Read("auth/approle/role/web")
		if err != nil || r.Data["bind_secret_id"] != true || r.Data["token_ttl"] != json.Number("1200") {
			t.Fatalf("read role = %+v, %v", r, err)
		}
		secretID := arSecretID(t, root, "web", nil)
		acc := arLookup(t, root, "web", secretID)["secret_id_accessor"].(string)
		l, err := root.Logical().List("auth/approle/role/web/secret-id")
		if err != nil || !slices.Contains(l.Data["keys"].([]any), any(acc)) {
			t.Fatalf("list secret IDs = %+v, %v", l, err)
		}
		byAcc, err := root.Logical().Write("auth/approle/role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc})
		if err != nil || byAcc.Data["secret_id_accessor"] != acc {
			t.Fatalf("accessor lookup = %+v, %v", byAcc, err)
		}
		arWrite(t, root, "auth/approle/role/web/secret-id/destroy", map[string]any{"secret_id": secretID})
		arLogin(t, srv.Addr, roleID, secretID, 400)

		// A custom role ID and secret ID (the "push" model).
		arWrite(t, root, "auth/approle/role/pushed", map[string]any{"token_policies": "web-read"})
		arWrite(t, root, "auth/approle/role/pushed/role-id", map[string]any{"role_id": "pushed-role"})
		arWrite(t, root, "auth/approle/role/pushed/custom-secret-id", map[string]any{"secret_id": "pushed-secret"})
		arLogin(t, srv.Addr, "pushed-role", "pushed-secret", 200)

		// Deleting a role ends its logins.
		if _, err := root.Logical().Delete("auth/approle/role/pushed"); err != nil {
			t.Fatal(err)
		}
		arLogin(t, srv.Addr, "pushed-role", "pushed-secret", 400)

		// Managing roles needs a token.
		_, err = vaultClient(t, srv.Addr, "").Logical().Write("auth/approle/role/web/secret-id", nil)
		if err == nil {
			t.Fatal("secret-id without a token succeeded")
		}
	})

	// Refusals were logged, and no credential was.
	logs := srv.Stdout.String() + srv.Stderr.String()
	if !strings.Contains(logs, "approle: login refused") {
		t.Errorf("no refusal in the server log:\n%s", logs)
	}
	for _, secret := range []string{"pushed-secret", "pushed-role", roleID} {
		if strings.Contains(logs, secret) {
			t.Errorf("server log shows credential %q", secret)
		}
	}
}

// arWrite writes data at path, failing the test on error.
func arWrite(t *testing.T, c *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func arRoleID(t *testing.T, c *vaultapi.Client, role string) string {
	t.Helper()
	s, err := c.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil || s == nil {
		t.Fatalf("read role-id: %+v, %v", s, err)
	}
	return s.Data["role_id"].(string)
}

func arSecretID(t *testing.T, c *vaultapi.Client, role string, data map[string]any) string {
	t.Helper()
	return arWrite(t, c, "auth/approle/role/"+role+"/secret-id", data).Data["secret_id"].(string)
}

func arLookup(t *testing.T, c *vaultapi.Client, role, secretID string) map[string]any {
	t.Helper()
	return arWrite(t, c, "auth/approle/role/"+role+"/secret-id/lookup", map[string]any{"secret_id": secretID}).Data
}

// arLogin logs in over raw HTTP with no token and checks the status; a
// refusal must be exactly Vault's message, with no token and no hint of
// the credentials.
func arLogin(t *testing.T, addr, roleID, secretID string, status int) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"role_id": roleID, "secret_id": secretID})
	r := rawCall(t, "POST", addr, "auth/approle/login", "", body)
	if r.Status != status {
		t.Fatalf("login: status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status == 200 {
		if auth, _ := r.JSON(t)["auth"].(map[string]any); auth == nil || auth["client_token"] == "" {
			t.Fatalf("login: no token in %s", r.Body)
		}
		return
	}
	if errs := r.Errors(t); !slices.Equal(errs, []string{"invalid role or secret ID"}) {
		t.Fatalf("login errors = %q", errs)
	}
	if strings.Contains(string(r.Body), "client_token") || (secretID != "" && strings.Contains(string(r.Body), secretID)) {
		t.Fatalf("refused login body: %s", r.Body)
	}
}
