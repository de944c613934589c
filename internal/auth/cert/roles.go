package cert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// maxRoleName bounds a role name, in bytes.
const maxRoleName = 256

// role is a trusted certificate role, as stored under cert/<name>.
type role struct {
	Name string `json:"name"`
	// Certificate is the PEM of the trusted CA certificates (and/or
	// trusted leaf certificates), as written.
	Certificate string `json:"certificate"`
	// Allowed* are glob patterns ("*" matches any run of characters); an
	// empty list allows every value. Each non-empty list must be matched
	// by at least one value of its kind in the client certificate.
	AllowedNames       []string         `json:"allowed_names"` // CN, DNS or email SAN (Vault's deprecated field)
	AllowedCommonNames []string         `json:"allowed_common_names"`
	AllowedDNSSANs     []string         `json:"allowed_dns_sans"`
	AllowedEmailSANs   []string         `json:"allowed_email_sans"`
	AllowedURISANs     []string         `json:"allowed_uri_sans"`
	AllowedOUs         []string         `json:"allowed_organizational_units"`
	DisplayName        string           `json:"display_name"`
	Token              auth.TokenParams `json:"token"`
}

// roleInput is a role write. Nil fields are left as they are.
type roleInput struct {
	Certificate        *string   `json:"certificate"`
	AllowedNames       *[]string `json:"allowed_names"`
	AllowedCommonNames *[]string `json:"allowed_common_names"`
	AllowedDNSSANs     *[]string `json:"allowed_dns_sans"`
	AllowedEmailSANs   *[]string `json:"allowed_email_sans"`
	AllowedURISANs     *[]string `json:"allowed_uri_sans"`
	AllowedOUs         *[]string `json:"allowed_organizational_units"`
	DisplayName        *string   `json:"display_name"`
}

// roleName reads and checks the {name} of the path. Names are case
// insensitive, as in Vault: they are stored lower-cased.
func roleName(req *engine.Request) (string, error) {
	name := strings.ToLower(req.Var("name"))
	switch {
	case name == "":
		return "", &engine.InputError{Field: "name", Rule: "a role name is required"}
	case len(name) > maxRoleName:
		return "", &engine.InputError{Field: "name", Rule: fmt.Sprintf("longer than %d bytes", maxRoleName)}
	}
	return name, nil
}

// loadRole returns the role called name, or nil if there is none.
func (b *backend) loadRole(ctx context.Context, name string) (*role, error) {
	raw, err := b.store.Get(ctx, rolePrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cert role %q: %w", name, err)
	}
	var r role
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("read cert role %q: %w", name, err)
	}
	return &r, nil
}

func (b *backend) roleExists(ctx context.Context, req *engine.Request) (bool, error) {
	name, err := roleName(req)
	if err != nil {
		return false, nil
	}
	r, err := b.loadRole(ctx, name)
	return r != nil, err
}

func (b *backend) listRoles(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	keys, err := b.store.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("list cert roles: %w", err)
	}
	return engine.ListResponse(keys), nil
}

func (b *backend) readRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	r, err := b.loadRole(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"certificate":                  r.Certificate,
		"allowed_names":                engine.StringSlice(r.AllowedNames),
		"allowed_common_names":         engine.StringSlice(r.AllowedCommonNames),
		"allowed_dns_sans":             engine.StringSlice(r.AllowedDNSSANs),
		"allowed_email_sans":           engine.StringSlice(r.AllowedEmailSANs),
		"allowed_uri_sans":             engine.StringSlice(r.AllowedURISANs),
		"allowed_organizational_units": engine.StringSlice(r.AllowedOUs),
		"display_name":                 r.DisplayName,
	}
	r.Token.Data(data)
	return engine.DataResponse(data), nil
}

func (b *backend) writeRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	in, tok, warnings, err := decodeRole(req.Data)
	if err != nil {
		return nil, err
	}
	r, err := b.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		if in.Certificate == nil || strings.TrimSpace(*in.Certificate) == "" {
			return nil, &engine.InputError{Field: "certificate", Rule: "a PEM certificate is required"}
		}
		r = &role{Name: name}
	} else if req.CreateOnly {
		return nil, engine.ErrCreateOnly
	}
	if in.Certificate != nil {
		if _, err := parsePEM(*in.Certificate); err != nil {
			return nil, &engine.InputError{Field: "certificate", Rule: err.Error()}
		}
		r.Certificate = *in.Certificate
	}
	for _, f := range []struct {
		field string
		in    *[]string
		dst   *[]string
	}{
		{"allowed_names", in.AllowedNames, &r.AllowedNames},
		{"allowed_common_names", in.AllowedCommonNames, &r.AllowedCommonNames},
		{"allowed_dns_sans", in.AllowedDNSSANs, &r.AllowedDNSSANs},
		{"allowed_email_sans", in.AllowedEmailSANs, &r.AllowedEmailSANs},
		{"allowed_uri_sans", in.AllowedURISANs, &r.AllowedURISANs},
		{"allowed_organizational_units", in.AllowedOUs, &r.AllowedOUs},
	} {
		if f.in == nil {
			continue
		}
		patterns := cleanPatterns(*f.in)
		for _, p := range patterns {
			if err := checkPattern(p); err != nil {
				return nil, &engine.InputError{Field: f.field, Rule: err.Error()}
			}
		}
		*f.dst = patterns
	}
	if in.DisplayName != nil {
		r.DisplayName = *in.DisplayName
	}
	if r.DisplayName == "" {
		r.DisplayName = name
	}
	if err := r.Token.Update(tok); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("write cert role %q: %w", name, err)
	}
	if err := b.store.Put(ctx, rolePrefix+name, raw); err != nil {
		return nil, fmt.Errorf("write cert role %q: %w", name, err)
	}
	return warningsOnly(warnings), nil
}

func (b *backend) deleteRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := roleName(req)
	if err != nil {
		return nil, err
	}
	if err := b.store.Delete(ctx, rolePrefix+name); err != nil {
		return nil, fmt.Errorf("delete cert role %q: %w", name, err)
	}
	return nil, nil
}

// cleanPatterns drops blank entries and surrounding space.
func cleanPatterns(in []string) []string {
	out := []string{}
	for _, p := range in {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// decodeRole decodes a role write: the role's own fields and the token_*
// fields. The keys are split by the two structs' json tags, so that each
// Decode reports only keys neither of them knows.
func decodeRole(data map[string]any) (roleInput, auth.TokenInput, []string, error) {
	tokenKeys := jsonKeys(reflect.TypeFor[auth.TokenInput]())
	own := make(map[string]any, len(data))
	tokens := make(map[string]any)
	for k, v := range data {
		if tokenKeys[k] {
			tokens[k] = v
		} else {
			own[k] = v
		}
	}
	in, warnings, err := engine.Decode[roleInput](own)
	if err != nil {
		return roleInput{}, auth.TokenInput{}, nil, err
	}
	tok, _, err := engine.Decode[auth.TokenInput](tokens)
	if err != nil {
		return roleInput{}, auth.TokenInput{}, nil, err
	}
	return in, tok, warnings, nil
}

// jsonKeys returns the json names of t's fields.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}
