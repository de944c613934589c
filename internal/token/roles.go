package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// role is a token role: a template for create/{role} that an operator
// writes so that callers can get tokens with set properties, including
// policies the caller does not hold itself.
type role struct {
	Name               string        `json:"name"`
	AllowedPolicies    []string      `json:"allowed_policies"`
	DisallowedPolicies []string      `json:"disallowed_policies"`
	Orphan             bool          `json:"orphan"`
	Renewable          bool          `json:"renewable"`
	PathSuffix         string        `json:"path_suffix"`
	ExplicitMaxTTL     time.Duration `json:"explicit_max_ttl"`
	Period             time.Duration `json:"period"`
	TokenType          string        `json:"token_type"`
	NoDefaultPolicy    bool          `json:"token_no_default_policy"`
	NumUses            int           `json:"token_num_uses"`
}

// roleRequest is the body of a role write; nil fields keep their value.
type roleRequest struct {
	AllowedPolicies      *[]string      `json:"allowed_policies"`
	DisallowedPolicies   *[]string      `json:"disallowed_policies"`
	Orphan               *bool          `json:"orphan"`
	Renewable            *bool          `json:"renewable"`
	PathSuffix           *string        `json:"path_suffix"`
	ExplicitMaxTTL       *time.Duration `json:"explicit_max_ttl"`
	TokenExplicitMaxTTL  *time.Duration `json:"token_explicit_max_ttl"`
	Period               *time.Duration `json:"period"`
	TokenPeriod          *time.Duration `json:"token_period"`
	TokenType            *string        `json:"token_type"`
	TokenNoDefaultPolicy *bool          `json:"token_no_default_policy"`
	TokenNumUses         *int           `json:"token_num_uses"`
}

// apply puts the role's settings into p (already holding what the caller
// asked for) and returns warnings.
func (r *role) apply(p *CreateParams) []string {
	var warnings []string
	p.Role = r.Name
	if !r.Renewable {
		p.Renewable = false
	}
	if r.PathSuffix != "" {
		p.Path += "/" + r.PathSuffix
	}
	if r.ExplicitMaxTTL > 0 {
		if p.ExplicitMaxTTL > 0 {
			p.ExplicitMaxTTL = min(p.ExplicitMaxTTL, r.ExplicitMaxTTL)
			warnings = append(warnings, fmt.Sprintf("Explicit max TTL set by both the request and the role; using the lesser, %d seconds", int64(p.ExplicitMaxTTL/time.Second)))
		} else {
			p.ExplicitMaxTTL = r.ExplicitMaxTTL
		}
	}
	if r.Period > 0 {
		if p.Period > 0 {
			p.Period = min(p.Period, r.Period)
			warnings = append(warnings, fmt.Sprintf("Period set by both the request and the role; using the lesser, %d seconds", int64(p.Period/time.Second)))
		} else {
			p.Period = r.Period
		}
	}
	if r.NumUses > 0 && (p.NumUses == 0 || r.NumUses < p.NumUses) {
		p.NumUses = r.NumUses
	}
	if r.NoDefaultPolicy {
		p.Policies = withoutDefault(p.Policies)
	}
	return warnings
}

func validRoleName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/") && name != "." && name != ".."
}

func (s *Store) loadRole(ctx context.Context, name string) (*role, error) {
	if !validRoleName(name) {
		return nil, nil
	}
	raw, err := s.st.Get(ctx, prefixRole+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read token role: %w", err)
	}
	var r role
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("read token role: decode: %w", err)
	}
	return &r, nil
}

func (s *Store) roleExists(ctx context.Context, req *engine.Request) (bool, error) {
	r, err := s.loadRole(ctx, req.Var("name"))
	return r != nil, err
}

func (s *Store) handleRoleList(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("name") != "" {
		return nil, engine.Errorf(engine.ErrUnsupportedPath, "no handler for route %q. route entry not found.", req.MountPath+req.Path)
	}
	keys, err := s.st.List(ctx, prefixRole)
	if err != nil {
		return nil, fmt.Errorf("list token roles: %w", err)
	}
	return engine.ListResponse(keys), nil
}

func (s *Store) handleRoleRead(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	r, err := s.loadRole(ctx, req.Var("name"))
	if err != nil || r == nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"name":                     r.Name,
		"allowed_policies":         engine.StringSlice(r.AllowedPolicies),
		"disallowed_policies":      engine.StringSlice(r.DisallowedPolicies),
		"allowed_policies_glob":    []string{},
		"disallowed_policies_glob": []string{},
		"allowed_entity_aliases":   nil,
		"orphan":                   r.Orphan,
		"renewable":                r.Renewable,
		"path_suffix":              r.PathSuffix,
		"explicit_max_ttl":         int64(r.ExplicitMaxTTL / time.Second),
		"token_explicit_max_ttl":   int64(r.ExplicitMaxTTL / time.Second),
		"period":                   int64(r.Period / time.Second),
		"token_period":             int64(r.Period / time.Second),
		"token_type":               r.TokenType,
		"token_no_default_policy":  r.NoDefaultPolicy,
		"token_num_uses":           r.NumUses,
		"token_bound_cidrs":        []string{},
	}), nil
}

// handleRoleWrite creates or updates a role; fields left out keep their
// value (or the default for a new role: renewable, token_type
// "default-service").
func (s *Store) handleRoleWrite(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if !validRoleName(name) {
		return nil, &engine.InputError{Field: "role_name", Rule: "must be a non-empty name without \"/\""}
	}
	in, warnings, err := engine.Decode[roleRequest](req.Data)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{Name: name, Renewable: true, TokenType: "default-service"}
	}
	if in.AllowedPolicies != nil {
		r.AllowedPolicies = sanitizePolicies(*in.AllowedPolicies, false)
	}
	if in.DisallowedPolicies != nil {
		r.DisallowedPolicies = sanitizePolicies(*in.DisallowedPolicies, false)
	}
	setIf(&r.Orphan, in.Orphan)
	setIf(&r.Renewable, in.Renewable)
	setIf(&r.NoDefaultPolicy, in.TokenNoDefaultPolicy)
	setIf(&r.ExplicitMaxTTL, in.ExplicitMaxTTL)
	setIf(&r.ExplicitMaxTTL, in.TokenExplicitMaxTTL)
	setIf(&r.Period, in.Period)
	setIf(&r.Period, in.TokenPeriod)
	if in.PathSuffix != nil {
		if strings.Contains(*in.PathSuffix, "..") || strings.HasPrefix(*in.PathSuffix, "/") {
			return nil, &engine.InputError{Field: "path_suffix", Rule: "must not contain \"..\" or start with \"/\""}
		}
		r.PathSuffix = *in.PathSuffix
	}
	if in.TokenNumUses != nil {
		if *in.TokenNumUses < 0 {
			return nil, &engine.InputError{Field: "token_num_uses", Rule: "must not be negative"}
		}
		r.NumUses = *in.TokenNumUses
	}
	if in.TokenType != nil {
		switch *in.TokenType {
		case "service", "default-service":
			r.TokenType = *in.TokenType
		case "default", "":
			r.TokenType = "default-service"
		default:
			return nil, &engine.InputError{Field: "token_type", Rule: "only \"service\" tokens are supported"}
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("write token role: %w", err)
	}
	if err := s.st.Put(ctx, prefixRole+name, raw); err != nil {
		return nil, fmt.Errorf("write token role: %w", err)
	}
	if len(warnings) == 0 {
		return nil, nil
	}
	return &engine.Response{Warnings: warnings}, nil
}

func (s *Store) handleRoleDelete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if !validRoleName(name) {
		return nil, &engine.InputError{Field: "role_name", Rule: "must be a non-empty name without \"/\""}
	}
	if err := s.st.Delete(ctx, prefixRole+name); err != nil {
		return nil, fmt.Errorf("delete token role: %w", err)
	}
	return nil, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
