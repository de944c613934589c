package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/wardsec/ward/internal/engine"
)

// LoginAlias finds the entity of the principal alias.Name on the auth mount
// with mountAccessor, as core does for every successful login, and returns
// a copy of it.
//
// A principal seen for the first time gets a new entity named
// "entity_<8 hex digits>" with one alias. For a known one, the alias's
// metadata (and the mount's type and path) are updated when they changed.
// groupAliases are the external group names the method reported (a JWT
// groups claim): afterwards the entity is a member of exactly those external
// groups whose alias is on this mount and has one of these names.
//
// A disabled entity is returned unchanged; the caller must refuse the
// login. Concurrent logins of the same alias find or create one entity.
// Only storage failures are errors.
func (s *Store) LoginAlias(ctx context.Context, mountAccessor, mountType, mountPath string, alias engine.Alias, groupAliases []string) (*Entity, error) {
	if mountAccessor == "" || alias.Name == "" {
		return nil, errors.New("identity login: mount accessor and alias name must not be empty")
	}
	key := aliasKey{mountAccessor, alias.Name}

	// Fast path: a known principal whose data did not change needs no write.
	s.mu.RLock()
	if id, ok := s.aliasByKey[key]; ok {
		e := s.entities[id]
		if e.Disabled || (s.aliasCurrent(e, key, mountType, mountPath, alias.Metadata) &&
			s.groupsCurrent(id, mountAccessor, groupAliases)) {
			c := s.entityCopy(e)
			s.mu.RUnlock()
			return c, nil
		}
	}
	s.mu.RUnlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	id, ok := s.aliasByKey[key]
	if !ok {
		e, err := s.newLoginEntity(mountAccessor, mountType, mountPath, alias)
		if err != nil {
			return nil, fmt.Errorf("identity login: %w", err)
		}
		if err := s.putEntity(ctx, e); err != nil {
			return nil, fmt.Errorf("identity login: %w", err)
		}
		id = e.ID
	} else if e := s.entities[id]; e.Disabled {
		return s.entityCopy(e), nil
	} else if !s.aliasCurrent(e, key, mountType, mountPath, alias.Metadata) {
		e = e.clone()
		a := &e.Aliases[e.aliasIndex(mountAccessor)]
		a.Metadata = maps.Clone(alias.Metadata)
		a.MountType, a.MountPath = mountType, mountPath
		a.LastUpdateTime = now
		e.LastUpdateTime = now
		if err := s.putEntity(ctx, e); err != nil {
			return nil, fmt.Errorf("identity login: %w", err)
		}
	}
	if err := s.syncExternalGroups(ctx, id, mountAccessor, groupAliases); err != nil {
		return nil, fmt.Errorf("identity login: %w", err)
	}
	return s.entityCopy(s.entities[id]), nil
}

func (s *Store) newLoginEntity(mountAccessor, mountType, mountPath string, alias engine.Alias) (*Entity, error) {
	now := s.now()
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	aliasID, err := s.newID()
	if err != nil {
		return nil, err
	}
	name, err := s.newName("entity_", s.entityByName)
	if err != nil {
		return nil, err
	}
	return &Entity{
		ID:   id,
		Name: name,
		Aliases: []Alias{{
			ID:             aliasID,
			CanonicalID:    id,
			MountAccessor:  mountAccessor,
			MountType:      mountType,
			MountPath:      mountPath,
			Name:           alias.Name,
			Metadata:       maps.Clone(alias.Metadata),
			CreationTime:   now,
			LastUpdateTime: now,
		}},
		CreationTime:   now,
		LastUpdateTime: now,
	}, nil
}

// aliasCurrent reports whether e's alias for key already holds what a login
// would write. Callers hold s.mu.
func (s *Store) aliasCurrent(e *Entity, key aliasKey, mountType, mountPath string, meta map[string]string) bool {
	i := e.aliasIndex(key.accessor)
	if i < 0 {
		return false
	}
	a := e.Aliases[i]
	return a.Name == key.name && a.MountType == mountType && a.MountPath == mountPath && maps.Equal(a.Metadata, meta)
}

// loginGroups returns the external groups the entity should be in after a
// login through the mount: those with an alias on it named in names.
func (s *Store) loginGroups(mountAccessor string, names []string) map[string]bool {
	want := map[string]bool{}
	for _, n := range names {
		if gid, ok := s.groupAliasByKey[aliasKey{mountAccessor, n}]; ok && s.groups[gid].Type == GroupExternal {
			want[gid] = true
		}
	}
	return want
}

// mountGroups returns the external groups on the mount the entity is in.
func (s *Store) mountGroups(entityID, mountAccessor string) map[string]bool {
	have := map[string]bool{}
	for gid := range s.memberOf[entityID] {
		if g := s.groups[gid]; g.Type == GroupExternal && g.Alias != nil && g.Alias.MountAccessor == mountAccessor {
			have[gid] = true
		}
	}
	return have
}

func (s *Store) groupsCurrent(entityID, mountAccessor string, names []string) bool {
	return maps.Equal(s.loginGroups(mountAccessor, names), s.mountGroups(entityID, mountAccessor))
}

// syncExternalGroups makes the entity a member of exactly the external
// groups on the mount named in names. Callers hold s.mu for writing.
func (s *Store) syncExternalGroups(ctx context.Context, entityID, mountAccessor string, names []string) error {
	want := s.loginGroups(mountAccessor, names)
	have := s.mountGroups(entityID, mountAccessor)
	now := s.now()
	for _, gid := range slices.Sorted(maps.Keys(have)) {
		if want[gid] {
			continue
		}
		g := s.groups[gid].clone()
		g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool { return m == entityID })
		g.LastUpdateTime = now
		if err := s.putGroup(ctx, g); err != nil {
			return err
		}
	}
	for _, gid := range slices.Sorted(maps.Keys(want)) {
		if have[gid] {
			continue
		}
		g := s.groups[gid].clone()
		g.MemberEntityIDs = append(g.MemberEntityIDs, entityID)
		slices.Sort(g.MemberEntityIDs)
		g.LastUpdateTime = now
		if err := s.putGroup(ctx, g); err != nil {
			return err
		}
	}
	return nil
}
