package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

const configKey = "config"

// supportedAlgs are the signature algorithms jwt_supported_algs may name.
// HMAC algorithms are left out on purpose: a shared secret has no place in
// a key set fetched from a provider.
var supportedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.EdDSA,
}

// config is the mount's configuration as stored.
type config struct {
	OIDCDiscoveryURL     string   `json:"oidc_discovery_url"`
	OIDCDiscoveryCAPEM   string   `json:"oidc_discovery_ca_pem"`
	JWKSURL              string   `json:"jwks_url"`
	JWKSCAPEM            string   `json:"jwks_ca_pem"`
	JWTValidationPubKeys []string `json:"jwt_validation_pubkeys"`
	BoundIssuer          string   `json:"bound_issuer"`
	JWTSupportedAlgs     []string `json:"jwt_supported_algs"`
	DefaultRole          string   `json:"default_role"`
	OIDCClientID         string   `json:"oidc_client_id"`
	OIDCClientSecret     string   `json:"oidc_client_secret"`
	OIDCResponseMode     string   `json:"oidc_response_mode"`
	OIDCResponseTypes    []string `json:"oidc_response_types"`
}

// String redacts the client secret.
func (c *config) String() string {
	return fmt.Sprintf("jwt config{discovery=%q jwks=%q pubkeys=%d issuer=%q client_id=%q client_secret=<redacted>}",
		c.OIDCDiscoveryURL, c.JWKSURL, len(c.JWTValidationPubKeys), c.BoundIssuer, c.OIDCClientID)
}

// LogValue keeps the client secret out of logs.
func (c *config) LogValue() slog.Value { return slog.StringValue(c.String()) }

var _ slog.LogValuer = (*config)(nil)

// configInput is a config write. A write replaces the whole config, as in
// Vault: fields left out are cleared.
type configInput struct {
	OIDCDiscoveryURL     string   `json:"oidc_discovery_url"`
	OIDCDiscoveryCAPEM   string   `json:"oidc_discovery_ca_pem"`
	JWKSURL              string   `json:"jwks_url"`
	JWKSCAPEM            string   `json:"jwks_ca_pem"`
	JWTValidationPubKeys []string `json:"jwt_validation_pubkeys"`
	BoundIssuer          string   `json:"bound_issuer"`
	JWTSupportedAlgs     []string `json:"jwt_supported_algs"`
	DefaultRole          string   `json:"default_role"`
	OIDCClientID         string   `json:"oidc_client_id"`
	OIDCClientSecret     string   `json:"oidc_client_secret"`
	OIDCResponseMode     string   `json:"oidc_response_mode"`
	OIDCResponseTypes    []string `json:"oidc_response_types"`
}

func (b *backend) readConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	c, _, err := b.loadConfig(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"oidc_discovery_url":     c.OIDCDiscoveryURL,
		"oidc_discovery_ca_pem":  c.OIDCDiscoveryCAPEM,
		"jwks_url":               c.JWKSURL,
		"jwks_ca_pem":            c.JWKSCAPEM,
		"jwt_validation_pubkeys": nonNil(c.JWTValidationPubKeys),
		"bound_issuer":           c.BoundIssuer,
		"jwt_supported_algs":     nonNil(c.JWTSupportedAlgs),
		"default_role":           c.DefaultRole,
		"oidc_client_id":         c.OIDCClientID,
		"oidc_response_mode":     c.OIDCResponseMode,
		"oidc_response_types":    nonNil(c.OIDCResponseTypes),
	}), nil
}

func (b *backend) writeConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[configInput](req.Data)
	if err != nil {
		return nil, err
	}
	c := config(in)
	if err := c.validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	// Build the provider now, and reach its keys, so that a wrong URL or
	// CA fails the write rather than every later login.
	p, err := newProvider(&c, raw, b.env.Now)
	if err != nil {
		return nil, err
	}
	if err := p.check(ctx); err != nil {
		return nil, err
	}
	if err := b.env.Storage.Put(ctx, configKey, raw); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	b.mu.Lock()
	b.prov = p
	b.mu.Unlock()
	if len(warnings) == 0 {
		return nil, nil
	}
	return &engine.Response{Warnings: warnings}, nil
}

// validate checks a config before it is stored.
func (c *config) validate() error {
	sources := 0
	for _, set := range []bool{c.OIDCDiscoveryURL != "", c.JWKSURL != "", len(c.JWTValidationPubKeys) > 0} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return engine.BadRequest("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set")
	}
	if c.OIDCDiscoveryCAPEM != "" && c.OIDCDiscoveryURL == "" {
		return engine.BadRequest("'oidc_discovery_ca_pem' requires 'oidc_discovery_url'")
	}
	if c.JWKSCAPEM != "" && c.JWKSURL == "" {
		return engine.BadRequest("'jwks_ca_pem' requires 'jwks_url'")
	}
	for i, k := range c.JWTValidationPubKeys {
		if _, err := parsePublicKey(k); err != nil {
			return &engine.InputError{Field: fmt.Sprintf("jwt_validation_pubkeys[%d]", i), Rule: "error parsing public key: " + err.Error()}
		}
	}
	for _, a := range c.JWTSupportedAlgs {
		if !slices.Contains(supportedAlgs, jose.SignatureAlgorithm(a)) {
			return &engine.InputError{Field: "jwt_supported_algs", Rule: fmt.Sprintf("%q is not a supported signing algorithm (RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA)", a)}
		}
	}
	if (c.OIDCClientID == "") != (c.OIDCClientSecret == "") {
		return engine.BadRequest("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC")
	}
	if c.OIDCClientID != "" && c.OIDCDiscoveryURL == "" {
		return engine.BadRequest("'oidc_client_id' requires 'oidc_discovery_url': only OIDC discovery can be used for the OIDC flow")
	}
	switch c.OIDCResponseMode {
	case "", "query":
	default:
		return &engine.InputError{Field: "oidc_response_mode", Rule: `only "query" is supported`}
	}
	for _, t := range c.OIDCResponseTypes {
		if t != "code" {
			return &engine.InputError{Field: "oidc_response_types", Rule: `only "code" is supported`}
		}
	}
	return nil
}

// algs returns the algorithms a token for a role of roleType may be
// signed with: jwt_supported_algs, or when that is empty, as Vault does,
// every supported (asymmetric) algorithm for "jwt" roles and RS256 for
// "oidc" roles (OpenID Connect's default for ID tokens). HMAC and "none"
// are never among them.
func (c *config) algs(roleType string) []jose.SignatureAlgorithm {
	if len(c.JWTSupportedAlgs) == 0 {
		if roleType == roleTypeJWT {
			return slices.Clone(supportedAlgs)
		}
		return []jose.SignatureAlgorithm{jose.RS256}
	}
	out := make([]jose.SignatureAlgorithm, len(c.JWTSupportedAlgs))
	for i, a := range c.JWTSupportedAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}

// loadConfig reads the stored config and its raw bytes; nil if none.
func (b *backend) loadConfig(ctx context.Context) (*config, []byte, error) {
	raw, err := b.env.Storage.Get(ctx, configKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	return &c, raw, nil
}

// provider returns the provider for the stored config, reusing the cached
// one (and its fetched keys) while the stored config is unchanged. It
// reads storage every time so that a config written on another node is
// seen. No config is a 400.
func (b *backend) provider(ctx context.Context) (*provider, error) {
	c, raw, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, engine.BadRequest("could not load configuration: write %sconfig first", b.env.MountPath)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prov != nil && b.prov.same(raw) {
		return b.prov, nil
	}
	p, err := newProvider(c, raw, b.env.Now)
	if err != nil {
		return nil, err
	}
	b.prov = p
	return p, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
