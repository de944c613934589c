package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// EnableMount adds a mount. e.Path, e.Type and the optional fields come from
// the caller; UUID and accessor are assigned here.
func (c *Core) EnableMount(ctx context.Context, e MountEntry) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	e.Path = normalizeMountPath(e.Path)
	if err := validateMountPath(e.Path); err != nil {
		return err
	}
	if e.Type == "" {
		return &engine.InputError{Field: "type", Rule: "is required"}
	}
	if e.Type == "system" || e.Type == "token" || e.Type == "cubbyhole" || e.Type == "identity" {
		return engine.BadRequest("cannot mount another %q engine: only one may exist", e.Type)
	}
	route := e.RoutePath()
	if e.Table == TableMounts && (strings.HasPrefix(route, "auth/") || route == "auth/") {
		return engine.BadRequest("cannot mount under auth/: use sys/auth to enable an auth method")
	}
	for p := range protectedMounts {
		if strings.HasPrefix(route, p) {
			return engine.BadRequest("path %q is reserved", route)
		}
	}
	s.mounts.mu.Lock()
	defer s.mounts.mu.Unlock()
	for _, existing := range s.router.Paths() {
		if strings.HasPrefix(existing, route) || strings.HasPrefix(route, existing) {
			return engine.BadRequest("path is already in use at %s", existing)
		}
	}
	e.UUID = newUUID(c.opts.Rand)
	e.Accessor = newAccessor(c.opts.Rand, e)
	m, err := c.newMount(ctx, s, e)
	if err != nil {
		return err
	}
	s.mounts.entries[e.Table] = append(s.mounts.entries[e.Table], e)
	if err := c.persistTable(ctx, s.mounts, e.Table); err != nil {
		s.mounts.entries[e.Table] = s.mounts.entries[e.Table][:len(s.mounts.entries[e.Table])-1]
		if cl, ok := m.backend.(interface{ Close() error }); ok {
			_ = cl.Close()
		}
		return err
	}
	s.router.Mount(route, m)
	c.log.Info("core: mount enabled", "path", route, "type", e.Type)
	return nil
}

func validateMountPath(p string) error {
	if p == "" {
		return &engine.InputError{Field: "path", Rule: "is required"}
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return &engine.InputError{Field: "path", Rule: "must not contain empty, \".\" or \"..\" segments"}
		}
	}
	if strings.ContainsAny(p, "*+{}\\ ") {
		return &engine.InputError{Field: "path", Rule: "must not contain spaces, backslashes or the characters * + { }"}
	}
	return nil
}

// DisableMount removes a mount and deletes all of its data. The mount
// leaves the table and the router under the table lock; its data is
// deleted after, without holding it, so other mount operations do not wait
// on a large delete (an interrupted delete is finished by sweepOrphans).
func (c *Core) DisableMount(ctx context.Context, table, path string) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	e, live, err := c.detachMount(ctx, s, table, normalizeMountPath(path))
	if err != nil || live == nil {
		return err
	}
	if cl, ok := live.backend.(interface{ Close() error }); ok {
		if err := cl.Close(); err != nil {
			c.log.Warn("core: close disabled mount", "path", e.RoutePath(), "error", err)
		}
	}
	if e.Table == TableAuth {
		// The tokens an auth method issued go with it.
		n, err := s.tokens.RevokeCreatedUnder(ctx, e.RoutePath())
		if err != nil {
			return fmt.Errorf("disable %s: revoke its tokens: %w", e.RoutePath(), err)
		}
		c.log.Info("core: revoked the tokens of a disabled auth method", "path", e.RoutePath(), "count", n)
	}
	if err := storage.DeletePrefix(ctx, c.barrier, e.storagePrefix()); err != nil {
		return fmt.Errorf("disable %s: delete data: %w", e.RoutePath(), err)
	}
	c.log.Info("core: mount disabled", "path", e.RoutePath())
	return nil
}

// detachMount takes the mount at path out of the persisted table and the
// router. A missing mount is (nil entry, nil mount, nil): disabling it
// succeeds, as in Vault.
func (c *Core) detachMount(ctx context.Context, s *unsealed, table, path string) (MountEntry, *mount, error) {
	s.mounts.mu.Lock()
	defer s.mounts.mu.Unlock()
	entries := s.mounts.entries[table]
	idx := slices.IndexFunc(entries, func(e MountEntry) bool { return e.Path == path })
	if idx < 0 {
		return MountEntry{}, nil, nil
	}
	e := entries[idx]
	if protectedMounts[e.RoutePath()] {
		return e, nil, engine.BadRequest("cannot disable %q: it is a built-in mount", e.RoutePath())
	}
	s.mounts.entries[table] = slices.Delete(slices.Clone(entries), idx, idx+1)
	if err := c.persistTable(ctx, s.mounts, table); err != nil {
		s.mounts.entries[table] = entries
		return e, nil, err
	}
	live, _ := s.router.Get(e.RoutePath())
	s.router.Unmount(e.RoutePath())
	return e, live, nil
}

// TuneMount changes a mount's tunables. Fields left nil are unchanged.
func (c *Core) TuneMount(ctx context.Context, table, path string, t Tune) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	path = normalizeMountPath(path)
	s.mounts.mu.Lock()
	defer s.mounts.mu.Unlock()
	entries := s.mounts.entries[table]
	for i := range entries {
		e := &entries[i]
		if e.Path != path {
			continue
		}
		next := *e
		if t.DefaultLeaseTTL != nil {
			next.Config.DefaultLeaseTTL = *t.DefaultLeaseTTL
		}
		if t.MaxLeaseTTL != nil {
			next.Config.MaxLeaseTTL = *t.MaxLeaseTTL
		}
		if next.Config.MaxLeaseTTL > 0 && next.Config.DefaultLeaseTTL > next.Config.MaxLeaseTTL {
			return &engine.InputError{Field: "default_lease_ttl", Rule: "must not exceed max_lease_ttl"}
		}
		if t.Description != nil {
			next.Description = *t.Description
		}
		if t.ListingVisibility != nil {
			next.Config.ListingVisibility = *t.ListingVisibility
		}
		if v, ok := t.Options["version"]; ok && v != e.Options["version"] {
			return engine.BadRequest("changing a kv mount's version is not supported yet; enable a new mount with the version you want")
		}
		live, ok := s.router.Get(e.RoutePath())
		if !ok {
			return fmt.Errorf("tune %s: mount is not routed", e.RoutePath())
		}
		prev := *e
		*e = next
		if err := c.persistTable(ctx, s.mounts, table); err != nil {
			*e = prev
			return err
		}
		// The engine stays: it reads the new TTLs live.
		tuned := *live
		tuned.entry = next
		def, max := c.mountTTLs(next)
		tuned.ttls.Store(&leaseTTLs{def, max})
		s.router.Mount(e.RoutePath(), &tuned)
		return nil
	}
	return engine.BadRequest("no mount at %q", path)
}

// Tune is a change to a mount's tunables; nil fields are left alone.
type Tune struct {
	DefaultLeaseTTL   *time.Duration
	MaxLeaseTTL       *time.Duration
	Description       *string
	ListingVisibility *string
	Options           map[string]string
}

// sweepOrphans deletes the data of mounts that are no longer in the table:
// what a disable interrupted between dropping the mount and deleting its
// data left behind. It lists only the mount folders, not their contents.
func (c *Core) sweepOrphans(ctx context.Context, mt *mountTable) error {
	live := map[string]bool{}
	for _, entries := range mt.entries {
		for _, e := range entries {
			live[e.storagePrefix()] = true
		}
	}
	for _, root := range []string{"logical/", "auth/"} {
		folders, err := c.barrier.List(ctx, root)
		if err != nil {
			return fmt.Errorf("sweep %s: %w", root, err)
		}
		for _, f := range folders {
			if !strings.HasSuffix(f, "/") || live[root+f] {
				continue
			}
			c.log.Info("core: deleting data of a disabled mount", "prefix", root+f)
			if err := storage.DeletePrefix(ctx, c.barrier, root+f); err != nil {
				return fmt.Errorf("sweep %s: %w", root+f, err)
			}
		}
	}
	return nil
}
