package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

const rolePrefix = "role/"

// Role types: "oidc" roles serve the browser flow, "jwt" roles JWT logins.
const (
	roleTypeOIDC = "oidc"
	roleTypeJWT  = "jwt"
)

// Default leeways, in Vault's amounts. A stored leeway of zero means the
// default; a negative one means none.
const (
	defaultClockSkew   = 60 * time.Second
	defaultClaimLeeway = 150 * time.Second
)

// role is one role as stored.
type role struct {
	RoleType             string            `json:"role_type"`
	UserClaim            string            `json:"user_claim"`
	UserClaimJSONPointer bool              `json:"user_claim_json_pointer"`
	BoundAudiences       []string          `json:"bound_audiences"`
	BoundSubject         string            `json:"bound_subject"`
	BoundClaims          map[string]any    `json:"bound_claims"` // string or []string values
	BoundClaimsType      string            `json:"bound_claims_type"`
	ClaimMappings        map[string]string `json:"claim_mappings"`
	GroupsClaim          string            `json:"groups_claim"`
	ClockSkewLeeway      time.Duration     `json:"clock_skew_leeway"`
	ExpirationLeeway     time.Duration     `json:"expiration_leeway"`
	NotBeforeLeeway      time.Duration     `json:"not_before_leeway"`
	AllowedRedirectURIs  []string          `json:"allowed_redirect_uris"`
	OIDCScopes           []string          `json:"oidc_scopes"`
	VerboseOIDCLogging   bool              `json:"verbose_oidc_logging"`
	Token                auth.TokenParams  `json:"token"`
}

// roleInput is a role write; nil fields keep their stored values.
type roleInput struct {
	auth.TokenInput
	RoleType                  *string            `json:"role_type"`
	UserClaim                 *string            `json:"user_claim"`
	UserClaimJSONPointer      *bool              `json:"user_claim_json_pointer"`
	BoundAudiences            *[]string          `json:"bound_audiences"`
	BoundSubject              *string            `json:"bound_subject"`
	BoundClaims               *map[string]any    `json:"bound_claims"`
	BoundClaimsType           *string            `json:"bound_claims_type"`
	DisableBoundClaimsParsing bool               `json:"disable_bound_claims_parsing"`
	ClaimMappings             *map[string]string `json:"claim_mappings"`
	GroupsClaim               *string            `json:"groups_claim"`
	ClockSkewLeeway           *any               `json:"clock_skew_leeway"`
	ExpirationLeeway          *any               `json:"expiration_leeway"`
	NotBeforeLeeway           *any               `json:"not_before_leeway"`
	AllowedRedirectURIs       *[]string          `json:"allowed_redirect_uris"`
	OIDCScopes                *[]string          `json:"oidc_scopes"`
	VerboseOIDCLogging        *bool              `json:"verbose_oidc_logging"`
}

func (b *backend) writeRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	in, warnings, err := engine.Decode[roleInput](req.Data)
	if err != nil {
		return nil, err
	}
	b.roleMu.Lock()
	defer b.roleMu.Unlock()
	r, err := b.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{RoleType: roleTypeOIDC, BoundClaimsType: "string",
			ClockSkewLeeway: defaultClockSkew, ExpirationLeeway: defaultClaimLeeway, NotBeforeLeeway: defaultClaimLeeway}
	}
	if err := r.apply(in); err != nil {
		return nil, err
	}
	if err := r.Token.Update(in.TokenInput); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("write role: %w", err)
	}
	if err := b.env.Storage.Put(ctx, rolePrefix+name, raw); err != nil {
		return nil, fmt.Errorf("write role: %w", err)
	}
	if len(warnings) == 0 {
		return nil, nil
	}
	return &engine.Response{Warnings: warnings}, nil
}

// apply copies the fields set in in.
func (r *role) apply(in roleInput) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&r.RoleType, in.RoleType)
	set(&r.UserClaim, in.UserClaim)
	set(&r.BoundSubject, in.BoundSubject)
	set(&r.BoundClaimsType, in.BoundClaimsType)
	set(&r.GroupsClaim, in.GroupsClaim)
	if in.UserClaimJSONPointer != nil {
		r.UserClaimJSONPointer = *in.UserClaimJSONPointer
	}
	if in.VerboseOIDCLogging != nil {
		r.VerboseOIDCLogging = *in.VerboseOIDCLogging
	}
	if in.BoundAudiences != nil {
		r.BoundAudiences = *in.BoundAudiences
	}
	if in.AllowedRedirectURIs != nil {
		r.AllowedRedirectURIs = *in.AllowedRedirectURIs
	}
	if in.OIDCScopes != nil {
		r.OIDCScopes = *in.OIDCScopes
	}
	if in.ClaimMappings != nil {
		r.ClaimMappings = *in.ClaimMappings
	}
	if in.BoundClaims != nil {
		bc, err := normalizeBoundClaims(*in.BoundClaims, !in.DisableBoundClaimsParsing)
		if err != nil {
			return err
		}
		r.BoundClaims = bc
	}
	for _, l := range []struct {
		field string
		in    *any
		dst   *time.Duration
	}{
		{"clock_skew_leeway", in.ClockSkewLeeway, &r.ClockSkewLeeway},
		{"expiration_leeway", in.ExpirationLeeway, &r.ExpirationLeeway},
		{"not_before_leeway", in.NotBeforeLeeway, &r.NotBeforeLeeway},
	} {
		if l.in == nil {
			continue
		}
		d, err := parseLeeway(*l.in)
		if err != nil {
			return &engine.InputError{Field: l.field, Rule: err.Error()}
		}
		*l.dst = d
	}
	return nil
}

// parseLeeway reads a leeway: a duration, or -1 for none (kept as a
// negative duration).
func parseLeeway(v any) (time.Duration, error) {
	if s, ok := scalarString(v); ok && strings.TrimSpace(s) == "-1" {
		return -time.Second, nil
	}
	if n, ok := v.(int); ok && n == -1 {
		return -time.Second, nil
	}
	return engine.ParseDuration(v)
}

// normalizeBoundClaims checks bound claim values (a string or a list of
// strings) and, when parse is set, splits comma-separated strings into
// lists, as Vault does unless disable_bound_claims_parsing is set.
func normalizeBoundClaims(in map[string]any, parse bool) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for k, v := range in {
		if k == "" {
			return nil, &engine.InputError{Field: "bound_claims", Rule: "claim names must not be empty"}
		}
		switch x := v.(type) {
		case string:
			if parse && strings.Contains(x, ",") {
				var list []string
				for _, p := range strings.Split(x, ",") {
					if p = strings.TrimSpace(p); p != "" {
						list = append(list, p)
					}
				}
				out[k] = list
			} else {
				out[k] = x
			}
		case []any, []string:
			list, ok := stringList(x)
			if !ok {
				return nil, &engine.InputError{Field: "bound_claims." + k, Rule: "must be a string or a list of strings"}
			}
			out[k] = list
		default:
			return nil, &engine.InputError{Field: "bound_claims." + k, Rule: "must be a string or a list of strings"}
		}
	}
	return out, nil
}

// stringList converts []any of strings (as JSON decodes) or []string.
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// boundSets returns the bound claims as value lists, for matching.
func (r *role) boundSets() map[string][]string {
	out := make(map[string][]string, len(r.BoundClaims))
	for k, v := range r.BoundClaims {
		if s, ok := v.(string); ok {
			out[k] = []string{s}
		} else if list, ok := stringList(v); ok {
			out[k] = list
		}
	}
	return out
}

// validate checks a role before it is stored.
func (r *role) validate() error {
	switch r.RoleType {
	case roleTypeOIDC, roleTypeJWT:
	default:
		return &engine.InputError{Field: "role_type", Rule: `must be "oidc" or "jwt"`}
	}
	if r.UserClaim == "" {
		return engine.BadRequest("a user claim must be defined on the role")
	}
	switch r.BoundClaimsType {
	case "string", "glob":
	default:
		return &engine.InputError{Field: "bound_claims_type", Rule: `must be "string" or "glob"`}
	}
	targets := map[string]bool{}
	for _, key := range r.ClaimMappings {
		if key == "role" {
			return engine.BadRequest(`metadata key "role" is reserved and may not be a mapping destination`)
		}
		if key == "" {
			return &engine.InputError{Field: "claim_mappings", Rule: "metadata keys must not be empty"}
		}
		if targets[key] {
			return engine.BadRequest("multiple keys are mapped to metadata key %q", key)
		}
		targets[key] = true
	}
	if r.RoleType == roleTypeJWT && len(r.BoundAudiences) == 0 && r.BoundSubject == "" &&
		len(r.BoundClaims) == 0 && len(r.Token.BoundCIDRs) == 0 {
		return engine.BadRequest("must have at least one bound constraint when creating/updating a role")
	}
	if r.RoleType == roleTypeOIDC && len(r.AllowedRedirectURIs) == 0 {
		return engine.BadRequest("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified")
	}
	return nil
}

func (b *backend) readRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	r, err := b.loadRole(ctx, req.Var("name"))
	if err != nil || r == nil {
		return nil, err
	}
	data := map[string]any{
		"role_type":               r.RoleType,
		"user_claim":              r.UserClaim,
		"user_claim_json_pointer": r.UserClaimJSONPointer,
		"bound_audiences":         nonNil(r.BoundAudiences),
		"bound_subject":           r.BoundSubject,
		"bound_claims":            r.BoundClaims,
		"bound_claims_type":       r.BoundClaimsType,
		"claim_mappings":          r.ClaimMappings,
		"groups_claim":            r.GroupsClaim,
		"clock_skew_leeway":       leewaySeconds(r.ClockSkewLeeway),
		"expiration_leeway":       leewaySeconds(r.ExpirationLeeway),
		"not_before_leeway":       leewaySeconds(r.NotBeforeLeeway),
		"allowed_redirect_uris":   nonNil(r.AllowedRedirectURIs),
		"oidc_scopes":             nonNil(r.OIDCScopes),
		"verbose_oidc_logging":    r.VerboseOIDCLogging,
	}
	r.Token.Data(data)
	return engine.DataResponse(data), nil
}

func leewaySeconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Second)
}

// leeway is the effective leeway: def for zero, none for negative.
func leeway(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

func (b *backend) deleteRole(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if err := b.env.Storage.Delete(ctx, rolePrefix+req.Var("name")); err != nil {
		return nil, fmt.Errorf("delete role: %w", err)
	}
	return nil, nil
}

func (b *backend) listRoles(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	keys, err := b.env.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	sort.Strings(keys)
	return engine.ListResponse(keys), nil
}

func (b *backend) roleExists(ctx context.Context, req *engine.Request) (bool, error) {
	r, err := b.loadRole(ctx, req.Var("name"))
	return r != nil, err
}

// loadRole reads a role; nil if there is none.
func (b *backend) loadRole(ctx context.Context, name string) (*role, error) {
	raw, err := b.env.Storage.Get(ctx, rolePrefix+name)
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
