package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

const (
	rolePrefix = "role/"
	// maxRoleName bounds a role name, in bytes.
	maxRoleName = 256

	aliasSourceUID  = "serviceaccount_uid"
	aliasSourceName = "serviceaccount_name"
)

// role binds service accounts to token settings.
type role struct {
	BoundNames      []string         `json:"bound_service_account_names"`
	BoundNamespaces []string         `json:"bound_service_account_namespaces"`
	Audience        string           `json:"audience"`
	AliasNameSource string           `json:"alias_name_source"`
	Token           auth.TokenParams `json:"token"`
}

// roleInput is a role write; nil fields keep the stored value. The token_*
// fields are decoded separately into an auth.TokenInput.
type roleInput struct {
	BoundNames      *[]string `json:"bound_service_account_names"`
	BoundNamespaces *[]string `json:"bound_service_account_namespaces"`
	Audience        *string   `json:"audience"`
	AliasNameSource *string   `json:"alias_name_source"`

	// Vault's deprecated names, used when the token_* field is absent.
	LegacyTTL        *time.Duration `json:"ttl"`
	LegacyMaxTTL     *time.Duration `json:"max_ttl"`
	LegacyNumUses    *int           `json:"num_uses"`
	LegacyBoundCIDRs *[]string      `json:"bound_cidrs"`
}

func validRoleName(name string) error {
	if name == "" || len(name) > maxRoleName || !storage.ValidKey(name) {
		return &engine.InputError{Field: "name", Rule: fmt.Sprintf("must be 1 to %d bytes without a slash", maxRoleName)}
	}
	return nil
}

func (b *backend) role(ctx context.Context, name string) (*role, error) {
	if validRoleName(name) != nil {
		return nil, nil
	}
	raw, err := b.store.Get(ctx, rolePrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read role %q: %w", name, err)
	}
	var r role
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("read role %q: %w", name, err)
	}
	return &r, nil
}

func (b *backend) roleExists(ctx context.Context, req *engine.Request) (bool, error) {
	r, err := b.role(ctx, req.Var("name"))
	return r != nil, err
}

func (b *backend) writeRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validRoleName(name); err != nil {
		return nil, err
	}
	in, _, err := engine.Decode[roleInput](req.Data)
	if err != nil {
		return nil, err
	}
	tok, _, err := engine.Decode[auth.TokenInput](req.Data)
	if err != nil {
		return nil, err
	}
	applyLegacy(&tok, in)

	r, err := b.role(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{AliasNameSource: aliasSourceUID}
	}
	if in.BoundNames != nil {
		r.BoundNames = trimAll(*in.BoundNames)
	}
	if in.BoundNamespaces != nil {
		r.BoundNamespaces = trimAll(*in.BoundNamespaces)
	}
	if in.Audience != nil {
		r.Audience = strings.TrimSpace(*in.Audience)
	}
	if in.AliasNameSource != nil {
		r.AliasNameSource = *in.AliasNameSource
		if r.AliasNameSource == "" {
			r.AliasNameSource = aliasSourceUID
		}
	}
	if err := r.Token.Update(tok); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("write role %q: %w", name, err)
	}
	if err := b.store.Put(ctx, rolePrefix+name, raw); err != nil {
		return nil, fmt.Errorf("write role %q: %w", name, err)
	}
	if w := unknownParams(req.Data, roleInput{}, auth.TokenInput{}); len(w) > 0 {
		return &engine.Response{Warnings: w}, nil
	}
	return nil, nil
}

// check validates a role after a write was applied.
func (r *role) check() error {
	if err := checkBound("bound_service_account_names", r.BoundNames); err != nil {
		return err
	}
	if err := checkBound("bound_service_account_namespaces", r.BoundNamespaces); err != nil {
		return err
	}
	if slices.Equal(r.BoundNames, []string{"*"}) && slices.Equal(r.BoundNamespaces, []string{"*"}) {
		// That would let every service account of the cluster log in.
		return engine.BadRequest(`bound_service_account_names and bound_service_account_namespaces can not both be "*"`)
	}
	switch r.AliasNameSource {
	case aliasSourceUID, aliasSourceName:
	default:
		return &engine.InputError{Field: "alias_name_source", Rule: fmt.Sprintf("must be %q or %q", aliasSourceUID, aliasSourceName)}
	}
	return nil
}

func checkBound(field string, list []string) error {
	if len(list) == 0 {
		return &engine.InputError{Field: field, Rule: `required: a list of names, or "*" for any`}
	}
	if len(list) > 1 && slices.Contains(list, "*") {
		return &engine.InputError{Field: field, Rule: `"*" must be the only value when present`}
	}
	return nil
}

func (b *backend) readRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	r, err := b.role(ctx, req.Var("name"))
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"bound_service_account_names":      nonNil(r.BoundNames),
		"bound_service_account_namespaces": nonNil(r.BoundNamespaces),
		"audience":                         r.Audience,
		"alias_name_source":                r.AliasNameSource,
	}
	r.Token.Data(data)
	// Vault still shows the deprecated names beside the token_* ones.
	data["ttl"] = int64(r.Token.TTL / time.Second)
	data["max_ttl"] = int64(r.Token.MaxTTL / time.Second)
	data["num_uses"] = r.Token.NumUses
	return engine.DataResponse(data), nil
}

func (b *backend) deleteRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validRoleName(name); err != nil {
		return nil, err
	}
	if err := b.store.Delete(ctx, rolePrefix+name); err != nil {
		return nil, fmt.Errorf("delete role %q: %w", name, err)
	}
	return nil, nil
}

func (b *backend) listRoles(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	keys, err := b.store.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return engine.ListResponse(keys), nil
}

// applyLegacy fills token_* fields from Vault's deprecated names when only
// those were sent.
func applyLegacy(tok *auth.TokenInput, in roleInput) {
	if tok.TTL == nil {
		tok.TTL = in.LegacyTTL
	}
	if tok.MaxTTL == nil {
		tok.MaxTTL = in.LegacyMaxTTL
	}
	if tok.NumUses == nil {
		tok.NumUses = in.LegacyNumUses
	}
	if tok.BoundCIDRs == nil {
		tok.BoundCIDRs = in.LegacyBoundCIDRs
	}
}

// matches reports whether value is allowed by a bound list: "*" allows
// anything; an entry with a leading or trailing "*" matches by suffix or
// prefix (both: by substring); any other entry matches exactly. These are
// Vault's glob rules for bound service account names and namespaces.
func matches(list []string, value string) bool {
	for _, p := range list {
		switch {
		case p == "*":
			return true
		case len(p) > 1 && strings.HasPrefix(p, "*") && strings.HasSuffix(p, "*"):
			if strings.Contains(value, p[1:len(p)-1]) {
				return true
			}
		case strings.HasPrefix(p, "*"):
			if strings.HasSuffix(value, p[1:]) {
				return true
			}
		case strings.HasSuffix(p, "*"):
			if strings.HasPrefix(value, p[:len(p)-1]) {
				return true
			}
		case p == value:
			return true
		}
	}
	return false
}

func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// unknownParams returns Vault's warning for keys of data that none of the
// input structs has a json field for, or nil.
func unknownParams(data map[string]any, inputs ...any) []string {
	known := map[string]bool{}
	for _, in := range inputs {
		t := reflect.TypeOf(in)
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			known[name] = true
		}
	}
	var unknown []string
	for k := range data {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return []string{fmt.Sprintf("Endpoint ignored these unrecognized parameters: [%s]", strings.Join(unknown, " "))}
}
