package token

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
)

// Backend returns the auth/token/ mount. It is an engine.Mux, so it also
// implements engine.ExistenceChecker and engine.SpecialPaths (revoke-orphan
// and accessors are root-protected).
//
// The handlers expect core to have authenticated the caller: Request.Caller
// describes a valid token whose ID is Caller.TokenID, ClientToken is that
// token, and Caller.Sudo says whether the caller has sudo on the path.
func (s *Store) Backend() engine.Backend {
	return engine.NewMux(
		engine.Path{Pattern: "create", Summary: "Create a token that is a child of the caller's.",
			Write: func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
				return s.handleCreate(ctx, req, false, "")
			}},
		engine.Path{Pattern: "create-orphan", Summary: "Create a token with no parent.",
			Write: func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
				return s.handleCreate(ctx, req, true, "")
			}},
		engine.Path{Pattern: "create/{role}", Summary: "Create a token from a role.",
			Write: func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
				return s.handleCreate(ctx, req, false, req.Var("role"))
			}},
		engine.Path{Pattern: "lookup", Summary: "Look up a token's properties.",
			Read: s.handleLookup, Write: s.handleLookup},
		engine.Path{Pattern: "lookup-self", Summary: "Look up the calling token's properties.",
			Read: s.handleLookupSelf, Write: s.handleLookupSelf},
		engine.Path{Pattern: "lookup-accessor", Summary: "Look up a token's properties by accessor.",
			Write: s.handleLookupAccessor},
		engine.Path{Pattern: "renew", Summary: "Renew a token.", Write: s.handleRenew},
		engine.Path{Pattern: "renew-self", Summary: "Renew the calling token.", Write: s.handleRenewSelf},
		engine.Path{Pattern: "renew-accessor", Summary: "Renew a token by accessor.", Write: s.handleRenewAccessor},
		engine.Path{Pattern: "revoke", Summary: "Revoke a token and its children.", Write: s.handleRevoke},
		engine.Path{Pattern: "revoke-self", Summary: "Revoke the calling token and its children.", Write: s.handleRevokeSelf},
		engine.Path{Pattern: "revoke-accessor", Summary: "Revoke a token and its children by accessor.", Write: s.handleRevokeAccessor},
		engine.Path{Pattern: "revoke-orphan", Summary: "Revoke a token, leaving its children as orphans.",
			Write: s.handleRevokeOrphan, Sudo: true},
		engine.Path{Pattern: "accessors/{rest...}", Summary: "List token accessors.",
			List: s.handleAccessors, Sudo: true},
		engine.Path{Pattern: "tidy", Summary: "Revoke expired tokens and clean up indexes.", Write: s.handleTidy},
		engine.Path{Pattern: "roles/{name...}", Summary: "Manage token roles.",
			List: s.handleRoleList, Read: s.handleRoleRead, Write: s.handleRoleWrite,
			Delete: s.handleRoleDelete, Exists: s.roleExists},
	)
}

var errDenied = engine.Errorf(engine.ErrPermissionDenied, "permission denied")

// self returns the caller's own entry. It accepts a token whose last use
// this request spent (pending, but still serving this request).
func (s *Store) self(ctx context.Context, req *engine.Request) (*Entry, error) {
	if req.Caller == nil || req.Caller.TokenID == "" {
		return nil, errDenied
	}
	e, err := s.load(ctx, req.Caller.TokenID)
	if errors.Is(err, ErrNotFound) {
		return nil, errDenied
	}
	if err != nil {
		return nil, err
	}
	if e.expired(s.now()) {
		return nil, errDenied
	}
	return e, nil
}

// authFor is the auth block for a token (client_token may be "" when the
// token was named by accessor).
func authFor(token string, e *Entry, lease time.Duration) *api.Auth {
	policies := slices.Clone(e.Policies)
	if policies == nil {
		policies = []string{}
	}
	a := &api.Auth{
		ClientToken:   token,
		Accessor:      e.Accessor,
		Policies:      policies,
		TokenPolicies: slices.Clone(policies),
		LeaseDuration: int64(lease / time.Second),
		Renewable:     e.Renewable && !e.ExpireTime.IsZero(),
		EntityID:      e.EntityID,
		TokenType:     e.Type,
		Orphan:        e.Parent == "",
		NumUses:       e.NumUses,
	}
	if len(e.Meta) > 0 {
		a.Metadata = e.Meta
	}
	return a
}

// lookupData is the data of a lookup answer, with Vault's field names and
// types: integers for times in seconds, RFC 3339 strings for instants. A
// token whose entity has policies of its own or from its groups lists them
// as identity_policies.
func (s *Store) lookupData(e *Entry, token string) map[string]any {
	d := entryData(e, token, s.now())
	if e.EntityID != "" && s.identityPolicies != nil {
		if ps := s.identityPolicies(e.EntityID); len(ps) > 0 {
			d["identity_policies"] = ps
		}
	}
	return d
}

// entryData is lookupData without the identity's policies.
func entryData(e *Entry, token string, now time.Time) map[string]any {
	policies := slices.Clone(e.Policies)
	if policies == nil {
		policies = []string{}
	}
	d := map[string]any{
		"id":               token,
		"accessor":         e.Accessor,
		"policies":         policies,
		"path":             e.Path,
		"meta":             nil,
		"display_name":     e.DisplayName,
		"num_uses":         e.NumUses,
		"orphan":           e.Parent == "",
		"creation_time":    e.CreationTime.Unix(),
		"creation_ttl":     int64(e.CreationTTL / time.Second),
		"expire_time":      nil,
		"ttl":              int64(0),
		"explicit_max_ttl": int64(e.ExplicitMaxTTL / time.Second),
		"entity_id":        e.EntityID,
		"type":             e.Type,
	}
	if len(e.Meta) > 0 {
		d["meta"] = e.Meta
	}
	if e.Role != "" {
		d["role"] = e.Role
	}
	if len(e.BoundCIDRs) > 0 {
		d["bound_cidrs"] = e.BoundCIDRs
	}
	if e.Period > 0 {
		d["period"] = int64(e.Period / time.Second)
	}
	// Like Vault, only expiring tokens report renewability and issue time.
	if !e.ExpireTime.IsZero() {
		d["expire_time"] = e.ExpireTime.Format(time.RFC3339Nano)
		d["ttl"] = int64(e.TTL(now) / time.Second)
		d["renewable"] = e.Renewable
		d["issue_time"] = e.CreationTime.Format(time.RFC3339Nano)
		if !e.LastRenewal.IsZero() {
			d["last_renewal_time"] = e.LastRenewal.Unix()
			d["last_renewal"] = e.LastRenewal.Format(time.RFC3339Nano)
		}
	}
	return d
}
