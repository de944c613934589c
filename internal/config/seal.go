package config

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/hcl/ast"
)

// SealTransit is the auto-unseal seal whose key is a transit key of another
// Ward (or Vault) server.
const SealTransit = "transit"

// Seal is one seal block: `seal "shamir" {}` or `seal "transit" { ... }`.
//
// A configuration has at most two: the seal in use and, while migrating
// away from an auto-unseal seal, the old one marked `disabled = true`.
type Seal struct {
	Type     string // shamir or transit
	Disabled bool   // the seal being migrated away from
	Transit  TransitSeal
	Line     int
}

// TransitSeal is the body of a transit seal block, with Vault's names.
// Address, Token, KeyName and MountPath may instead come from the
// environment (VAULT_ADDR, VAULT_TOKEN, VAULT_TRANSIT_SEAL_KEY_NAME,
// VAULT_TRANSIT_SEAL_MOUNT_PATH); the server fills them in, so Parse and
// Validate do not require them.
type TransitSeal struct {
	Address        string
	Token          string
	KeyName        string
	MountPath      string
	Namespace      string
	DisableRenewal bool
	TLSCACert      string
	TLSClientCert  string
	TLSClientKey   string
	TLSServerName  string
	TLSSkipVerify  bool
}

// String hides the token.
func (t TransitSeal) String() string {
	token := ""
	if t.Token != "" {
		token = "[REDACTED]"
	}
	return fmt.Sprintf("transit seal{address: %s, mount_path: %s, key_name: %s, token: %s}", t.Address, t.MountPath, t.KeyName, token)
}

var errSealType = errors.New(`unsupported type; supported types are "shamir" and "transit"`)

// decodeSeal decodes one seal block into c.Seal or, when it is disabled,
// c.OldSeal.
func (d *errorList) decodeSeal(b block, c *Config) {
	what := fmt.Sprintf("seal %q", b.label)
	s := &Seal{Type: b.label, Line: b.line}
	fields := map[string]setter{"disabled": boolSetter(&s.Disabled)}
	switch b.label {
	case SealShamir:
	case SealTransit:
		t := &s.Transit
		fields["address"] = urlField(&t.Address)
		fields["token"] = stringField(&t.Token)
		fields["key_name"] = stringField(&t.KeyName)
		fields["mount_path"] = stringField(&t.MountPath)
		fields["namespace"] = stringField(&t.Namespace)
		fields["disable_renewal"] = boolSetter(&t.DisableRenewal)
		fields["tls_ca_cert"] = stringField(&t.TLSCACert)
		fields["tls_client_cert"] = stringField(&t.TLSClientCert)
		fields["tls_client_key"] = stringField(&t.TLSClientKey)
		fields["tls_server_name"] = stringField(&t.TLSServerName)
		fields["tls_skip_verify"] = boolSetter(&t.TLSSkipVerify)
	default:
		d.errorf(b.line, "%s: %v", what, errSealType)
		return
	}
	d.decodeBody(what, b.body, fields, nil)
	slot, other := &c.Seal, "enabled"
	if s.Disabled {
		slot, other = &c.OldSeal, "disabled"
	}
	if *slot != nil {
		d.errorf(b.line, "%s: only one %s seal block is allowed (the first is on line %d); to migrate, mark the old seal disabled = true", what, other, (*slot).Line)
		return
	}
	*slot = s
}

func boolSetter(dst *bool) setter {
	return func(n ast.Node) (err error) {
		*dst, err = boolValue(n)
		return err
	}
}

// validateSeals checks the pair of seal blocks: a disabled seal needs a
// different one to migrate to (Shamir when no enabled block is given), and
// two transit seals must differ.
func (c *Config) validateSeals(l *errorList) {
	for _, s := range []*Seal{c.Seal, c.OldSeal} {
		if s != nil && s.Type != SealShamir && s.Type != SealTransit {
			l.errorf(s.Line, "seal %q: %v", s.Type, errSealType)
		}
	}
	old := c.OldSeal
	if old == nil {
		return
	}
	if old.Type == SealShamir {
		l.errorf(old.Line, `seal "shamir": a Shamir seal cannot be disabled; to adopt auto-unseal, add the new seal block and unseal once with -migrate`)
		return
	}
	newType := SealShamir
	if c.Seal != nil {
		newType = c.Seal.Type
	}
	if newType == old.Type && c.Seal.Transit.sameKey(old.Transit) {
		l.errorf(old.Line, "seal %q: the disabled seal and the enabled one use the same key; remove the disabled block", old.Type)
	}
}

func (t TransitSeal) sameKey(o TransitSeal) bool {
	return t.Address == o.Address && t.MountPath == o.MountPath && t.KeyName == o.KeyName && t.Namespace == o.Namespace
}
