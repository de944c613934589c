package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
	"github.com/wardsec/ward/internal/engine"
)

func TestConfigValidation(t *testing.T) {
	h := newHarness(t)
	pemKey := jwttest.PublicKeyPEM(h.idp.RSAKey.Public())
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no key source", map[string]any{"bound_issuer": "x"}, "exactly one of"},
		{"two key sources", map[string]any{"jwks_url": h.idp.JWKSURL(), "jwt_validation_pubkeys": pemKey}, "exactly one of"},
		{"bad PEM", map[string]any{"jwt_validation_pubkeys": []string{"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}, "jwt_validation_pubkeys[0]"},
		{"not PEM", map[string]any{"jwt_validation_pubkeys": []string{"hello"}}, "not PEM"},
		{"HMAC alg", map[string]any{"jwt_validation_pubkeys": pemKey, "jwt_supported_algs": "HS256"}, `"HS256" is not a supported signing algorithm`},
		{"none alg", map[string]any{"jwt_validation_pubkeys": pemKey, "jwt_supported_algs": "none"}, `"none" is not a supported`},
		{"client without discovery", map[string]any{"jwt_validation_pubkeys": pemKey, "oidc_client_id": "a", "oidc_client_secret": "b"}, "requires 'oidc_discovery_url'"},
		{"client id without secret", map[string]any{"oidc_discovery_url": h.idp.URL, "oidc_discovery_ca_pem": h.idp.CAPEM(), "oidc_client_id": "a"}, "both 'oidc_client_id' and 'oidc_client_secret'"},
		{"CA without URL", map[string]any{"jwt_validation_pubkeys": pemKey, "jwks_ca_pem": h.idp.CAPEM()}, "'jwks_ca_pem' requires 'jwks_url'"},
		{"form_post", map[string]any{"jwt_validation_pubkeys": pemKey, "oidc_response_mode": "form_post"}, `only "query"`},
		{"id_token response", map[string]any{"jwt_validation_pubkeys": pemKey, "oidc_response_types": "id_token"}, `only "code"`},
		{"JWKS untrusted CA", map[string]any{"jwks_url": h.idp.JWKSURL()}, "error checking jwks URL"},
		{"JWKS garbage CA", map[string]any{"jwks_url": h.idp.JWKSURL(), "jwks_ca_pem": "nope"}, "no certificate found"},
		{"JWKS 404", map[string]any{"jwks_url": h.idp.URL + "/missing", "jwks_ca_pem": h.idp.CAPEM()}, "HTTP 404"},
		{"discovery untrusted CA", map[string]any{"oidc_discovery_url": h.idp.URL}, "error checking oidc discovery URL"},
		{"discovery wrong issuer", map[string]any{"oidc_discovery_url": h.idp.URL + "/other", "oidc_discovery_ca_pem": h.idp.CAPEM()}, "error checking oidc discovery URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.write("config", tt.data)
			if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a 400 containing %q", err, tt.want)
			}
		})
	}
	if resp, err := h.do(engine.OpRead, "config", nil); resp != nil || err != nil {
		t.Errorf("a refused write stored a config: %v, %v", resp, err)
	}
}

func TestConfigReadHidesSecret(t *testing.T) {
	h := newHarness(t)
	h.mustWrite("config", map[string]any{
		"oidc_discovery_url": h.idp.URL, "oidc_discovery_ca_pem": h.idp.CAPEM(),
		"oidc_client_id": h.idp.ClientID, "oidc_client_secret": h.idp.ClientSecret,
		"default_role": "people", "bound_issuer": h.idp.URL,
	})
	d := h.read("config").Data
	if _, ok := d["oidc_client_secret"]; ok {
		t.Error("config read returns oidc_client_secret")
	}
	for k, v := range d {
		if s, ok := v.(string); ok && strings.Contains(s, h.idp.ClientSecret) {
			t.Errorf("config field %s holds the secret", k)
		}
	}
	if d["oidc_discovery_url"] != h.idp.URL || d["oidc_client_id"] != h.idp.ClientID || d["default_role"] != "people" {
		t.Errorf("config read: %v", d)
	}
	c, _, _ := h.b.loadConfig(t.Context())
	if s := c.String(); strings.Contains(s, h.idp.ClientSecret) || !strings.Contains(s, "redacted") {
		t.Errorf("config String() = %q", s)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c)
	if strings.Contains(logged.String(), h.idp.ClientSecret) || !strings.Contains(logged.String(), "redacted") {
		t.Errorf("logged config: %s", logged.String())
	}
	// A write replaces the whole config.
	h.mustWrite("config", map[string]any{"jwt_validation_pubkeys": jwttest.PublicKeyPEM(h.idp.RSAKey.Public())})
	d = h.read("config").Data
	if d["oidc_discovery_url"] != "" || d["default_role"] != "" {
		t.Errorf("config write did not replace: %v", d)
	}
}

func TestConfigCertificateKey(t *testing.T) {
	h := newHarness(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	h.configStatic(map[string]any{"jwt_validation_pubkeys": []string{certPEM}})
	h.ciRole(nil)
	if _, err := h.login("ci", jwttest.SignWith(key, "ES256", "", h.claims())); err != nil {
		t.Fatalf("login with a key from a certificate: %v", err)
	}
}

func TestRoleCRUD(t *testing.T) {
	h := newHarness(t)
	bad := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no user_claim", map[string]any{"role_type": "jwt", "bound_subject": "x"}, "a user claim must be defined"},
		{"bad role_type", map[string]any{"role_type": "saml", "user_claim": "sub"}, "role_type"},
		{"oidc without redirect", map[string]any{"user_claim": "sub"}, "'allowed_redirect_uris' must be set"},
		{"jwt unbound", map[string]any{"role_type": "jwt", "user_claim": "sub"}, "at least one bound constraint"},
		{"bad claims type", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "bound_claims_type": "regex"}, "bound_claims_type"},
		{"reserved mapping", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "claim_mappings": map[string]any{"team": "role"}}, `"role" is reserved`},
		{"duplicate mapping", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "claim_mappings": map[string]any{"a": "k", "b": "k"}}, "multiple keys are mapped"},
		{"bound claim object", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_claims": map[string]any{"org": map[string]any{"x": 1}}}, "bound_claims.org"},
		{"bad leeway", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "clock_skew_leeway": "soon"}, "clock_skew_leeway"},
		{"bad ttl", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "token_ttl": "forever"}, "token_ttl"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.write("role/r", tt.data)
			if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a 400 containing %q", err, tt.want)
			}
		})
	}
	if resp, _ := h.do(engine.OpRead, "role/r", nil); resp != nil {
		t.Fatal("a refused role write was stored")
	}

	resp := h.mustWrite("role/people", map[string]any{
		"user_claim": "email", "allowed_redirect_uris": "http://localhost:8250/oidc/callback",
		"bound_claims": map[string]any{"org": "acme, globex"}, "oidc_scopes": "profile,email",
		"token_policies": "people", "unknown_field": 1,
	})
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "unknown_field") {
		t.Errorf("unknown field warning: %+v", resp)
	}
	d := h.read("role/people").Data
	if d["role_type"] != "oidc" || d["bound_claims_type"] != "string" || d["clock_skew_leeway"] != int64(60) || d["expiration_leeway"] != int64(150) {
		t.Errorf("defaults: %v", d)
	}
	if got := d["bound_claims"].(map[string]any)["org"]; !equalAny(got, []string{"acme", "globex"}) {
		t.Errorf("comma-separated bound claim stored as %#v", got)
	}
	if !equalAny(d["token_policies"], []string{"people"}) || !equalAny(d["oidc_scopes"], []string{"profile", "email"}) {
		t.Errorf("read: %v", d)
	}
	// An update changes only what it names.
	h.mustWrite("role/people", map[string]any{"groups_claim": "groups", "disable_bound_claims_parsing": true, "bound_claims": map[string]any{"org": "a,b"}})
	d = h.read("role/people").Data
	if d["user_claim"] != "email" || d["groups_claim"] != "groups" || !equalAny(d["token_policies"], []string{"people"}) {
		t.Errorf("after update: %v", d)
	}
	if got := d["bound_claims"].(map[string]any)["org"]; got != "a,b" {
		t.Errorf("disable_bound_claims_parsing: %#v", got)
	}
	if found, err := h.b.roleExists(t.Context(), &engine.Request{Vars: map[string]string{"name": "people"}}); !found || err != nil {
		t.Errorf("exists: %v %v", found, err)
	}

	h.mustWrite("role/ci", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x"})
	list, err := h.do(engine.OpList, "role/", nil)
	if err != nil || !equalAny(list.Data["keys"], []string{"ci", "people"}) {
		t.Errorf("list: %v, %v", list, err)
	}
	if _, err := h.do(engine.OpDelete, "role/ci", nil); err != nil {
		t.Fatal(err)
	}
	if resp, _ := h.do(engine.OpRead, "role/ci", nil); resp != nil {
		t.Error("deleted role still reads")
	}
}

func equalAny(v any, want []string) bool {
	got, ok := stringList(v)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestJWKSRefreshOnUnknownKID(t *testing.T) {
	h := newHarness(t)
	h.mustWrite("config", map[string]any{"jwks_url": h.idp.JWKSURL(), "jwks_ca_pem": h.idp.CAPEM(), "jwt_supported_algs": "RS256,ES256", "bound_issuer": "https://issuer.test"})
	h.ciRole(nil)
	base := h.idp.JWKSFetches()
	for _, sign := range []func(map[string]any) string{h.idp.Sign, h.idp.SignEC, h.idp.Sign} {
		if _, err := h.login("ci", sign(h.claims())); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.idp.JWKSFetches() - base; n > 1 {
		t.Errorf("known keys fetched the JWKS %d more times; want the cache used", n)
	}

	// The provider rotates in a new key: the first token with its kid makes
	// Ward fetch the key set again.
	rotated, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h.idp.Publish(rotated.Public(), "ec-2", "ES256")
	h.clock.Advance(jwksMinRefresh)
	before := h.idp.JWKSFetches()
	if _, err := h.login("ci", jwttest.SignWith(rotated, "ES256", "ec-2", h.claims())); err != nil {
		t.Fatalf("login with a rotated key: %v", err)
	}
	if h.idp.JWKSFetches() != before+1 {
		t.Errorf("JWKS fetches %d -> %d; want one refresh", before, h.idp.JWKSFetches())
	}

	// Unknown kids do not make Ward fetch again and again.
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	before = h.idp.JWKSFetches()
	for i := range 5 {
		tok := jwttest.SignWith(stranger, "ES256", "nope-"+string(rune('a'+i)), h.claims())
		resp, err := h.login("ci", tok)
		wantBadRequest(t, resp, err, "error validating signature", tok)
	}
	if n := h.idp.JWKSFetches() - before; n > 1 {
		t.Errorf("unknown kids caused %d fetches within %v; want at most 1", n, jwksMinRefresh)
	}
	// A known kid with a bad signature does not refresh at all.
	h.clock.Advance(jwksMinRefresh)
	before = h.idp.JWKSFetches()
	tok := jwttest.SignWith(stranger, "ES256", "ec-1", h.claims())
	resp, err := h.login("ci", tok)
	wantBadRequest(t, resp, err, "error validating signature", tok)
	if h.idp.JWKSFetches() != before {
		t.Error("a bad signature under a known kid refreshed the key set")
	}
	// After an hour the set is fetched again anyway.
	h.clock.Advance(jwksMaxAge)
	before = h.idp.JWKSFetches()
	if _, err := h.login("ci", h.idp.Sign(h.claims())); err != nil {
		t.Fatal(err)
	}
	if h.idp.JWKSFetches() != before+1 {
		t.Error("a stale key set was not fetched again")
	}
}

func TestJWKSSkipsUnknownKeyTypes(t *testing.T) {
	h := newHarness(t)
	idp := h.idp
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"weird","kid":"x"},` + publicJWK(t, idp) + `]}`))
	}))
	t.Cleanup(srv.Close)
	h.mustWrite("config", map[string]any{"jwks_url": srv.URL, "bound_issuer": "https://issuer.test"})
	h.ciRole(nil)
	if _, err := h.login("ci", idp.Sign(h.claims())); err != nil {
		t.Fatal(err)
	}
}

func publicJWK(t *testing.T, idp *jwttest.Provider) string {
	resp, err := idp.Client().Get(idp.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := jsonDecode(resp.Body, &set); err != nil {
		t.Fatal(err)
	}
	return mustJSON(set.Keys[0])
}

func TestDiscoveryJWTLogin(t *testing.T) {
	h := newHarness(t)
	h.mustWrite("config", map[string]any{"oidc_discovery_url": h.idp.URL + "/", "oidc_discovery_ca_pem": h.idp.CAPEM(), "bound_issuer": "https://issuer.test"})
	h.ciRole(nil)
	if _, err := h.login("ci", h.idp.Sign(h.claims())); err != nil {
		t.Fatalf("JWT login through discovery: %v", err)
	}
}
