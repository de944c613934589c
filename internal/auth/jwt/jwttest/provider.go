// Package jwttest is an OpenID Connect provider for tests of the JWT/OIDC
// auth method: an HTTPS server on 127.0.0.1 that serves discovery, a JWKS,
// an authorization endpoint that logs a test user in at once, and a token
// endpoint that checks the client secret and the PKCE verifier. It also
// signs arbitrary JWTs with its keys.
//
//	p := jwttest.NewProvider(t)
//	jwt := p.Sign(map[string]any{"sub": "ci", "aud": "ward", "exp": ...})
//
// Tests only: nothing in production imports it.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Provider is a running test identity provider.
type Provider struct {
	// URL is the issuer and the discovery base URL (https://127.0.0.1:port).
	URL string
	// ClientID and ClientSecret are the one OAuth client it knows.
	ClientID, ClientSecret string
	// RSAKey (key ID "rsa-1", RSAKeys()[0]) and ECKey (key ID "ec-1") are
	// published in the JWKS; Sign uses RSAKey with RS256.
	RSAKey *rsa.PrivateKey
	ECKey  *ecdsa.PrivateKey

	srv *httptest.Server

	mu        sync.Mutex
	now       func() time.Time
	published []jose.JSONWebKey
	jwksHits  int
	user      map[string]any
	tamper    func(claims map[string]any)
	codes     map[string]grant
	authMode  string // "basic" or "post": how the client must authenticate
}

// grant is an authorization code waiting to be redeemed.
type grant struct {
	challenge, redirectURI, nonce string
	claims                        map[string]any
}

// NewProvider starts a provider; it stops when the test ends. The test
// user's claims are {"sub": "alice", "email": "alice@example.com",
// "groups": ["eng"], "org": "acme"}.
func NewProvider(t testing.TB) *Provider {
	t.Helper()
	rk := RSAKeys()[0]
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{
		ClientID: "ward-client", ClientSecret: "s3cret/with+odd chars",
		RSAKey: rk, ECKey: ek, now: time.Now,
		codes:    map[string]grant{},
		authMode: "basic",
		user:     map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []any{"eng"}, "org": "acme"},
		published: []jose.JSONWebKey{
			{Key: rk.Public(), KeyID: "rsa-1", Algorithm: string(jose.RS256), Use: "sig"},
			{Key: ek.Public(), KeyID: "ec-1", Algorithm: string(jose.ES256), Use: "sig"},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

var rsaKeys struct {
	once sync.Once
	keys [2]*rsa.PrivateKey
}

// RSAKeys returns two 2048-bit RSA keys made once per process: making
// them takes long enough, at random, to slow a test run down.
func RSAKeys() [2]*rsa.PrivateKey {
	rsaKeys.once.Do(func() {
		for i := range rsaKeys.keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys.keys[i] = k
		}
	})
	return rsaKeys.keys
}

// CAPEM is the PEM of the certificate the server presents, for
// oidc_discovery_ca_pem and jwks_ca_pem.
func (p *Provider) CAPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}))
}

// Client is an HTTP client that trusts the provider (a test "browser").
func (p *Provider) Client() *http.Client { return p.srv.Client() }

// JWKSURL is the URL of the key set.
func (p *Provider) JWKSURL() string { return p.URL + "/jwks" }

// SetNow sets the provider's clock, used for the ID tokens it issues.
func (p *Provider) SetNow(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// SetUser replaces the claims of the user the authorization endpoint logs in.
func (p *Provider) SetUser(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = maps.Clone(claims)
}

// Tamper sets a function that edits each ID token's claims before the
// token endpoint signs them (to test nonce, audience, ... checks).
func (p *Provider) Tamper(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// RequirePostAuth makes the token endpoint accept only client_secret_post
// (and advertise so in discovery).
func (p *Provider) RequirePostAuth() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authMode = "post"
}

// JWKSFetches is how many times the key set was fetched.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits
}

// Publish adds key to the JWKS under kid (key rotation).
func (p *Provider) Publish(key crypto.PublicKey, kid string, alg jose.SignatureAlgorithm) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(alg), Use: "sig"})
}

// Sign signs claims with RSAKey (RS256, key ID "rsa-1").
func (p *Provider) Sign(claims map[string]any) string {
	return SignWith(p.RSAKey, jose.RS256, "rsa-1", claims)
}

// SignEC signs claims with ECKey (ES256, key ID "ec-1").
func (p *Provider) SignEC(claims map[string]any) string {
	return SignWith(p.ECKey, jose.ES256, "ec-1", claims)
}

// SignWith signs claims with any key go-jose takes (a private key, or
// []byte for HMAC); kid may be empty. It panics on error: the inputs are
// the test's own.
func SignWith(key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// Unsigned returns claims as an unsecured JWT (alg "none").
func Unsigned(claims map[string]any) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return head + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}

// PublicKeyPEM returns key as a PKIX "PUBLIC KEY" PEM block.
func PublicKeyPEM(key crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	methods := []string{"client_secret_basic", "client_secret_post"}
	if p.authMode == "post" {
		methods = []string{"client_secret_post"}
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": methods,
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.jwksHits++
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), p.published...)}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// authorize logs the test user in at once and redirects to redirect_uri
// with a code, as a provider does after the user consents.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "scope must include openid", http.StatusBadRequest)
		return
	case redirect == "" || q.Get("state") == "":
		http.Error(w, "redirect_uri and state are required", http.StatusBadRequest)
		return
	}
	target, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), redirectURI: redirect, nonce: q.Get("nonce"), claims: maps.Clone(p.user)}
	p.mu.Unlock()
	tq := target.Query()
	tq.Set("code", code)
	tq.Set("state", q.Get("state"))
	target.RawQuery = tq.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// token redeems a code: client authentication, one use, the same
// redirect_uri, and a verifier whose S256 hash is the challenge.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	p.mu.Lock()
	mode := p.authMode
	p.mu.Unlock()
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if mode == "basic" {
		u, s, ok := r.BasicAuth()
		if !ok {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "basic authentication required")
			return
		}
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(s)
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "bad client credentials")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	now, tamper := p.now(), p.tamper
	p.mu.Unlock()
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	claims := maps.Clone(g.claims)
	claims["iss"] = p.URL
	claims["aud"] = p.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(5 * time.Minute).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if tamper != nil {
		tamper(claims)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300,
		"id_token": p.Sign(claims),
	})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client sees a truncated body

}
