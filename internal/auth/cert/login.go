package cert

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// The login refusals, worded as Vault words them: clients and scripts
// match on these texts.
var (
	errNoCertificate = engine.BadRequest("client certificate must be supplied")
	errInvalid       = engine.BadRequest("invalid certificate or no client certificate supplied")
)

type loginInput struct {
	// Name restricts the login to one role; empty tries every role.
	Name string `json:"name"`
}

// login verifies the connection's client certificate against the roles
// and answers with the first role (in name order) whose certificate
// trusts it and whose allowed_* names it matches.
func (b *backend) login(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[loginInput](req.Data)
	if err != nil {
		return nil, err
	}
	if len(req.PeerCertificates) == 0 {
		return nil, errNoCertificate
	}
	chain := req.PeerCertificates
	leaf := chain[0]
	roles, err := b.candidates(ctx, strings.ToLower(in.Name))
	if err != nil {
		return nil, err
	}
	now := b.now()
	for _, r := range roles {
		if err := r.trusts(chain, now); err != nil {
			b.refused(r.Name, leaf, err.Error())
			continue
		}
		if ok, by := r.allows(leaf); !ok {
			b.refused(r.Name, leaf, "names not allowed by "+by)
			continue
		}
		if !auth.RemoteIn(req.RemoteAddr, r.Token.BoundCIDRs) {
			b.refused(r.Name, leaf, "remote address not in token_bound_cidrs")
			return nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied: login from this address is not allowed by role %q", r.Name)
		}
		if leaf.Subject.CommonName == "" {
			return nil, engine.BadRequest("invalid certificate: the client certificate has no subject common name, which names the login")
		}
		cfg, err := b.loadConfig(ctx)
		if err != nil {
			return nil, err
		}
		meta := loginMetadata(r.Name, leaf)
		alias := engine.Alias{Name: leaf.Subject.CommonName}
		if cfg.EnableIdentityAliasMetadata {
			alias.Metadata = loginMetadata(r.Name, leaf)
		}
		return &engine.Response{Login: r.Token.Login(alias, r.DisplayName, meta), Warnings: warnings}, nil
	}
	return nil, errInvalid
}

// candidates returns the role called name, or every role when name is
// empty.
func (b *backend) candidates(ctx context.Context, name string) ([]*role, error) {
	if name != "" {
		r, err := b.loadRole(ctx, name)
		if err != nil || r == nil {
			return nil, err
		}
		return []*role{r}, nil
	}
	names, err := b.store.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("login: list cert roles: %w", err)
	}
	var roles []*role
	for _, n := range names {
		if strings.HasSuffix(n, "/") {
			continue
		}
		r, err := b.loadRole(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		if r != nil {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// trusts verifies chain (leaf first, then any intermediates the client
// sent) at time now for client authentication. A CA certificate of the
// role is a trust anchor; a non-CA certificate of the role trusts only a
// leaf identical to it (the TLS handshake has proved the client holds its
// key), never certificates it signed.
func (r *role) trusts(chain []*x509.Certificate, now time.Time) error {
	certs, err := parsePEM(r.Certificate)
	if err != nil {
		return fmt.Errorf("role certificate: %w", err)
	}
	leaf := chain[0]
	roots := x509.NewCertPool()
	for _, c := range certs {
		switch {
		case c.IsCA:
			roots.AddCert(c)
		case c.Equal(leaf):
			pinned := x509.NewCertPool()
			pinned.AddCert(c)
			return verify(leaf, pinned, nil, now)
		}
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	return verify(leaf, roots, intermediates, now)
}

func verify(leaf *x509.Certificate, roots, intermediates *x509.CertPool, now time.Time) error {
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

// refused logs why role did not accept a certificate. Certificates are
// public: their names and serial may be logged.
func (b *backend) refused(role string, leaf *x509.Certificate, reason string) {
	b.log.Debug("cert: role refused the client certificate",
		"role", role, "reason", reason,
		"common_name", leaf.Subject.CommonName, "serial_number", leaf.SerialNumber.String())
}

// loginMetadata is the token metadata of a login, named as in Vault.
func loginMetadata(roleName string, leaf *x509.Certificate) map[string]string {
	return map[string]string{
		"cert_name":        roleName,
		"common_name":      leaf.Subject.CommonName,
		"serial_number":    leaf.SerialNumber.String(),
		"subject_key_id":   colonHex(leaf.SubjectKeyId),
		"authority_key_id": colonHex(leaf.AuthorityKeyId),
	}
}

// colonHex renders b as lower-case hex bytes joined by ":" ("0a:1b").
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(parts, ":")
}
