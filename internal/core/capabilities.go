package core

import (
	"context"
	"errors"
	"slices"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/token"
)

// Capabilities returns, for each path, the capabilities the token's
// policies grant there: ["root"] for a root token, ["deny"] for none.
func (c *Core) Capabilities(ctx context.Context, raw string, paths []string) (map[string][]string, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	e, err := s.tokens.Lookup(ctx, raw)
	if errors.Is(err, token.ErrNotFound) {
		return nil, engine.BadRequest("invalid token")
	}
	if err != nil {
		return nil, err
	}
	return c.capabilities(s, e, paths)
}

// CapabilitiesAccessor is Capabilities for the token with that accessor.
func (c *Core) CapabilitiesAccessor(ctx context.Context, accessor string, paths []string) (map[string][]string, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	e, err := s.tokens.LookupAccessor(ctx, accessor)
	if errors.Is(err, token.ErrNotFound) {
		return nil, engine.BadRequest("invalid accessor")
	}
	if err != nil {
		return nil, err
	}
	return c.capabilities(s, e, paths)
}

func (c *Core) capabilities(s *unsealed, e *token.Entry, paths []string) (map[string][]string, error) {
	out := make(map[string][]string, len(paths))
	if e.IsRoot() {
		for _, p := range paths {
			out[p] = []string{"root"}
		}
		return out, nil
	}
	acl, err := s.aclFor(e.Policies, e.EntityID)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		names := acl.Capabilities(p).Names()
		if len(names) == 0 {
			names = []string{"deny"}
		}
		out[p] = names
	}
	return out, nil
}

// CanSeeMount reports whether the caller may learn about the mount at
// mountPath: root, or any capability other than deny on some path under
// it. sys/internal/ui/mounts uses it, so a token cannot enumerate mounts
// it has no business with.
func (c *Core) CanSeeMount(caller *engine.Caller, mountPath string) (bool, error) {
	if caller == nil {
		return false, nil
	}
	if caller.Root {
		return true, nil
	}
	s, err := c.state()
	if err != nil {
		return false, err
	}
	acl, err := s.aclFor(caller.Policies, caller.EntityID)
	if err != nil {
		return false, err
	}
	return acl.AnyCapabilityUnder(mountPath), nil
}

// aclFor is the ACL of a token: its own policies, plus the policies its
// identity entity gets directly and through groups, with templates filled
// from the entity.
func (s *unsealed) aclFor(tokenPolicies []string, entityID string) (*policy.ACL, error) {
	names := tokenPolicies
	if entityID != "" {
		if extra := s.identity.Policies(entityID); len(extra) > 0 {
			names = slices.Clone(tokenPolicies)
			for _, p := range extra {
				if !slices.Contains(names, p) {
					names = append(names, p)
				}
			}
			slices.Sort(names)
		}
	}
	return s.policies.acl(names, entityID, s.identity)
}
