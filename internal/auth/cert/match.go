package cert

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parsePEM parses the certificates in a role's certificate field. It
// refuses input with no certificate, a PEM block of another type (a
// private key pasted by mistake) and trailing non-PEM data. Errors never
// quote the input.
func parsePEM(s string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(s)
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = next
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		if len(certs) == 0 {
			return nil, errors.New("not a PEM-encoded certificate")
		}
		return nil, errors.New("trailing data after the last PEM certificate")
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}

// checkPattern refuses a name pattern no certificate name could match.
func checkPattern(p string) error {
	if !utf8.ValidString(p) {
		return errors.New("patterns must be valid UTF-8")
	}
	if strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return errors.New("patterns must not contain control characters")
	}
	return nil
}

// glob reports whether s matches pattern, in which "*" stands for any
// run of characters (possibly empty) and every other character for
// itself, as in Vault's allowed_* fields.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// anyMatch reports whether some value matches some pattern; an empty
// pattern list matches everything.
func anyMatch(patterns, values []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		for _, v := range values {
			if glob(p, v) {
				return true
			}
		}
	}
	return false
}

// allows checks c's names against the role's allowed_* lists. When it
// refuses, it says which list refused (for the log, not the client).
func (r *role) allows(c *x509.Certificate) (ok bool, refusedBy string) {
	uris := make([]string, len(c.URIs))
	for i, u := range c.URIs {
		uris[i] = u.String()
	}
	cn := []string{c.Subject.CommonName}
	names := append(append(append([]string{}, cn...), c.DNSNames...), c.EmailAddresses...)
	for _, check := range []struct {
		field    string
		patterns []string
		values   []string
	}{
		{"allowed_names", r.AllowedNames, names},
		{"allowed_common_names", r.AllowedCommonNames, cn},
		{"allowed_dns_sans", r.AllowedDNSSANs, c.DNSNames},
		{"allowed_email_sans", r.AllowedEmailSANs, c.EmailAddresses},
		{"allowed_uri_sans", r.AllowedURISANs, uris},
		{"allowed_organizational_units", r.AllowedOUs, c.Subject.OrganizationalUnit},
	} {
		if !anyMatch(check.patterns, check.values) {
			return false, check.field
		}
	}
	return true, ""
}
