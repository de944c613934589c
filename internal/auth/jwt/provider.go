package jwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wardsec/ward/internal/engine"
)

// maxTokenLen bounds the JWTs the method parses.
const maxTokenLen = 128 << 10

// provider is a parsed config: the keys that verify tokens and, for
// discovery, the provider's endpoints. It is rebuilt when the stored
// config changes; until then it keeps fetched documents and keys.
type provider struct {
	raw  []byte // the stored config it was built from
	cfg  *config
	keys keySet
	// client talks to the provider (discovery, token endpoint); nil for
	// static keys.
	client *http.Client
	// doc caches the discovery document.
	doc fetchCache[discoveryDoc]
}

// discoveryDoc is the part of /.well-known/openid-configuration we use.
type discoveryDoc struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

func newProvider(c *config, raw []byte, now func() time.Time) (*provider, error) {
	p := &provider{raw: raw, cfg: c}
	p.doc = fetchCache[discoveryDoc]{now: now, fetch: p.fetchDiscovery}
	switch {
	case len(c.JWTValidationPubKeys) > 0:
		keys := make(staticKeys, 0, len(c.JWTValidationPubKeys))
		for i, s := range c.JWTValidationPubKeys {
			k, err := parsePublicKey(s)
			if err != nil {
				return nil, &engine.InputError{Field: fmt.Sprintf("jwt_validation_pubkeys[%d]", i), Rule: "error parsing public key: " + err.Error()}
			}
			keys = append(keys, k)
		}
		p.keys = keys
	case c.JWKSURL != "":
		client, err := httpClient(c.JWKSCAPEM)
		if err != nil {
			return nil, &engine.InputError{Field: "jwks_ca_pem", Rule: err.Error()}
		}
		p.client = client
		url := c.JWKSURL
		p.keys = newRemoteKeys(client, now, func(context.Context) (string, error) { return url, nil })
	case c.OIDCDiscoveryURL != "":
		client, err := httpClient(c.OIDCDiscoveryCAPEM)
		if err != nil {
			return nil, &engine.InputError{Field: "oidc_discovery_ca_pem", Rule: err.Error()}
		}
		p.client = client
		p.keys = newRemoteKeys(client, now, func(ctx context.Context) (string, error) {
			doc, err := p.discovery(ctx)
			if err != nil {
				return "", err
			}
			return doc.JWKSURI, nil
		})
	default:
		return nil, engine.BadRequest("could not load configuration: no key source is set")
	}
	return p, nil
}

func (p *provider) same(raw []byte) bool { return bytes.Equal(p.raw, raw) }

// check reaches the provider's keys, so that a config write with a wrong
// URL or CA fails at once.
func (p *provider) check(ctx context.Context) error {
	r, ok := p.keys.(*remoteKeys)
	if !ok {
		return nil
	}
	if p.cfg.OIDCDiscoveryURL != "" {
		if _, err := p.discovery(ctx); err != nil {
			return engine.BadRequest("error checking oidc discovery URL: %v", err)
		}
	}
	if _, err := r.keys(ctx, false); err != nil {
		field := "jwks URL"
		if p.cfg.OIDCDiscoveryURL != "" {
			field = "oidc discovery jwks_uri"
		}
		return engine.BadRequest("error checking %s: %v", field, err)
	}
	return nil
}

// discovery returns the provider's discovery document, kept for
// jwksMaxAge and fetched outside any lock at most once per jwksMinRefresh
// (see fetchCache).
func (p *provider) discovery(ctx context.Context) (*discoveryDoc, error) {
	return p.doc.get(ctx, false)
}

// fetchDiscovery fetches the discovery document. Its issuer must be the
// configured discovery URL, as OpenID Connect Discovery requires.
func (p *provider) fetchDiscovery(ctx context.Context) (*discoveryDoc, error) {
	base := strings.TrimSuffix(p.cfg.OIDCDiscoveryURL, "/")
	var doc discoveryDoc
	if err := fetchJSON(ctx, p.client, base+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, err
	}
	if strings.TrimSuffix(doc.Issuer, "/") != base {
		return nil, fmt.Errorf("the discovery document's issuer %q is not the discovery URL %q", doc.Issuer, p.cfg.OIDCDiscoveryURL)
	}
	if doc.JWKSURI == "" {
		return nil, errors.New("the discovery document has no jwks_uri")
	}
	return &doc, nil
}

// verify parses a compact JWS, checks its algorithm (one of those the
// config allows for roles of roleType) and signature, and returns its
// claims. Errors are 400s that never quote the token.
func (p *provider) verify(ctx context.Context, token, roleType string) (map[string]any, error) {
	algs := p.cfg.algs(roleType)
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, engine.BadRequest("missing token")
	}
	if len(token) > maxTokenLen {
		return nil, engine.BadRequest("error parsing token: longer than %d bytes", maxTokenLen)
	}
	sig, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		if alg := headerAlg(token); alg != "" && !slices.Contains(algs, jose.SignatureAlgorithm(alg)) {
			return nil, engine.BadRequest("error validating token: signing algorithm %q is not allowed (jwt_supported_algs: %s)", alg, algList(algs))
		}
		return nil, engine.BadRequest("error parsing token: malformed JWT")
	}
	if len(sig.Signatures) != 1 {
		return nil, engine.BadRequest("error parsing token: malformed JWT")
	}
	payload, err := p.keys.verify(ctx, sig)
	if errors.Is(err, errSignature) {
		return nil, engine.BadRequest("error validating signature")
	}
	if err != nil {
		return nil, engine.BadRequest("error validating signature: %v", err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, engine.BadRequest("error parsing token: %v", err)
	}
	return claims, nil
}

// decodeClaims decodes a JWT payload; numbers stay json.Number.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errors.New("the claims are not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("the claims are not a JSON object")
	}
	return claims, nil
}

// headerAlg returns the header's alg of a token that did not parse, when
// it is a short printable name (so that it can be shown), else "".
func headerAlg(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil || h.Alg == "" || len(h.Alg) > 16 {
		return ""
	}
	for _, r := range h.Alg {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return ""
		}
	}
	return h.Alg
}

func algList(algs []jose.SignatureAlgorithm) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
