package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
)

// TestAuthJWT drives the JWT method through a real server with Vault's Go
// client: a CI job's JWT from a test issuer, whose org claim must be
// "acme", gets a token that reads acme's secrets (through an identity
// template on the org claim) and nothing else; the same JWT for another
// org, an expired one, one for another audience, a forged one and an
// unsigned one get a 400 naming the rule and no token.
func TestAuthJWT(t *testing.T) {
	t.Parallel()
	idp := jwttest.NewProvider(t)
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().EnableAuthWithOptions("jwt", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	mounts, err := root.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	acc := mounts["jwt/"].Accessor
	jwWrite(t, root, "auth/jwt/config", map[string]any{
		"jwks_url": idp.JWKSURL(), "jwks_ca_pem": idp.CAPEM(),
		"bound_issuer": "https://ci.example", "jwt_supported_algs": []string{"RS256", "ES256"},
	})
	putPolicy(t, root, "ci-own-org", `path "secret/data/orgs/{{identity.entity.aliases.`+acc+`.metadata.org}}/*" { capabilities = ["read"] }`)
	jwWrite(t, root, "auth/jwt/role/ci", map[string]any{
		"role_type":       "jwt",
		"user_claim":      "sub",
		"bound_audiences": "ward",
		"bound_claims":    map[string]any{"org": "acme"},
		"claim_mappings":  map[string]any{"org": "org", "repo": "repo"},
		"token_policies":  "ci-own-org",
		"token_ttl":       "10m",
	})
	for _, org := range []string{"acme", "globex"} {
		jwWrite(t, root, "secret/data/orgs/"+org+"/deploy", map[string]any{"data": map[string]any{"key": org + "-key"}})
	}
	claims := func(edit func(map[string]any)) map[string]any {
		now := time.Now()
		c := map[string]any{
			"iss": "https://ci.example", "sub": "repo:acme/api:ref:main", "aud": "ward",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"org": "acme", "repo": "acme/api",
		}
		if edit != nil {
			edit(c)
		}
		return c
	}

	t.Run("acme's job logs in and reads acme's secrets only", func(t *testing.T) {
		for name, tok := range map[string]string{"RS256": idp.Sign(claims(nil)), "ES256": idp.SignEC(claims(nil))} {
			login, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/jwt/login", map[string]any{"role": "ci", "jwt": tok})
			if err != nil {
				t.Fatalf("%s login: %v", name, err)
			}
			a := login.Auth
			if a == nil || a.ClientToken == "" || a.EntityID == "" || !a.Renewable || a.LeaseDuration != 600 ||
				a.Metadata["role"] != "ci" || a.Metadata["org"] != "acme" || a.Metadata["repo"] != "acme/api" ||
				!slices.Contains(a.Policies, "ci-own-org") {
				t.Fatalf("%s login auth = %+v", name, a)
			}
			job := vaultClient(t, srv.Addr, a.ClientToken)
			got, err := job.Logical().Read("secret/data/orgs/acme/deploy")
			if err != nil {
				t.Fatalf("read own org's secret: %v", err)
			}
			if k := got.Data["data"].(map[string]any)["key"]; k != "acme-key" {
				t.Errorf("acme secret = %v", k)
			}
			_, err = job.Logical().Read("secret/data/orgs/globex/deploy")
			wantStatus(t, err, 403, "permission denied")
		}
	})

	other := jwttest.RSAKeys()[1]
	for _, c := range []struct{ name, jwt, msg string }{
		{"another org", idp.Sign(claims(func(c map[string]any) { c["org"] = "globex"; c["repo"] = "globex/api" })),
			`claim "org" does not match any associated bound claim values`},
		{"expired", idp.Sign(claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), "token is expired"},
		{"wrong audience", idp.Sign(claims(func(c map[string]any) { c["aud"] = "someone-else" })), "aud claim does not match any bound audience"},
		{"wrong issuer", idp.Sign(claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), "iss claim does not match bound issuer"},
		{"bad signature", jwttest.SignWith(other, jose.RS256, "rsa-1", claims(nil)), "error validating signature"},
		{"unknown key", jwttest.SignWith(other, jose.RS256, "rsa-9", claims(nil)), "error validating signature"},
		{"unsigned", jwttest.Unsigned(claims(nil)), `signing algorithm "none" is not allowed`},
		{"garbage", "not-a-jwt", "error parsing token"},
	} {
		t.Run("refused: "+c.name, func(t *testing.T) {
			jwLoginRefused(t, srv.Addr, "auth/jwt/login", `{"role":"ci","jwt":"`+c.jwt+`"}`, c.msg, c.jwt)
		})
	}
}

// TestAuthOIDC drives the OIDC authorization-code flow end to end with a
// plain HTTP client in the browser's place: auth_url, the provider's
// authorize page, the callback with state and code. The person's groups
// claim links them to an external identity group.
func TestAuthOIDC(t *testing.T) {
	t.Parallel()
	idp := jwttest.NewProvider(t)
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().EnableAuthWithOptions("oidc", &vaultapi.EnableAuthOptions{Type: "oidc"}); err != nil {
		t.Fatal(err)
	}
	mounts, err := root.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	acc := mounts["oidc/"].Accessor
	const callback = "http://localhost:8250/oidc/callback"
	jwWrite(t, root, "auth/oidc/config", map[string]any{
		"oidc_discovery_url": idp.URL, "oidc_discovery_ca_pem": idp.CAPEM(),
		"oidc_client_id": idp.ClientID, "oidc_client_secret": idp.ClientSecret, "default_role": "people",
	})
	read, err := root.Logical().Read("auth/oidc/config")
	if err != nil || read.Data["oidc_client_id"] != idp.ClientID || read.Data["oidc_client_secret"] != nil {
		t.Fatalf("config read = %v, %v", read, err)
	}
	jwWrite(t, root, "auth/oidc/role/people", map[string]any{
		"user_claim": "email", "allowed_redirect_uris": callback,
		"bound_claims": map[string]any{"org": "acme"}, "groups_claim": "groups",
		"token_policies": "default",
	})
	putPolicy(t, root, "eng-read", `path "secret/data/eng/*" { capabilities = ["read"] }`)
	g := jwWrite(t, root, "identity/group", map[string]any{"name": "engineers", "type": "external", "policies": "eng-read"})
	jwWrite(t, root, "identity/group-alias", map[string]any{"name": "eng", "mount_accessor": acc, "canonical_id": g.Data["id"]})
	jwWrite(t, root, "secret/data/eng/runbook", map[string]any{"data": map[string]any{"step": "1"}})

	login := func(t *testing.T) (state, code string) {
		t.Helper()
		s, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/oidc/oidc/auth_url", map[string]any{"redirect_uri": callback, "client_nonce": "n-123"})
		if err != nil {
			t.Fatalf("auth_url: %v", err)
		}
		authURL, _ := s.Data["auth_url"].(string)
		if !strings.HasPrefix(authURL, idp.URL+"/authorize?") {
			t.Fatalf("auth_url = %q", authURL)
		}
		browser := *idp.Client()
		browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := browser.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), callback+"?") {
			t.Fatalf("authorize answered %s, Location %q", resp.Status, resp.Header.Get("Location"))
		}
		return back.Query().Get("state"), back.Query().Get("code")
	}

	t.Run("a person logs in through the provider", func(t *testing.T) {
		state, code := login(t)
		s, err := vaultClient(t, srv.Addr, "").Logical().ReadWithData("auth/oidc/oidc/callback",
			map[string][]string{"state": {state}, "code": {code}, "client_nonce": {"n-123"}})
		if err != nil {
			t.Fatalf("callback: %v", err)
		}
		a := s.Auth
		if a == nil || a.ClientToken == "" || a.EntityID == "" || a.Metadata["role"] != "people" {
			t.Fatalf("callback auth = %+v", a)
		}
		person := vaultClient(t, srv.Addr, a.ClientToken)
		if _, err := person.Logical().Read("secret/data/eng/runbook"); err != nil {
			t.Errorf("the external group's policy does not apply: %v", err)
		}
		self, err := person.Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		if ps, _ := self.Data["identity_policies"].([]any); !slices.Contains(ps, any("eng-read")) {
			t.Errorf("lookup-self identity_policies = %v, want the group's eng-read", self.Data["identity_policies"])
		}
		// The state is single use.
		_, err = vaultClient(t, srv.Addr, "").Logical().ReadWithData("auth/oidc/oidc/callback",
			map[string][]string{"state": {state}, "code": {code}, "client_nonce": {"n-123"}})
		wantStatus(t, err, 400, "Expired or missing OAuth state")
	})

	t.Run("refused: another org", func(t *testing.T) {
		idp.SetUser(map[string]any{"sub": "mallory", "email": "mallory@globex.example", "org": "globex", "groups": []any{"eng"}})
		defer idp.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []any{"eng"}, "org": "acme"})
		state, code := login(t)
		jwLoginRefused(t, srv.Addr, "auth/oidc/oidc/callback?"+url.Values{"state": {state}, "code": {code}, "client_nonce": {"n-123"}}.Encode(),
			"", `claim "org" does not match any associated bound claim values`, "")
	})
	t.Run("refused: redirect not allowed", func(t *testing.T) {
		_, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/oidc/oidc/auth_url", map[string]any{"redirect_uri": "https://evil.example/cb"})
		wantStatus(t, err, 400, "unauthorized redirect_uri")
	})
}

func jwWrite(t *testing.T, c *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// jwLoginRefused sends a login with no token (a POST of body, or a GET
// when body is empty) and checks for a 400 containing msg with neither a
// token nor the JWT in the answer.
func jwLoginRefused(t *testing.T, addr, path, body, msg, jwt string) {
	t.Helper()
	method, b := "POST", []byte(body)
	if body == "" {
		method, b = "GET", nil
	}
	r := rawCall(t, method, addr, path, "", b)
	if r.Status != 400 {
		t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
	}
	if errs := r.Errors(t); !strings.Contains(strings.Join(errs, "\n"), msg) {
		t.Fatalf("errors %q, want %q", errs, msg)
	}
	if strings.Contains(string(r.Body), "client_token") || (len(jwt) > 20 && strings.Contains(string(r.Body), jwt[len(jwt)-20:])) {
		t.Fatalf("refused login leaks: %s", r.Body)
	}
}
