package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
	"github.com/wardsec/ward/internal/engine"
)

func TestLoginStaticKeys(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(nil)

	for name, sign := range map[string]func(map[string]any) string{
		"RS256": h.idp.Sign,
		"ES256": h.idp.SignEC,
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := h.login("ci", sign(h.claims()))
			if err != nil {
				t.Fatal(err)
			}
			l := resp.Login
			if l == nil || resp.Auth != nil {
				t.Fatalf("want a Login and no Auth: %+v", resp)
			}
			if l.Alias.Name != "pipeline-42" || l.DisplayName != "pipeline-42" {
				t.Errorf("alias %q display %q", l.Alias.Name, l.DisplayName)
			}
			wantAlias := map[string]string{"organization": "acme", "environment": "prod"}
			if !maps.Equal(l.Alias.Metadata, wantAlias) {
				t.Errorf("alias metadata %v, want %v", l.Alias.Metadata, wantAlias)
			}
			wantMeta := map[string]string{"organization": "acme", "environment": "prod", "role": "ci"}
			if !maps.Equal(l.Metadata, wantMeta) {
				t.Errorf("metadata %v, want %v", l.Metadata, wantMeta)
			}
			if !slices.Equal(l.GroupAliases, []string{"builders", "eng"}) {
				t.Errorf("groups %v", l.GroupAliases)
			}
			if !slices.Equal(l.Policies, []string{"ci"}) || l.TTL != time.Hour || !l.Renewable {
				t.Errorf("token settings: policies %v ttl %v renewable %v", l.Policies, l.TTL, l.Renewable)
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(nil)
	h.mustWrite("role/person", map[string]any{"user_claim": "sub", "allowed_redirect_uris": "http://localhost:8250/oidc/callback"})
	other := jwttest.RSAKeys()[1]
	now := h.clock.Now()
	with := func(k string, v any) map[string]any {
		c := h.claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name, role, token, want string
	}{
		{"expired", "ci", h.idp.Sign(with("exp", now.Add(-time.Hour).Unix())), "token is expired"},
		{"nbf in the future", "ci", h.idp.Sign(with("nbf", now.Add(time.Hour).Unix())), "token is not yet valid"},
		{"iat in the future", "ci", h.idp.Sign(with("iat", now.Add(time.Hour).Unix())), "token was issued in the future"},
		{"exp not a number", "ci", h.idp.Sign(with("exp", "tomorrow")), "exp claim is not a number"},
		{"wrong audience", "ci", h.idp.Sign(with("aud", []any{"other", "another"})), "aud claim does not match any bound audience"},
		{"no audience", "ci", h.idp.Sign(with("aud", nil)), "aud claim does not match any bound audience"},
		{"wrong issuer", "ci", h.idp.Sign(with("iss", "https://evil.test")), "iss claim does not match bound issuer"},
		{"other org", "ci", h.idp.Sign(with("org", "globex")), `claim "org" does not match any associated bound claim values`},
		{"org missing", "ci", h.idp.Sign(with("org", nil)), `claim "org" is missing`},
		{"org not a string", "ci", h.idp.Sign(with("org", 7)), `claim "org" does not match`},
		{"user claim missing", "ci", h.idp.Sign(with("sub", nil)), `claim "sub" not found in token`},
		{"user claim not a string", "ci", h.idp.Sign(with("sub", 42)), `claim "sub" could not be converted to string`},
		{"groups not strings", "ci", h.idp.Sign(with("groups", []any{1, 2})), `"groups" claim must hold strings`},
		{"groups missing", "ci", h.idp.Sign(with("groups", nil)), `"groups" claim not found in token`},
		{"bad signature", "ci", jwttest.SignWith(other, jose.RS256, "", h.claims()), "error validating signature"},
		{"tampered payload", "ci", tamper(h.idp.Sign(h.claims())), "error validating signature"},
		{"alg none", "ci", jwttest.Unsigned(h.claims()), `signing algorithm "none" is not allowed`},
		{"HS256", "ci", jwttest.SignWith([]byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", h.claims()), `signing algorithm "HS256" is not allowed`},
		{"malformed", "ci", "not.a.jwt-at-all", "error parsing token: malformed JWT"},
		{"empty", "ci", "", "missing token"},
		{"oidc role", "person", h.idp.Sign(h.claims()), "role with oidc role_type is not allowed"},
		{"unknown role", "nope", h.idp.Sign(h.claims()), "role could not be found"},
		{"role with a slash", "ci/", h.idp.Sign(h.claims()), "role could not be found"},
		{"no role", "", h.idp.Sign(h.claims()), "missing role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.login(tt.role, tt.token)
			wantBadRequest(t, resp, err, tt.want, tt.token)
		})
	}
}

// tamper flips the payload of a compact JWS while keeping it decodable.
func tamper(tok string) string {
	b := []byte(tok)
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == '.' {
			// The character before the signature is the payload's last.
			if b[i-1] == 'A' {
				b[i-1] = 'Q'
			} else {
				b[i-1] = 'A'
			}
			break
		}
	}
	return string(b)
}

func TestLoginAudienceWithoutBoundAudiences(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(map[string]any{"bound_audiences": []string{}})
	resp, err := h.login("ci", h.idp.Sign(h.claims()))
	wantBadRequest(t, resp, err, "audience claim found in JWT but no audiences bound to the role", "")
	c := h.claims()
	delete(c, "aud")
	if _, err := h.login("ci", h.idp.Sign(c)); err != nil {
		t.Errorf("a token without aud, for a role without bound_audiences: %v", err)
	}
}

func TestLoginLeeways(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(nil)
	past := h.claims()
	past["exp"] = h.clock.Now().Add(-100 * time.Second).Unix()
	future := h.claims()
	future["nbf"] = h.clock.Now().Add(100 * time.Second).Unix()

	// Default leeways (60s skew + 150s) forgive 100 seconds both ways.
	for _, c := range []map[string]any{past, future} {
		if _, err := h.login("ci", h.idp.Sign(c)); err != nil {
			t.Errorf("within the default leeway: %v", err)
		}
	}
	// Turned off, they forgive nothing.
	h.ciRole(map[string]any{"clock_skew_leeway": -1, "expiration_leeway": "-1", "not_before_leeway": -1})
	resp, err := h.login("ci", h.idp.Sign(past))
	wantBadRequest(t, resp, err, "token is expired", "")
	resp, err = h.login("ci", h.idp.Sign(future))
	wantBadRequest(t, resp, err, "token is not yet valid", "")
	// Explicit amounts add up: 30s skew + 80s expiration leeway > 100s.
	h.ciRole(map[string]any{"clock_skew_leeway": "30s", "expiration_leeway": 80})
	if _, err := h.login("ci", h.idp.Sign(past)); err != nil {
		t.Errorf("30s+80s leeway: %v", err)
	}
	got := h.read("role/ci").Data
	if got["clock_skew_leeway"] != int64(30) || got["expiration_leeway"] != int64(80) || got["not_before_leeway"] != int64(-1) {
		t.Errorf("leeways read back as %v %v %v", got["clock_skew_leeway"], got["expiration_leeway"], got["not_before_leeway"])
	}
}

func TestLoginBoundClaimsGlobAndNested(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	bound := map[string]any{
		"/project/path": "acme/*",
		"groups":        []any{"deploy-*", "admins"},
		"ref":           "refs/heads/main,refs/tags/v*",
	}
	h.ciRole(map[string]any{"bound_claims_type": "glob", "bound_claims": bound})
	good := h.claims()
	good["project"] = map[string]any{"path": "acme/api"}
	good["groups"] = []any{"readers", "deploy-prod"}
	good["ref"] = "refs/tags/v1.2.3"
	if _, err := h.login("ci", h.idp.Sign(good)); err != nil {
		t.Fatalf("matching claims refused: %v", err)
	}
	for name, edit := range map[string]func(map[string]any){
		"nested claim":   func(c map[string]any) { c["project"] = map[string]any{"path": "other/api"} },
		"nested missing": func(c map[string]any) { c["project"] = "acme/api" },
		"list claim":     func(c map[string]any) { c["groups"] = []any{"readers"} },
		"comma list":     func(c map[string]any) { c["ref"] = "refs/heads/dev" },
	} {
		t.Run(name, func(t *testing.T) {
			c := maps.Clone(good)
			edit(c)
			resp, err := h.login("ci", h.idp.Sign(c))
			if err == nil || resp != nil || !errors.Is(err, engine.ErrInvalidRequest) {
				t.Fatalf("want a 400, got %v, %v", resp, err)
			}
		})
	}
	// With the default "string" type a "*" is a literal character.
	h.ciRole(map[string]any{"bound_claims_type": "string", "bound_claims": bound})
	resp, err := h.login("ci", h.idp.Sign(good))
	wantBadRequest(t, resp, err, "does not match any associated bound claim values", "")
}

func TestLoginBoundSubjectAndCIDRs(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(map[string]any{"bound_subject": "pipeline-42"})
	if _, err := h.login("ci", h.idp.Sign(h.claims())); err != nil {
		t.Fatal(err)
	}
	c := h.claims()
	c["sub"] = "pipeline-43"
	resp, err := h.login("ci", h.idp.Sign(c))
	wantBadRequest(t, resp, err, "sub claim does not match bound subject", "")

	h.ciRole(map[string]any{"token_bound_cidrs": []string{"10.0.0.0/8"}})
	resp, err = h.login("ci", h.idp.Sign(h.claims()))
	if !errors.Is(err, engine.ErrPermissionDenied) || resp != nil {
		t.Errorf("login from outside token_bound_cidrs: %v, %v", resp, err)
	}
}

func TestLoginDefaultRoleAndAlgs(t *testing.T) {
	h := newHarness(t)
	h.configStatic(map[string]any{"default_role": "ci", "jwt_supported_algs": []string{"ES256"}})
	h.ciRole(nil)
	if _, err := h.write("login", map[string]any{"jwt": h.idp.SignEC(h.claims())}); err != nil {
		t.Fatalf("login with the default role: %v", err)
	}
	resp, err := h.login("", h.idp.Sign(h.claims()))
	wantBadRequest(t, resp, err, `signing algorithm "RS256" is not allowed`, "")
	// An ES384 key is not an ES256 key.
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	h.configStatic(map[string]any{"jwt_validation_pubkeys": []string{jwttest.PublicKeyPEM(k384.Public())}, "jwt_supported_algs": "ES256,ES384"})
	if _, err := h.login("ci", jwttest.SignWith(k384, jose.ES384, "", h.claims())); err != nil {
		t.Errorf("ES384: %v", err)
	}
}

func TestLoginWithoutConfig(t *testing.T) {
	h := newHarness(t)
	resp, err := h.login("ci", h.idp.Sign(h.claims()))
	wantBadRequest(t, resp, err, "could not load configuration", "")
}

// A token without exp is not good forever: it needs iat or nbf and then
// lives expiration_leeway (plus the clock skew leeway) past the later.
func TestLoginWithoutExp(t *testing.T) {
	h := newHarness(t)
	h.configStatic(nil)
	h.ciRole(nil)
	without := func(names ...string) map[string]any {
		c := h.claims()
		for _, n := range names {
			delete(c, n)
		}
		return c
	}

	tok := h.idp.Sign(without("exp", "iat", "nbf"))
	resp, err := h.login("ci", tok)
	wantBadRequest(t, resp, err, "token has no exp, iat or nbf claim", tok)

	// iat only: good for 60s skew + 150s expiration leeway.
	start := h.clock.Now()
	iatOnly := h.idp.Sign(without("exp", "nbf"))
	if _, err := h.login("ci", iatOnly); err != nil {
		t.Fatalf("a fresh token with iat and no exp: %v", err)
	}
	h.clock.Advance(209 * time.Second)
	if _, err := h.login("ci", iatOnly); err != nil {
		t.Fatalf("209s after iat, within 60s+150s: %v", err)
	}
	h.clock.Advance(time.Second)
	resp, err = h.login("ci", iatOnly)
	wantBadRequest(t, resp, err, "token is expired: it has no exp claim", iatOnly)

	// The later of iat and nbf counts: an nbf 100s after iat keeps the
	// token good for 100s more.
	c := without("exp")
	c["iat"] = start.Unix()
	c["nbf"] = start.Add(100 * time.Second).Unix()
	both := h.idp.Sign(c)
	if _, err := h.login("ci", both); err != nil {
		t.Errorf("210s after iat but 110s after nbf: %v", err)
	}
	h.clock.Advance(100 * time.Second)
	resp, err = h.login("ci", both)
	wantBadRequest(t, resp, err, "token is expired", both)

	// nbf only.
	nbfOnly := h.idp.Sign(without("exp", "iat"))
	if _, err := h.login("ci", nbfOnly); err != nil {
		t.Errorf("a fresh token with nbf and no exp: %v", err)
	}

	// The role's leeways set the lifetime; both turned off refuse it.
	h.ciRole(map[string]any{"clock_skew_leeway": -1, "expiration_leeway": "30s"})
	tok = h.idp.Sign(without("exp", "nbf"))
	if _, err := h.login("ci", tok); err != nil {
		t.Errorf("within a 30s expiration leeway: %v", err)
	}
	h.clock.Advance(30 * time.Second)
	resp, err = h.login("ci", tok)
	wantBadRequest(t, resp, err, "token is expired", tok)
	h.ciRole(map[string]any{"clock_skew_leeway": -1, "expiration_leeway": -1})
	tok = h.idp.Sign(without("exp", "nbf"))
	resp, err = h.login("ci", tok)
	wantBadRequest(t, resp, err, "token is expired", tok)
}

// A JWT pasted into the role field must not come back in the error (and
// so in the response and the audit log).
func TestLoginUnknownRoleNotEchoed(t *testing.T) {
	h := newHarness(t)
	h.configOIDC()
	h.ciRole(nil)
	pasted := h.idp.Sign(h.claims())
	for _, path := range []string{"login", "oidc/auth_url"} {
		resp, err := h.write(path, map[string]any{"role": pasted, "jwt": pasted, "redirect_uri": cliRedirect})
		wantBadRequest(t, resp, err, "role could not be found", "")
		if strings.Contains(err.Error(), pasted[:20]) {
			t.Errorf("%s: error echoes the role name: %q", path, err)
		}
	}
}

// Without jwt_supported_algs a "jwt" role takes every asymmetric
// algorithm, as Vault's does; "oidc" roles keep RS256; HMAC and "none"
// are never taken.
func TestLoginDefaultAlgs(t *testing.T) {
	h := newHarness(t)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := h.idp.RSAKey
	h.configStatic(map[string]any{
		"jwt_supported_algs": []string{},
		"jwt_validation_pubkeys": []string{
			jwttest.PublicKeyPEM(rsaKey.Public()), jwttest.PublicKeyPEM(h.idp.ECKey.Public()), jwttest.PublicKeyPEM(edKey.Public()),
		},
	})
	h.ciRole(nil)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
	}{
		{jose.RS256, rsaKey}, {jose.RS512, rsaKey}, {jose.PS256, rsaKey},
		{jose.ES256, h.idp.ECKey}, {jose.EdDSA, edKey},
	} {
		if _, err := h.login("ci", jwttest.SignWith(tc.key, tc.alg, "", h.claims())); err != nil {
			t.Errorf("%s: %v", tc.alg, err)
		}
	}
	tok := jwttest.SignWith([]byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", h.claims())
	resp, err := h.login("ci", tok)
	wantBadRequest(t, resp, err, `signing algorithm "HS256" is not allowed`, tok)
	tok = jwttest.Unsigned(h.claims())
	resp, err = h.login("ci", tok)
	wantBadRequest(t, resp, err, `signing algorithm "none" is not allowed`, tok)

	var c config
	for _, rt := range []string{roleTypeJWT, roleTypeOIDC} {
		for _, a := range c.algs(rt) {
			if !slices.Contains(supportedAlgs, a) || strings.HasPrefix(string(a), "HS") {
				t.Errorf("%s default allows %s", rt, a)
			}
		}
	}
	if got := c.algs(roleTypeOIDC); !slices.Equal(got, []jose.SignatureAlgorithm{jose.RS256}) {
		t.Errorf("oidc default algs %v; want RS256", got)
	}
}
