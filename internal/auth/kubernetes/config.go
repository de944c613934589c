package kubernetes

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

const configKey = "config"

// secret is a string that must not be printed: a JWT.
type secret string

func (secret) String() string { return "[redacted]" }

// LogValue implements slog.LogValuer.
func (secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// config is the mount's stored configuration.
type config struct {
	Host                 string   `json:"kubernetes_host"`
	CACert               string   `json:"kubernetes_ca_cert"`
	ReviewerJWT          secret   `json:"token_reviewer_jwt"`
	PEMKeys              []string `json:"pem_keys"`
	Issuer               string   `json:"issuer"`
	DisableISSValidation bool     `json:"disable_iss_validation"`
	DisableLocalCAJWT    bool     `json:"disable_local_ca_jwt"`
}

// String describes c without the reviewer JWT.
func (c *config) String() string {
	return fmt.Sprintf("kubernetes config{host: %s, ca: %t, reviewer jwt: %t}", c.Host, c.CACert != "", c.ReviewerJWT != "")
}

// configInput is a config write. A write replaces the whole config, as
// Vault's does; absent fields take their defaults.
type configInput struct {
	Host                 string   `json:"kubernetes_host"`
	CACert               string   `json:"kubernetes_ca_cert"`
	ReviewerJWT          secret   `json:"token_reviewer_jwt"`
	PEMKeys              []string `json:"pem_keys"`
	Issuer               string   `json:"issuer"`
	DisableISSValidation *bool    `json:"disable_iss_validation"`
	DisableLocalCAJWT    bool     `json:"disable_local_ca_jwt"`
}

func (b *backend) writeConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[configInput](req.Data)
	if err != nil {
		return nil, err
	}
	host, err := parseHost(in.Host)
	if err != nil {
		return nil, err
	}
	if in.CACert != "" {
		if _, err := certPool(in.CACert); err != nil {
			return nil, &engine.InputError{Field: "kubernetes_ca_cert", Rule: err.Error()}
		}
	}
	for i, k := range in.PEMKeys {
		if err := checkPEMKey(k); err != nil {
			return nil, &engine.InputError{Field: fmt.Sprintf("pem_keys[%d]", i), Rule: err.Error()}
		}
	}
	if strings.ContainsAny(string(in.ReviewerJWT), " \t\r\n") {
		return nil, &engine.InputError{Field: "token_reviewer_jwt", Rule: "must not contain whitespace"}
	}
	c := config{
		Host:                 host,
		CACert:               in.CACert,
		ReviewerJWT:          in.ReviewerJWT,
		PEMKeys:              in.PEMKeys,
		Issuer:               in.Issuer,
		DisableISSValidation: true, // Vault's default
		DisableLocalCAJWT:    in.DisableLocalCAJWT,
	}
	if in.DisableISSValidation != nil {
		c.DisableISSValidation = *in.DisableISSValidation
	}
	raw, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("write kubernetes config: %w", err)
	}
	if err := b.store.Put(ctx, configKey, raw); err != nil {
		return nil, fmt.Errorf("write kubernetes config: %w", err)
	}
	if len(warnings) > 0 {
		return &engine.Response{Warnings: warnings}, nil
	}
	return nil, nil
}

func (b *backend) readConfig(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	c, err := b.config(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	keys := c.PEMKeys
	if keys == nil {
		keys = []string{}
	}
	return engine.DataResponse(map[string]any{
		"kubernetes_host":        c.Host,
		"kubernetes_ca_cert":     c.CACert,
		"pem_keys":               keys,
		"issuer":                 c.Issuer,
		"disable_iss_validation": c.DisableISSValidation,
		"disable_local_ca_jwt":   c.DisableLocalCAJWT,
		"token_reviewer_jwt_set": c.ReviewerJWT != "",
	}), nil
}

// config loads the stored config, or nil if none was written.
func (b *backend) config(ctx context.Context) (*config, error) {
	raw, err := b.store.Get(ctx, configKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kubernetes config: %w", err)
	}
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("read kubernetes config: %w", err)
	}
	return &c, nil
}

// parseHost checks kubernetes_host and returns it without a trailing slash.
func parseHost(s string) (string, error) {
	bad := func(rule string) error { return &engine.InputError{Field: "kubernetes_host", Rule: rule} }
	s = strings.TrimSpace(s)
	if s == "" {
		return "", bad("required: the https URL of the Kubernetes API server, such as https://10.0.0.1:6443")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", bad("must be an https URL such as https://10.0.0.1:6443")
	}
	if u.Scheme != "https" {
		return "", bad("must be an https URL: service account tokens are not sent in clear text")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", bad("must not contain user info, a query or a fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// certPool parses one or more PEM certificates.
func certPool(pemText string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := []byte(pemText)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("must hold at least one PEM certificate")
	}
	return pool, nil
}

// checkPEMKey accepts a PEM public key or certificate. Ward accepts
// pem_keys for compatibility but does not use them: the TokenReview API
// verifies every token.
func checkPEMKey(s string) error {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return errors.New("must be a PEM public key or certificate")
	}
	switch block.Type {
	case "CERTIFICATE":
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate does not parse: %v", err)
		}
	case "PUBLIC KEY":
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return fmt.Errorf("public key does not parse: %v", err)
		}
	case "RSA PUBLIC KEY":
		if _, err := x509.ParsePKCS1PublicKey(block.Bytes); err != nil {
			return fmt.Errorf("public key does not parse: %v", err)
		}
	default:
		return fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
	}
	return nil
}
