package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	case e.Type == "identity":
		return "identity/"
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
			{Table: TableMounts, Path: "identity/", Type: "identity", Description: "identity store"},
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
		// A built-in mount added by a newer Ward joins an older table.
		added := false
		for _, d := range defaults[table] {
			if !slices.ContainsFunc(entries, func(e MountEntry) bool { return e.Path == d.Path }) {
				d.UUID = newUUID(c.opts.Rand)
				d.Accessor = newAccessor(c.opts.Rand, d)
				mt.entries[table] = append(mt.entries[table], d)
				added = true
			}
		}
		if added {
			if err := c.persistTable(ctx, mt, table); err != nil {
				return nil, false, err
			}
		}
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
	case "identity":
		b = s.identity.Backend()
	default:
		factories := c.opts.Engines
		if e.Table == TableAuth {
			factories = c.opts.Credentials
		}
		f, ok := factories[e.Type]
		if !ok {
			kind := "secrets engine"
			if e.Table == TableAuth {
				kind = "auth method"
			}
			return nil, engine.BadRequest("unknown %s type %q", kind, e.Type)
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
