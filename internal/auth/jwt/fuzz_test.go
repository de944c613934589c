package jwt

import (
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
)

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"acme/*", "acme/api", true},
		{"acme/*", "acme/", true},
		{"acme/*", "acm", false},
		{"*", "", true},
		{"*-prod", "eu-prod", true},
		{"*-prod", "eu-prod-2", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
		{"a*a", "a", false},
		{"exact", "exact", true},
		{"exact", "exact2", false},
	} {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestClaimPointer(t *testing.T) {
	claims := map[string]any{
		"a/b": "literal",
		"org": map[string]any{"name": "acme", "teams": []any{"x", "y"}, "t~d": "tilde", "s/l": "slash"},
	}
	for name, want := range map[string]any{
		"a/b":            "literal",
		"/org/name":      "acme",
		"/org/teams/1":   "y",
		"/org/teams/01":  nil,
		"/org/teams/2":   nil,
		"/org/teams/-1":  nil,
		"/org/t~0d":      "tilde",
		"/org/s~1l":      "slash",
		"/org/name/deep": nil,
		"/missing":       nil,
		"org/name":       nil,
	} {
		if got := claim(claims, name); got != want {
			t.Errorf("claim(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzLogin feeds arbitrary strings to a JWT login. Whatever comes in,
// the login must not panic, must refuse anything not signed by the
// configured key, and must never quote the input in its error.
func FuzzLogin(f *testing.F) {
	key := jwttest.RSAKeys()[0]
	now := time.Unix(1_900_000_000, 0)
	good := map[string]any{"iss": "https://issuer.test", "sub": "svc", "aud": "ward", "org": "acme",
		"exp": now.Add(time.Hour).Unix(), "groups": []any{"a"}, "ctx": map[string]any{"env": "prod"}}
	f.Add(jwttest.SignWith(key, jose.RS256, "rsa-1", good))
	f.Add(jwttest.Unsigned(good))
	f.Add(jwttest.SignWith([]byte("0123456789abcdef0123456789abcdef"), jose.HS256, "", good))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.")
	f.Add("a.b.c")
	f.Add("....")
	f.Add("")

	h := &harness{clock: &clock{t: now}}
	f.Fuzz(func(t *testing.T, token string) {
		if h.b == nil {
			// Build once, lazily, so that the seed-only run stays cheap.
			h.t = t
			h.b = newBackend(fuzzEnv(h.clock))
			h.mustWrite("config", map[string]any{"jwt_validation_pubkeys": jwttest.PublicKeyPEM(key.Public()), "bound_issuer": "https://issuer.test"})
			h.mustWrite("role/ci", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "ward",
				"bound_claims": map[string]any{"org": "acme"}, "claim_mappings": map[string]any{"/ctx/env": "env"}, "groups_claim": "groups"})
		}
		h.t = t
		resp, err := h.login("ci", token)
		if err != nil {
			if resp != nil {
				t.Fatalf("error with a response: %v", err)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatalf("error quotes the token: %v", err)
			}
			return
		}
		if resp == nil || resp.Login == nil || resp.Login.Alias.Name == "" {
			t.Fatalf("accepted without a login: %+v", resp)
		}
		// Anything accepted must carry a valid signature by key.
		sig, perr := jose.ParseSignedCompact(strings.TrimSpace(token), []jose.SignatureAlgorithm{jose.RS256})
		if perr != nil {
			t.Fatalf("accepted a token that does not parse: %v", perr)
		}
		if _, verr := sig.Verify(&key.PublicKey); verr != nil {
			t.Fatalf("accepted a token the key did not sign: %v", verr)
		}
	})
}

// FuzzClaims signs arbitrary payloads with the configured key, so that the
// claim checks (times, audiences, bound claims, mappings, groups) see
// every shape of JSON. They must not panic, and an accepted token must
// satisfy the role's bounds.
func FuzzClaims(f *testing.F) {
	key := jwttest.RSAKeys()[0]
	f.Add(`{"iss":"https://issuer.test","sub":"svc","aud":"ward","org":"acme","exp":1900003600,"groups":["a"],"ctx":{"env":"prod"}}`)
	f.Add(`{"iss":"https://issuer.test","sub":"svc","aud":["ward","x"],"org":["globex","acme"],"exp":1.9e9,"nbf":1899999999.5,"groups":"solo"}`)
	f.Add(`{"sub":{"x":1},"aud":7,"exp":"soon","org":null}`)
	f.Add(`{"exp":1e300,"iat":-1e300,"nbf":NaN}`)
	f.Add(`[1,2,3]`)
	f.Add(`null`)
	f.Add(`{"iss":"https://issuer.test","sub":"svc","aud":"ward","org":"acme","ctx":{"env":["list"]}}`)

	now := time.Unix(1_900_000_000, 0)
	h := &harness{clock: &clock{t: now}}
	f.Fuzz(func(t *testing.T, payload string) {
		if h.b == nil {
			h.t = t
			h.b = newBackend(fuzzEnv(h.clock))
			h.mustWrite("config", map[string]any{"jwt_validation_pubkeys": jwttest.PublicKeyPEM(key.Public()), "bound_issuer": "https://issuer.test"})
			h.mustWrite("role/ci", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "ward",
				"bound_claims": map[string]any{"org": "acme"}, "claim_mappings": map[string]any{"/ctx/env": "env"}, "groups_claim": "groups"})
		}
		h.t = t
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := obj.CompactSerialize()
		resp, err := h.login("ci", tok)
		if err != nil {
			if resp != nil {
				t.Fatalf("error with a response: %v", err)
			}
			return
		}
		claims, derr := decodeClaims([]byte(payload))
		if derr != nil {
			t.Fatalf("accepted claims that do not decode: %v", derr)
		}
		aud, _ := audiences(claims)
		if claims["iss"] != "https://issuer.test" || !slices.Contains(aud, "ward") || resp.Login.Alias.Name != claims["sub"] {
			t.Fatalf("accepted claims outside the role's bounds: %s", payload)
		}
		if err := checkBoundClaims(claims, map[string][]string{"org": {"acme"}}, false); err != nil {
			t.Fatalf("accepted a token whose org does not match: %s", payload)
		}
	})
}
