package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/storage"
)

const (
	prefixEntity = "entity/"
	prefixGroup  = "group/"
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Rand is the source of IDs and generated names (default crypto/rand).
	Rand io.Reader
	// Logger receives warnings about inconsistent stored data (default:
	// discard). Nothing secret is ever logged.
	Logger *slog.Logger
	// MountInfo, if set, tells the store about auth mounts: the type and
	// path of the mount with an accessor, and whether it exists. The
	// identity/ endpoints then refuse aliases on unknown accessors and show
	// mount_type and mount_path. Nil accepts any non-empty accessor.
	MountInfo func(accessor string) (mountType, mountPath string, ok bool)
}

// Store keeps entities, their aliases and groups. Everything lives in
// memory behind one RWMutex and is written through to storage object by
// object: readers never touch storage, and writers persist a changed object
// before memory sees it. It is safe for concurrent use.
type Store struct {
	st        storage.Backend
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger
	mountInfo func(accessor string) (string, string, bool)
	gen       atomic.Uint64

	mu       sync.RWMutex
	entities map[string]*Entity // by ID; stored copies never change in place
	groups   map[string]*Group
	// Indexes, kept by index* and unindex*.
	entityByName    map[string]string   // name → entity ID
	aliasByID       map[string]string   // entity alias ID → entity ID
	aliasByKey      map[aliasKey]string // (accessor, name) → entity ID
	groupByName     map[string]string   // name → group ID
	groupAliasByID  map[string]string   // group alias ID → group ID
	groupAliasByKey map[aliasKey]string // (accessor, name) → group ID
	memberOf        map[string]map[string]bool
}

// New loads the identity store kept in st (normally the barrier view at
// "identity/") into memory.
func New(ctx context.Context, st storage.Backend, opts Options) (*Store, error) {
	s := &Store{
		st:              st,
		now:             opts.Now,
		rand:            opts.Rand,
		log:             opts.Logger,
		mountInfo:       opts.MountInfo,
		entities:        map[string]*Entity{},
		groups:          map[string]*Group{},
		entityByName:    map[string]string{},
		aliasByID:       map[string]string{},
		aliasByKey:      map[aliasKey]string{},
		groupByName:     map[string]string{},
		groupAliasByID:  map[string]string{},
		groupAliasByKey: map[aliasKey]string{},
		memberOf:        map[string]map[string]bool{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.load(ctx); err != nil {
		return nil, fmt.Errorf("open identity store: %w", err)
	}
	s.gen.Store(1)
	return s, nil
}

func (s *Store) load(ctx context.Context) error {
	ids, err := s.st.List(ctx, prefixEntity)
	if err != nil {
		return fmt.Errorf("list entities: %w", err)
	}
	for _, id := range ids {
		var e Entity
		if err := s.loadJSON(ctx, prefixEntity+id, &e); err != nil {
			return err
		}
		if e.ID != id {
			return fmt.Errorf("entity %q is stored under %q", e.ID, id)
		}
		s.indexEntity(&e)
	}
	ids, err = s.st.List(ctx, prefixGroup)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	for _, id := range ids {
		var g Group
		if err := s.loadJSON(ctx, prefixGroup+id, &g); err != nil {
			return err
		}
		if g.ID != id {
			return fmt.Errorf("group %q is stored under %q", g.ID, id)
		}
		// A member deleted while its group's update failed is dropped here;
		// the group is stored without it at its next change.
		g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool {
			if s.entities[m] == nil {
				s.log.Warn("identity: group lists a missing entity", "group_id", g.ID, "entity_id", m)
				return true
			}
			return false
		})
		s.indexGroup(&g)
	}
	return nil
}

func (s *Store) loadJSON(ctx context.Context, key string, v any) error {
	b, err := s.st.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// indexEntity makes e the entity with its ID. Conflicting index entries
// (possible only in damaged storage) keep their first owner.
func (s *Store) indexEntity(e *Entity) {
	e.GroupIDs = nil
	s.entities[e.ID] = e
	if owner, taken := s.entityByName[e.Name]; taken && owner != e.ID {
		s.log.Warn("identity: two entities share a name", "entity_id", e.ID, "other_id", owner)
	} else {
		s.entityByName[e.Name] = e.ID
	}
	for _, a := range e.Aliases {
		k := aliasKey{a.MountAccessor, a.Name}
		if owner, taken := s.aliasByKey[k]; taken && owner != e.ID {
			s.log.Warn("identity: two entities share an alias", "entity_id", e.ID, "other_id", owner, "mount_accessor", a.MountAccessor)
			continue
		}
		s.aliasByKey[k] = e.ID
		s.aliasByID[a.ID] = e.ID
	}
}

func (s *Store) unindexEntity(id string) {
	e := s.entities[id]
	if e == nil {
		return
	}
	delete(s.entities, id)
	if s.entityByName[e.Name] == id {
		delete(s.entityByName, e.Name)
	}
	for _, a := range e.Aliases {
		if k := (aliasKey{a.MountAccessor, a.Name}); s.aliasByKey[k] == id {
			delete(s.aliasByKey, k)
		}
		if s.aliasByID[a.ID] == id {
			delete(s.aliasByID, a.ID)
		}
	}
}

func (s *Store) indexGroup(g *Group) {
	s.groups[g.ID] = g
	if owner, taken := s.groupByName[g.Name]; taken && owner != g.ID {
		s.log.Warn("identity: two groups share a name", "group_id", g.ID, "other_id", owner)
	} else {
		s.groupByName[g.Name] = g.ID
	}
	if a := g.Alias; a != nil {
		k := aliasKey{a.MountAccessor, a.Name}
		if owner, taken := s.groupAliasByKey[k]; taken && owner != g.ID {
			s.log.Warn("identity: two groups share an alias", "group_id", g.ID, "other_id", owner)
		} else {
			s.groupAliasByKey[k] = g.ID
			s.groupAliasByID[a.ID] = g.ID
		}
	}
	for _, m := range g.MemberEntityIDs {
		if s.memberOf[m] == nil {
			s.memberOf[m] = map[string]bool{}
		}
		s.memberOf[m][g.ID] = true
	}
}

func (s *Store) unindexGroup(id string) {
	g := s.groups[id]
	if g == nil {
		return
	}
	delete(s.groups, id)
	if s.groupByName[g.Name] == id {
		delete(s.groupByName, g.Name)
	}
	if a := g.Alias; a != nil {
		if k := (aliasKey{a.MountAccessor, a.Name}); s.groupAliasByKey[k] == id {
			delete(s.groupAliasByKey, k)
		}
		if s.groupAliasByID[a.ID] == id {
			delete(s.groupAliasByID, a.ID)
		}
	}
	for _, m := range g.MemberEntityIDs {
		delete(s.memberOf[m], id)
		if len(s.memberOf[m]) == 0 {
			delete(s.memberOf, m)
		}
	}
}

// putEntity stores e and then makes it the entity with its ID. e must be a
// fresh object, not one the store already holds. Callers hold s.mu.
func (s *Store) putEntity(ctx context.Context, e *Entity) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store entity: %w", err)
	}
	if err := s.st.Put(ctx, prefixEntity+e.ID, b); err != nil {
		return fmt.Errorf("store entity: %w", err)
	}
	s.unindexEntity(e.ID)
	s.indexEntity(e)
	s.gen.Add(1)
	return nil
}

func (s *Store) deleteEntity(ctx context.Context, id string) error {
	if err := s.st.Delete(ctx, prefixEntity+id); err != nil {
		return fmt.Errorf("delete entity: %w", err)
	}
	s.unindexEntity(id)
	s.gen.Add(1)
	return nil
}

// putGroup stores g and then makes it the group with its ID; see putEntity.
func (s *Store) putGroup(ctx context.Context, g *Group) error {
	g.ModifyIndex++
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("store group: %w", err)
	}
	if err := s.st.Put(ctx, prefixGroup+g.ID, b); err != nil {
		return fmt.Errorf("store group: %w", err)
	}
	s.unindexGroup(g.ID)
	s.indexGroup(g)
	s.gen.Add(1)
	return nil
}

func (s *Store) deleteGroup(ctx context.Context, id string) error {
	if err := s.st.Delete(ctx, prefixGroup+id); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	s.unindexGroup(id)
	s.gen.Add(1)
	return nil
}

// groupIDsOf returns the sorted IDs of the groups the entity is in.
func (s *Store) groupIDsOf(entityID string) []string {
	ids := slices.Collect(maps.Keys(s.memberOf[entityID]))
	slices.Sort(ids)
	return ids
}

// entityCopy returns a copy of e with its GroupIDs filled in.
func (s *Store) entityCopy(e *Entity) *Entity {
	c := e.clone()
	c.GroupIDs = s.groupIDsOf(e.ID)
	return c
}

// Entity returns a copy of the entity with the ID, or nil.
func (s *Store) Entity(id string) *Entity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entities[id]
	if e == nil {
		return nil
	}
	return s.entityCopy(e)
}

// Disabled reports whether the entity exists and is disabled: its tokens
// are then refused everywhere, as in Vault.
func (s *Store) Disabled(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entities[id]
	return e != nil && e.Disabled
}

// Policies returns the entity's own policies plus those of every group it
// is a member of, sorted and without duplicates. It is nil for an unknown
// or disabled entity, and for one that gets no policies at all.
func (s *Store) Policies(entityID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entities[entityID]
	if e == nil || e.Disabled {
		return nil
	}
	out := slices.Clone(e.Policies)
	for gid := range s.memberOf[entityID] {
		out = append(out, s.groups[gid].Policies...)
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TemplateData returns what policy templates see of the entity: its ID,
// name and metadata, its aliases by mount accessor and its groups. It is
// the zero value (every templated path skipped) for an unknown or disabled
// entity.
func (s *Store) TemplateData(entityID string) policy.TemplateData {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entities[entityID]
	if e == nil || e.Disabled {
		return policy.TemplateData{}
	}
	d := policy.TemplateData{
		EntityID:       e.ID,
		EntityName:     e.Name,
		EntityMetadata: maps.Clone(e.Metadata),
		Aliases:        make(map[string]policy.Alias, len(e.Aliases)),
	}
	for _, a := range e.Aliases {
		d.Aliases[a.MountAccessor] = policy.Alias{
			ID:             a.ID,
			Name:           a.Name,
			Metadata:       maps.Clone(a.Metadata),
			CustomMetadata: maps.Clone(a.CustomMetadata),
		}
	}
	for _, gid := range s.groupIDsOf(entityID) {
		g := s.groups[gid]
		d.Groups = append(d.Groups, policy.Group{ID: g.ID, Name: g.Name, Metadata: maps.Clone(g.Metadata)})
	}
	return d
}

// Generation returns a number that grows with every change to the store,
// so that anything derived from its data (compiled ACLs) can be cached by
// it.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// newID returns a random UUID (version 4), the form of every ID here.
func (s *Store) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// newName returns prefix followed by 8 random hex digits, unused in taken.
// Callers hold s.mu.
func (s *Store) newName(prefix string, taken map[string]string) (string, error) {
	for range 16 {
		var b [4]byte
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return "", fmt.Errorf("generate name: %w", err)
		}
		name := prefix + hex.EncodeToString(b[:])
		if _, used := taken[name]; !used {
			return name, nil
		}
	}
	return "", fmt.Errorf("generate name: no free %s name after 16 tries", prefix)
}
