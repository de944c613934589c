package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/token"
)

// completeLogin turns an auth method's Login into a token: it finds or
// creates the identity entity for the login's alias, issues an orphan
// token bounded by the mount's TTLs, and answers with the auth block.
func (c *Core) completeLogin(ctx context.Context, s *unsealed, call *auditCall, resp *engine.Response) error {
	l := resp.Login
	resp.Login = nil
	m := call.mount
	if m.entry.Table != TableAuth {
		return fmt.Errorf("login from %s, which is not an auth method", m.entry.RoutePath())
	}
	if l.Alias.Name == "" {
		return fmt.Errorf("login from %s has no alias name", m.entry.RoutePath())
	}
	entity, err := s.identity.LoginAlias(ctx, m.entry.Accessor, m.entry.Type, m.entry.RoutePath(), l.Alias, l.GroupAliases)
	if err != nil {
		return fmt.Errorf("login: identity: %w", err)
	}
	if entity.Disabled {
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied: the entity of this login is disabled")
	}

	policies := make([]string, 0, len(l.Policies)+1)
	for _, p := range l.Policies {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == PolicyRoot {
			// Root tokens come from init and generate-root, never from a
			// login: whoever may edit a role must not mint root.
			return engine.BadRequest("auth methods cannot create root tokens: remove the root policy from the role or user")
		}
		if p != "" {
			policies = append(policies, p)
		}
	}
	if !l.NoDefaultPolicy && !slices.Contains(policies, PolicyDefault) {
		policies = append(policies, PolicyDefault)
	}
	mountDef, mountMax := c.mountTTLs(m.entry)
	ttl, explicitMax := loginTTLs(l, mountDef, mountMax)
	raw, e, err := s.tokens.Create(ctx, token.CreateParams{
		Orphan:         true,
		Policies:       policies,
		Path:           call.path,
		Meta:           l.Metadata,
		DisplayName:    displayName(m.entry.Type, l.DisplayName),
		NumUses:        l.NumUses,
		TTL:            ttl,
		ExplicitMaxTTL: explicitMax,
		Period:         l.Period,
		Renewable:      l.Renewable,
		EntityID:       entity.ID,
		BoundCIDRs:     l.BoundCIDRs,
	})
	if err != nil {
		return fmt.Errorf("login: create token: %w", err)
	}
	identityPolicies := s.identity.Policies(entity.ID)
	all := slices.Clone(e.Policies)
	for _, p := range identityPolicies {
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	slices.Sort(all)
	resp.Auth = &api.Auth{
		ClientToken:      raw,
		Accessor:         e.Accessor,
		Policies:         all,
		TokenPolicies:    e.Policies,
		IdentityPolicies: identityPolicies,
		Metadata:         e.Meta,
		LeaseDuration:    int64(e.CreationTTL / time.Second),
		Renewable:        e.Renewable,
		EntityID:         entity.ID,
		TokenType:        e.Type,
		Orphan:           true,
		NumUses:          e.NumUses,
	}
	return nil
}

// loginTTLs bounds a login's TTLs by the mount's: the token's TTL is the
// login's (or the mount default), never above the login's or the mount's
// maximum, which also caps renewals. A periodic token renews for ever by
// design; only an explicit max TTL ends it.
func loginTTLs(l *engine.Login, mountDef, mountMax time.Duration) (ttl, explicitMax time.Duration) {
	if l.Period > 0 {
		return 0, l.ExplicitMaxTTL
	}
	ttl = l.TTL
	if ttl == 0 {
		ttl = mountDef
	}
	explicitMax = mountMax
	for _, m := range []time.Duration{l.MaxTTL, l.ExplicitMaxTTL} {
		if m > 0 && (explicitMax == 0 || m < explicitMax) {
			explicitMax = m
		}
	}
	if explicitMax > 0 && ttl > explicitMax {
		ttl = explicitMax
	}
	return ttl, explicitMax
}

// displayName is the mount type and the login's name: "userpass-alice".
func displayName(mountType, name string) string {
	if name == "" {
		return mountType
	}
	return mountType + "-" + name
}

// checkLogin asks the auth method that issued a login token whether the
// login still stands before the token is renewed: a deleted user or role
// renews no more. Tokens not from a login, and methods without a check,
// pass.
func (c *Core) checkLogin(ctx context.Context, s *unsealed, e *token.Entry) error {
	if !strings.HasPrefix(e.Path, "auth/") || strings.HasPrefix(e.Path, "auth/token/") {
		return nil
	}
	m, mountPath, ok := s.router.Match(e.Path)
	if !ok || m.entry.Table != TableAuth {
		return engine.BadRequest("renew token: the auth method that issued it is gone")
	}
	checker, ok := m.backend.(engine.LoginChecker)
	if !ok {
		return nil
	}
	return checker.CheckLogin(ctx, engine.LoginCheck{
		Path:     strings.TrimPrefix(e.Path, mountPath),
		Metadata: e.Meta,
		Policies: e.Policies,
	})
}
