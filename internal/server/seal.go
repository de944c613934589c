package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"

	"github.com/wardsec/ward/internal/config"
	"github.com/wardsec/ward/internal/seal"
)

// seals are the seals a configuration names: the one in use (nil for
// Shamir) and the disabled one being migrated away from.
type seals struct {
	current, old seal.Seal
	// renew are the transit seals whose tokens the server keeps alive.
	renew []*seal.Transit
}

// newSeals builds the configured seals. Empty transit fields fall back to
// the environment variables Vault documents for them.
func newSeals(cfg *config.Config, getenv func(string) string) (seals, error) {
	var out seals
	for _, b := range []*config.Seal{cfg.Seal, cfg.OldSeal} {
		if b == nil || b.Type == config.SealShamir {
			continue
		}
		t, err := newTransitSeal(b.Transit, getenv)
		if err != nil {
			return seals{}, fmt.Errorf("seal %q (line %d): %w", b.Type, b.Line, err)
		}
		if b.Disabled {
			out.old = t
		} else {
			out.current = t
		}
		if !b.Transit.DisableRenewal && !envBool(getenv("VAULT_TRANSIT_SEAL_DISABLE_RENEWAL")) {
			out.renew = append(out.renew, t)
		}
	}
	if out.current != nil && out.old != nil {
		return seals{}, fmt.Errorf(`seal %q (line %d): migrating between two auto-unseal seals is not supported; migrate to shamir first`, cfg.OldSeal.Type, cfg.OldSeal.Line)
	}
	return out, nil
}

func newTransitSeal(c config.TransitSeal, getenv func(string) string) (*seal.Transit, error) {
	fallback := func(v *string, env string) {
		if *v == "" {
			*v = getenv(env)
		}
	}
	fallback(&c.Address, "VAULT_ADDR")
	fallback(&c.Token, "VAULT_TOKEN")
	fallback(&c.KeyName, "VAULT_TRANSIT_SEAL_KEY_NAME")
	fallback(&c.MountPath, "VAULT_TRANSIT_SEAL_MOUNT_PATH")
	fallback(&c.Namespace, "VAULT_NAMESPACE")
	fallback(&c.TLSCACert, "VAULT_CACERT")
	fallback(&c.TLSClientCert, "VAULT_CLIENT_CERT")
	fallback(&c.TLSClientKey, "VAULT_CLIENT_KEY")
	fallback(&c.TLSServerName, "VAULT_TLS_SERVER_NAME")
	switch {
	case c.Address == "":
		return nil, fmt.Errorf("address is required (or set VAULT_ADDR)")
	case c.Token == "":
		return nil, fmt.Errorf("token is required (or set VAULT_TOKEN)")
	case c.KeyName == "":
		return nil, fmt.Errorf("key_name is required (or set VAULT_TRANSIT_SEAL_KEY_NAME)")
	}
	tlsConf, err := transitTLS(c)
	if err != nil {
		return nil, err
	}
	return seal.NewTransit(seal.TransitOptions{
		Address: c.Address, Token: c.Token, MountPath: c.MountPath, KeyName: c.KeyName,
		Namespace: c.Namespace, TLS: tlsConf,
	})
}

// transitTLS is the client TLS configuration for the remote server.
func transitTLS(c config.TransitSeal) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName, InsecureSkipVerify: c.TLSSkipVerify}
	if c.TLSCACert != "" {
		pem, err := os.ReadFile(c.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("tls_ca_cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca_cert: %s holds no PEM certificate", c.TLSCACert)
		}
		conf.RootCAs = pool
	}
	if (c.TLSClientCert == "") != (c.TLSClientKey == "") {
		return nil, fmt.Errorf("tls_client_cert and tls_client_key must be set together")
	}
	if c.TLSClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSClientCert, c.TLSClientKey)
		if err != nil {
			return nil, fmt.Errorf("tls_client_cert/tls_client_key: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

func envBool(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}
