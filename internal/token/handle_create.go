package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// createRequest is the body of auth/token/create and its variants.
type createRequest struct {
	ID              string            `json:"id"`
	RoleName        string            `json:"role_name"`
	Policies        []string          `json:"policies"`
	Meta            map[string]string `json:"meta"`
	NoParent        bool              `json:"no_parent"`
	NoDefaultPolicy bool              `json:"no_default_policy"`
	Renewable       *bool             `json:"renewable"`
	TTL             time.Duration     `json:"ttl"`
	Lease           time.Duration     `json:"lease"`
	ExplicitMaxTTL  time.Duration     `json:"explicit_max_ttl"`
	DisplayName     string            `json:"display_name"`
	NumUses         int               `json:"num_uses"`
	Period          time.Duration     `json:"period"`
	Type            string            `json:"type"`
	EntityAlias     string            `json:"entity_alias"`
}

// nonAssignable are policies no created token may carry.
var nonAssignable = []string{"response-wrapping", "control-group"}

// handleCreate answers create, create-orphan and create/{role}, following
// Vault's rules for policies, parents, TTLs and who may set what.
func (s *Store) handleCreate(ctx context.Context, req *engine.Request, orphanPath bool, roleName string) (*engine.Response, error) {
	parent, err := s.self(ctx, req)
	if err != nil {
		return nil, err
	}
	// A token limited in uses could escape its limit through children.
	if parent.NumUses > 0 || parent.pending() {
		return nil, engine.BadRequest("restricted use token cannot generate child tokens")
	}
	in, warnings, err := engine.Decode[createRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if roleName == "" && !orphanPath {
		roleName = in.RoleName
	}
	var r *role
	if roleName != "" {
		if r, err = s.loadRole(ctx, roleName); err != nil {
			return nil, err
		}
		if r == nil {
			return nil, engine.BadRequest("unknown role %s", roleName)
		}
	}
	sudo := req.Caller.Sudo || req.Caller.Root

	switch in.Type {
	case "", "service":
	case "batch":
		return nil, engine.BadRequest("batch tokens are not supported")
	default:
		return nil, engine.BadRequest("invalid 'token_type' value")
	}
	if in.EntityAlias != "" {
		return nil, engine.BadRequest("'entity_alias' is not supported")
	}
	if in.NumUses < 0 {
		return nil, engine.BadRequest("number of uses cannot be negative")
	}
	if in.ID != "" && !sudo {
		return nil, engine.BadRequest("root or sudo privileges required to specify token id")
	}
	if in.Period > 0 && !sudo {
		return nil, engine.BadRequest("root or sudo privileges required to create periodic token")
	}

	p := CreateParams{
		ID:             in.ID,
		Parent:         parent.ID,
		Path:           req.MountPath + req.Path,
		Meta:           in.Meta,
		DisplayName:    displayName(in.DisplayName),
		NumUses:        in.NumUses,
		TTL:            in.TTL,
		ExplicitMaxTTL: in.ExplicitMaxTTL,
		Period:         in.Period,
		Renewable:      in.Renewable == nil || *in.Renewable,
	}
	if p.TTL == 0 {
		p.TTL = in.Lease
	}
	if p.Path == req.Path { // no mount path given (tests, direct calls)
		p.Path = "auth/token/" + req.Path
	}

	p.Policies, err = childPolicies(in, parent, r, sudo)
	if err != nil {
		return nil, err
	}
	for _, pol := range p.Policies {
		if slices.Contains(nonAssignable, pol) {
			return nil, engine.BadRequest("cannot assign policy %q", pol)
		}
	}
	isRoot := slices.Contains(p.Policies, "root")
	if isRoot && !parent.IsRoot() {
		return nil, engine.BadRequest("root tokens may not be created without parent token being root")
	}

	switch {
	case r != nil:
		if r.Orphan {
			p.Parent = ""
		}
	case in.NoParent:
		if !sudo {
			return nil, engine.BadRequest("root or sudo privileges required to create orphan token")
		}
		p.Parent = ""
	case orphanPath:
		p.Parent = ""
	}
	if p.Parent != "" {
		p.EntityID = parent.EntityID
	}

	if r != nil {
		warnings = append(warnings, r.apply(&p)...)
	}

	if isRoot && p.TTL == 0 && p.Period == 0 && p.ExplicitMaxTTL == 0 {
		if !parent.ExpireTime.IsZero() {
			return nil, engine.BadRequest("expiring root tokens cannot create non-expiring root tokens")
		}
		p.Renewable = false // a token that never expires has nothing to renew
	}

	token, e, capped, err := s.create(ctx, p)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("parent token lookup failed: no parent found")
	}
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, capped...)
	more, err := s.policyWarnings(ctx, e.Policies)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, more...)
	return &engine.Response{Auth: authFor(token, e, e.CreationTTL), Warnings: warnings}, nil
}

// childPolicies decides the new token's policies. Without a role (or with a
// role that does not restrict policies) a caller without sudo may only ask
// for policies it holds ("default" is always allowed); no policies asked
// means the parent's. "default" is added unless no_default_policy, and for
// a non-sudo caller only if the parent has it.
func childPolicies(in createRequest, parent *Entry, r *role, sudo bool) ([]string, error) {
	var out []string
	switch {
	case r != nil && (len(r.AllowedPolicies) > 0 || len(r.DisallowedPolicies) > 0):
		addDefault := !in.NoDefaultPolicy && !slices.Contains(r.DisallowedPolicies, "default")
		if len(in.Policies) > 0 {
			out = sanitizePolicies(in.Policies, addDefault)
		}
		if len(r.AllowedPolicies) > 0 {
			allowed := sanitizePolicies(r.AllowedPolicies, addDefault)
			if len(out) == 0 {
				out = allowed
			} else if !subset(out, allowed) {
				return nil, engine.BadRequest("token policies (%q) must be subset of the role's allowed policies (%q)", out, allowed)
			}
		} else if len(out) == 0 {
			out = sanitizePolicies(parent.Policies, addDefault)
		}
		for _, pol := range out {
			if slices.Contains(r.DisallowedPolicies, pol) {
				return nil, engine.BadRequest("token policy %q is disallowed by this role", pol)
			}
		}
	case len(in.Policies) == 0:
		out = sanitizePolicies(parent.Policies, false)
	case !sudo:
		asked := withoutDefault(sanitizePolicies(in.Policies, false))
		if !subset(asked, withoutDefault(parent.Policies)) {
			return nil, engine.BadRequest("child policies must be subset of parent")
		}
		out = sanitizePolicies(in.Policies, !in.NoDefaultPolicy && slices.Contains(parent.Policies, "default"))
	default:
		out = sanitizePolicies(in.Policies, !in.NoDefaultPolicy)
	}
	if in.NoDefaultPolicy {
		out = withoutDefault(out)
	}
	return out, nil
}

func withoutDefault(policies []string) []string {
	return slices.DeleteFunc(slices.Clone(policies), func(p string) bool { return p == "default" })
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// displayName is "token" or "token-<name>" with every character outside
// [A-Za-z0-9-] replaced by "-" and a trailing "-" dropped, as Vault does.
func displayName(name string) string {
	if name == "" {
		return "token"
	}
	full := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, "token-"+name)
	return strings.TrimSuffix(full, "-")
}

// policyWarnings names the policies that do not exist.
func (s *Store) policyWarnings(ctx context.Context, policies []string) ([]string, error) {
	if s.policyExists == nil {
		return nil, nil
	}
	var out []string
	for _, p := range policies {
		if p == "root" {
			continue
		}
		ok, err := s.policyExists(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("create token: look up policy: %w", err)
		}
		if !ok {
			out = append(out, fmt.Sprintf("Policy %q does not exist", p))
		}
	}
	return out, nil
}
