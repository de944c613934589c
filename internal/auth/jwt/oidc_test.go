package jwt

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

const cliRedirect = "http://localhost:8250/oidc/callback"

func (h *harness) configOIDC() {
	h.t.Helper()
	h.mustWrite("config", map[string]any{
		"oidc_discovery_url": h.idp.URL, "oidc_discovery_ca_pem": h.idp.CAPEM(),
		"oidc_client_id": h.idp.ClientID, "oidc_client_secret": h.idp.ClientSecret,
		"default_role": "people",
	})
	h.mustWrite("role/people", map[string]any{
		"user_claim":            "email",
		"allowed_redirect_uris": []string{cliRedirect, "https://ward.example/ui/vault/auth/oidc/oidc/callback"},
		"bound_claims":          map[string]any{"org": "acme"},
		"claim_mappings":        map[string]any{"org": "org"},
		"groups_claim":          "groups",
		"oidc_scopes":           "profile,email",
		"token_policies":        "people",
	})
}

// authURL asks for an authorization URL.
func (h *harness) authURL(role, redirect, clientNonce string) (*url.URL, error) {
	resp, err := h.write("oidc/auth_url", map[string]any{"role": role, "redirect_uri": redirect, "client_nonce": clientNonce})
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(resp.Data["auth_url"].(string))
	if err != nil {
		h.t.Fatal(err)
	}
	return u, nil
}

// browse plays the browser: it opens the authorization URL and returns
// the query the provider redirects back with.
func (h *harness) browse(u *url.URL) url.Values {
	h.t.Helper()
	c := *h.idp.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(u.String())
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("authorize answered %s", resp.Status)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return back.Query()
}

func (h *harness) callback(state, code, clientNonce string) (*engine.Response, error) {
	return h.do(engine.OpRead, "oidc/callback", map[string]any{"state": state, "code": code, "client_nonce": clientNonce})
}

func TestOIDCFlow(t *testing.T) {
	h := newHarness(t)
	h.configOIDC()
	for _, path := range []string{"oidc/auth_url", "oidc/callback", "login"} {
		if _, unauth := h.b.Special(path, engine.OpUpdate); !unauth {
			t.Errorf("%s is not unauthenticated", path)
		}
	}

	u, err := h.authURL("", cliRedirect, "cn-1")
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != h.idp.URL+"/authorize" {
		t.Errorf("auth_url points at %s", u)
	}
	for k, want := range map[string]string{
		"client_id": h.idp.ClientID, "response_type": "code", "redirect_uri": cliRedirect,
		"scope": "openid profile email", "code_challenge_method": "S256",
	} {
		if q.Get(k) != want {
			t.Errorf("auth_url %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 40 || len(q.Get("nonce")) < 40 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q nonce %q challenge %q", q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	}
	if strings.Contains(u.String(), h.idp.ClientSecret) || strings.Contains(u.String(), url.QueryEscape(h.idp.ClientSecret)) {
		t.Error("auth_url carries the client secret")
	}

	back := h.browse(u)
	resp, err := h.callback(back.Get("state"), back.Get("code"), "cn-1")
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	l := resp.Login
	if l == nil || l.Alias.Name != "alice@example.com" {
		t.Fatalf("login: %+v", l)
	}
	if !maps.Equal(l.Metadata, map[string]string{"org": "acme", "role": "people"}) ||
		!slices.Equal(l.GroupAliases, []string{"eng"}) || !slices.Equal(l.Policies, []string{"people"}) {
		t.Errorf("login metadata %v groups %v policies %v", l.Metadata, l.GroupAliases, l.Policies)
	}

	// The state was used up.
	resp, err = h.callback(back.Get("state"), back.Get("code"), "cn-1")
	wantBadRequest(t, resp, err, "Expired or missing OAuth state", "")
}

func TestOIDCRefusals(t *testing.T) {
	h := newHarness(t)
	h.configOIDC()
	h.mustWrite("role/ci", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x"})

	t.Run("redirect not allowed", func(t *testing.T) {
		_, err := h.authURL("people", "https://evil.example/callback", "")
		if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "unauthorized redirect_uri") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("loopback port may differ", func(t *testing.T) {
		if _, err := h.authURL("people", "http://localhost:39999/oidc/callback", ""); err != nil {
			t.Errorf("got %v", err)
		}
		if _, err := h.authURL("people", "http://localhost:39999/other", ""); err == nil {
			t.Error("a different loopback path was allowed")
		}
	})
	t.Run("jwt role", func(t *testing.T) {
		if _, err := h.authURL("ci", cliRedirect, ""); err == nil || !strings.Contains(err.Error(), "not an OIDC role") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("client nonce mismatch", func(t *testing.T) {
		u, _ := h.authURL("people", cliRedirect, "mine")
		back := h.browse(u)
		resp, err := h.callback(back.Get("state"), back.Get("code"), "theirs")
		wantBadRequest(t, resp, err, "invalid client_nonce", "")
	})
	t.Run("unknown state", func(t *testing.T) {
		resp, err := h.callback("forged", "code", "")
		wantBadRequest(t, resp, err, "Expired or missing OAuth state", "")
	})
	t.Run("expired state", func(t *testing.T) {
		u, _ := h.authURL("people", cliRedirect, "")
		back := h.browse(u)
		h.clock.Advance(stateTTL + time.Second)
		resp, err := h.callback(back.Get("state"), back.Get("code"), "")
		wantBadRequest(t, resp, err, "Expired or missing OAuth state", "")
	})
	t.Run("code from another login", func(t *testing.T) {
		// The code was issued for a different PKCE challenge: the
		// provider refuses our verifier.
		u1, _ := h.authURL("people", cliRedirect, "")
		u2, _ := h.authURL("people", cliRedirect, "")
		back1, back2 := h.browse(u1), h.browse(u2)
		resp, err := h.callback(back1.Get("state"), back2.Get("code"), "")
		wantBadRequest(t, resp, err, "PKCE verification failed", "")
	})
	t.Run("provider error", func(t *testing.T) {
		u, _ := h.authURL("people", cliRedirect, "")
		resp, err := h.do(engine.OpRead, "oidc/callback", map[string]any{"state": u.Query().Get("state"), "error": "access_denied"})
		wantBadRequest(t, resp, err, "the provider refused the login: access_denied", "")
	})
	for _, tt := range []struct {
		name   string
		tamper func(map[string]any)
		user   map[string]any
		want   string
	}{
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "replayed" }, nil, "invalid ID token nonce"},
		{"wrong audience", func(c map[string]any) { c["aud"] = "someone-else" }, nil, "aud claim does not include the client ID"},
		{"wrong issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, nil, "iss claim does not match"},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, nil, "token is expired"},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, nil, "token has no exp claim"},
		{"other azp", func(c map[string]any) { c["azp"] = "other-client" }, nil, "azp claim does not match"},
		{"other org", nil, map[string]any{"sub": "bob", "email": "bob@globex.example", "org": "globex", "groups": []any{}}, `claim "org" does not match any associated bound claim values`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.idp.Tamper(tt.tamper)
			defer h.idp.Tamper(nil)
			if tt.user != nil {
				h.idp.SetUser(tt.user)
				defer h.idp.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []any{"eng"}, "org": "acme"})
			}
			u, err := h.authURL("people", cliRedirect, "")
			if err != nil {
				t.Fatal(err)
			}
			back := h.browse(u)
			resp, err := h.callback(back.Get("state"), back.Get("code"), "")
			wantBadRequest(t, resp, err, tt.want, "")
		})
	}
}

func TestOIDCClientSecretPost(t *testing.T) {
	h := newHarness(t)
	h.idp.RequirePostAuth()
	h.configOIDC()
	u, err := h.authURL("people", cliRedirect, "")
	if err != nil {
		t.Fatal(err)
	}
	back := h.browse(u)
	if _, err := h.callback(back.Get("state"), back.Get("code"), ""); err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}
}

func TestOIDCNotConfigured(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.mustWrite("role/people", map[string]any{"user_claim": "email", "allowed_redirect_uris": cliRedirect})
	_, err := h.authURL("people", cliRedirect, "")
	if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "not configured for OIDC") {
		t.Errorf("got %v", err)
	}
}

func TestStateStoreBounded(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := newStateStore(c.Now)
	id := func(i int) string { return fmt.Sprintf("state-%d", i) }
	for i := range maxStates {
		if n := s.put(id(i), &oidcState{role: id(i), expires: c.Now().Add(stateTTL)}); n != 0 {
			t.Fatalf("put %d evicted %d states from a store that is not full", i, n)
		}
		c.Advance(time.Millisecond)
	}
	// A full store takes a new login and evicts the oldest one under way,
	// so a flood of auth_url calls cannot lock out OIDC login.
	if n := s.put("one-more", &oidcState{role: "one-more", expires: c.Now().Add(stateTTL)}); n != 1 {
		t.Fatalf("a full store evicted %d states; want 1", n)
	}
	if len(s.m) != maxStates || s.order.Len() != maxStates {
		t.Fatalf("%d states (%d in order); want %d", len(s.m), s.order.Len(), maxStates)
	}
	if st := s.take(id(0)); st != nil {
		t.Errorf("the oldest state survived: %v", st)
	}
	if st := s.take(id(1)); st == nil || st.role != id(1) {
		t.Errorf("the second oldest state was evicted: %v", st)
	}
	if st := s.take("one-more"); st == nil || st.role != "one-more" {
		t.Errorf("the new state is missing: %v", st)
	}
	if st := s.take("one-more"); st != nil {
		t.Errorf("a state was taken twice")
	}
	// Expired states are dropped as new ones come in, and count as no
	// eviction.
	c.Advance(stateTTL)
	if n := s.put("after", &oidcState{expires: c.Now().Add(stateTTL)}); n != 0 {
		t.Errorf("pruning expired states counted %d evictions", n)
	}
	if len(s.m) != 1 || s.order.Len() != 1 {
		t.Errorf("%d states (%d in order) left; want 1", len(s.m), s.order.Len())
	}
}

// A flood of unauthenticated auth_url calls must not stop a real OIDC
// login: the user's next attempt gets through.
func TestOIDCStateFloodDoesNotLockOut(t *testing.T) {
	h := newHarness(t)
	h.configOIDC()
	for i := range maxStates + 10 {
		if _, err := h.authURL("people", cliRedirect, ""); err != nil {
			t.Fatalf("auth_url %d: %v", i, err)
		}
	}
	u, err := h.authURL("people", cliRedirect, "")
	if err != nil {
		t.Fatalf("auth_url after a flood: %v", err)
	}
	q := h.browse(u)
	resp, err := h.callback(q.Get("state"), q.Get("code"), "")
	if err != nil || resp.Login == nil {
		t.Fatalf("callback after a flood: %v, %+v", err, resp)
	}
}
