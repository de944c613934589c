package core

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/router"
	"github.com/wardsec/ward/internal/storage"
)

// Table names: secret engines live in "mounts", auth methods in "auth"
// (routed under "auth/").
const (
	TableMounts = "mounts"
	TableAuth   = "auth"
)

// MountEntry is one row of a mount table, as stored and as sys/mounts shows it.
type MountEntry struct {
	Table       string            `json:"table"`
	Path        string            `json:"path"` // "secret/", or "userpass/" in the auth table
	Type        string            `json:"type"`
	Description string            `json:"description"`
	UUID        string            `json:"uuid"`
	Accessor    string            `json:"accessor"`
	Local       bool              `json:"local"`
	SealWrap    bool              `json:"seal_wrap"`
	Options     map[string]string `json:"options"`
	Config      MountConfig       `json:"config"`
}

// MountConfig holds a mount's tunables.
type MountConfig struct {
	DefaultLeaseTTL   time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL       time.Duration `json:"max_lease_ttl"`
	ForceNoCache      bool          `json:"force_no_cache"`
	ListingVisibility string        `json:"listing_visibility,omitempty"`
}

// RoutePath is the path requests use to reach the mount ("auth/userpass/").
func (e *MountEntry) RoutePath() string {
	if e.Table == TableAuth {
		return "auth/" + e.Path
	}
	return e.Path
}

func (e *MountEntry) storagePrefix() string {
	switch {
	case e.Type == "token":
		return "sys/token/"
	case e.Table == TableAuth:
		return "auth/" + e.UUID + "/"
	}
	return "logical/" + e.UUID + "/"
}

// mount is a live mount: its entry and its engine.
type mount struct {
	entry   MountEntry
	backend engine.Backend
	special engine.SpecialPaths     // nil if the engine has none
	exists  engine.ExistenceChecker // nil if the engine has none
	// ttls are the mount's effective lease TTLs, which the engine reads
	// live through Env.LeaseTTLs, so tuning needs no new engine.
	ttls *atomic.Pointer[leaseTTLs]
}

type leaseTTLs struct{ def, max time.Duration }

// mountTable owns the persisted mount tables; mu serializes changes.
type mountTable struct {
	mu      sync.Mutex
	entries map[string][]MountEntry // by table
}

func tableKey(table string) string { return "core/" + table }

// Protected mounts cannot be disabled or moved, and their paths are
// reserved for new mounts.
var protectedMounts = map[string]bool{"sys/": true, "cubbyhole/": true, "identity/": true, "auth/token/": true}

func defaultMounts() map[string][]MountEntry {
	return map[string][]MountEntry{
		TableMounts: {
			{Table: TableMounts, Path: "cubbyhole/", Type: "cubbyhole", Description: "per-token private secret storage", Local: true},
			{Table: TableMounts, Path: "sys/", Type: "system", Description: "system endpoints used for control, policy and debugging"},
		},
		TableAuth: {
			{Table: TableAuth, Path: "token/", Type: "token", Description: "token based credentials"},
		},
	}
}

// loadMounts reads the mount tables, creating a missing one with its
// defaults. created reports that one was missing: after a fresh init, or
// when storage lost it, in which case data may exist that the new table
// does not name, and nothing may be swept.
func (c *Core) loadMounts(ctx context.Context) (mt *mountTable, created bool, err error) {
	mt = &mountTable{entries: map[string][]MountEntry{}}
	defaults := defaultMounts()
	for _, table := range []string{TableMounts, TableAuth} {
		raw, err := c.barrier.Get(ctx, tableKey(table))
		if errors.Is(err, storage.ErrNotFound) {
			entries := defaults[table]
			for i := range entries {
				entries[i].UUID = newUUID(c.opts.Rand)
				entries[i].Accessor = newAccessor(c.opts.Rand, entries[i])
			}
			mt.entries[table] = entries
			if err := c.persistTable(ctx, mt, table); err != nil {
				return nil, false, err
			}
			created = true
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("load %s table: %w", table, err)
		}
		var entries []MountEntry
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, false, fmt.Errorf("load %s table: %w", table, err)
		}
		mt.entries[table] = entries
	}
	return mt, created, nil
}

func (c *Core) persistTable(ctx context.Context, mt *mountTable, table string) error {
	raw, err := json.Marshal(mt.entries[table])
	if err != nil {
		return err
	}
	if err := c.barrier.Put(ctx, tableKey(table), raw); err != nil {
		return fmt.Errorf("persist %s table: %w", table, err)
	}
	return nil
}

// newMount builds the engine for an entry.
func (c *Core) newMount(ctx context.Context, s *unsealed, e MountEntry) (*mount, error) {
	ttls := new(atomic.Pointer[leaseTTLs])
	def, max := c.mountTTLs(e)
	ttls.Store(&leaseTTLs{def, max})
	var b engine.Backend
	switch e.Type {
	case "system":
		if c.opts.System == nil {
			return nil, errors.New("no system backend configured")
		}
		b = c.opts.System(c)
	case "token":
		b = s.tokens.Backend()
	default:
		factories := c.opts.Engines
		if e.Table == TableAuth {
			factories = c.opts.Credentials
		}
		f, ok := factories[e.Type]
		if !ok {
			return nil, engine.BadRequest("unknown %s type %q", map[bool]string{true: "auth method", false: "secrets engine"}[e.Table == TableAuth], e.Type)
		}
		env := engine.Env{
			MountPath: e.RoutePath(),
			Type:      e.Type,
			UUID:      e.UUID,
			Accessor:  e.Accessor,
			Options:   e.Options,
			Storage:   storage.Sub(c.barrier, e.storagePrefix()),
			Logger:    c.log.With("mount", e.RoutePath()),
			Now:       c.opts.Now,
			Rand:      c.opts.Rand,
			LeaseTTLs: func() (def, max time.Duration) {
				t := ttls.Load()
				return t.def, t.max
			},
		}
		var err error
		if b, err = f(ctx, env); err != nil {
			return nil, fmt.Errorf("mount %s: %w", e.RoutePath(), err)
		}
	}
	m := &mount{entry: e, backend: b, ttls: ttls}
	m.special, _ = b.(engine.SpecialPaths)
	m.exists, _ = b.(engine.ExistenceChecker)
	return m, nil
}

// mountTTLs are a mount's effective default and maximum lease TTLs: its
// own where tuned, else the server's, with the default never above the
// maximum.
func (c *Core) mountTTLs(e MountEntry) (def, max time.Duration) {
	def, max = c.opts.DefaultLeaseTTL, c.opts.MaxLeaseTTL
	if e.Config.DefaultLeaseTTL > 0 {
		def = e.Config.DefaultLeaseTTL
	}
	if e.Config.MaxLeaseTTL > 0 {
		max = e.Config.MaxLeaseTTL
	}
	return min(def, max), max
}

// MountTTLs are the effective default and maximum lease TTLs of a mount.
func (c *Core) MountTTLs(e *MountEntry) (def, max time.Duration) { return c.mountTTLs(*e) }

// buildRouter mounts every entry of mt.
func (c *Core) buildRouter(ctx context.Context, s *unsealed) (*router.Router[*mount], error) {
	r := router.New[*mount]()
	for _, table := range []string{TableMounts, TableAuth} {
		for _, e := range s.mounts.entries[table] {
			m, err := c.newMount(ctx, s, e)
			if err != nil {
				return nil, err
			}
			r.Mount(e.RoutePath(), m)
		}
	}
	return r, nil
}

// Mounts returns a copy of a table's entries, sorted by path.
func (c *Core) Mounts(table string) ([]MountEntry, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	s.mounts.mu.Lock()
	out := append([]MountEntry(nil), s.mounts.entries[table]...)
	s.mounts.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Mount returns the entry mounted at path in table.
func (c *Core) Mount(table, path string) (*MountEntry, error) {
	entries, err := c.Mounts(table)
	if err != nil {
		return nil, err
	}
	path = normalizeMountPath(path)
	for i := range entries {
		if entries[i].Path == path {
			return &entries[i], nil
		}
	}
	return nil, nil
}

// MountFor returns the entry of the mount that owns a request path.
func (c *Core) MountFor(path string) (*MountEntry, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	m, _, ok := s.router.Match(path)
	if !ok {
		return nil, nil
	}
	e := m.entry
	return &e, nil
}

func normalizeMountPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

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

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID(r io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("core: read random bytes: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newAccessor(r io.Reader, e MountEntry) string {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("core: read random bytes: " + err.Error())
	}
	prefix := e.Type
	if e.Table == TableAuth {
		prefix = "auth_" + e.Type
	}
	return prefix + "_" + hex.EncodeToString(b[:])
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
