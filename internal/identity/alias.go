package identity

import (
	"context"
	"maps"
	"slices"

	"github.com/wardsec/ward/internal/engine"
)

// aliasInput is the body of an entity alias write; nil fields were not sent.
type aliasInput struct {
	ID             *string            `json:"id"`
	Name           *string            `json:"name"`
	CanonicalID    *string            `json:"canonical_id"`
	MountAccessor  *string            `json:"mount_accessor"`
	CustomMetadata *map[string]string `json:"custom_metadata"`
}

// handleAliasWrite answers POST identity/entity-alias (create, or update by
// the body's id) and identity/entity-alias/id/:id (update).
func (s *Store) handleAliasWrite(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[aliasInput](req.Data)
	if err != nil {
		return nil, err
	}
	id := req.Var("id")
	if req.Path != "entity-alias" && id == "" {
		return nil, engine.BadRequest("missing entity alias id in the path")
	}
	if id == "" {
		id = deref(in.ID)
	}
	// Ask about the mount before taking the lock: MountInfo belongs to core.
	var mountType, mountPath string
	if in.MountAccessor != nil || id == "" {
		if mountType, mountPath, err = s.checkAccessor("mount_accessor", deref(in.MountAccessor)); err != nil {
			return nil, err
		}
	}
	if in.Name != nil || id == "" {
		if err := checkName("name", deref(in.Name)); err != nil {
			return nil, err
		}
	}
	if in.CustomMetadata != nil {
		if err := checkMetadata("custom_metadata", *in.CustomMetadata); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var resp *engine.Response
	if id != "" {
		resp, err = s.updateAlias(ctx, id, &in, mountType, mountPath)
	} else {
		resp, err = s.createAlias(ctx, &in, mountType, mountPath)
	}
	if err != nil {
		return nil, err
	}
	return withWarnings(resp, warnings), nil
}

// createAlias adds an alias to the entity canonical_id names, or to a new
// entity when it is empty. Callers hold s.mu for writing.
func (s *Store) createAlias(ctx context.Context, in *aliasInput, mountType, mountPath string) (*engine.Response, error) {
	key := aliasKey{*in.MountAccessor, *in.Name}
	canonical := deref(in.CanonicalID)
	if aliasID, owner := s.aliasIDByKey(key); aliasID != "" {
		if canonical != "" && canonical != owner {
			return nil, engine.BadRequest("an alias with this name and mount accessor already belongs to entity %q", owner)
		}
		// Creating an alias that exists updates it, as Vault does.
		return s.updateAlias(ctx, aliasID, in, mountType, mountPath)
	}
	now := s.now()
	var e *Entity
	if canonical == "" {
		id, err := s.newID()
		if err != nil {
			return nil, err
		}
		name, err := s.newName("entity_", s.entityByName)
		if err != nil {
			return nil, err
		}
		e = &Entity{ID: id, Name: name, CreationTime: now}
	} else {
		cur := s.entities[canonical]
		if cur == nil {
			return nil, engine.BadRequest("invalid canonical ID: no entity %q", canonical)
		}
		if cur.aliasIndex(key.accessor) >= 0 {
			return nil, engine.BadRequest("entity %q already has an alias on mount accessor %q", canonical, key.accessor)
		}
		e = cur.clone()
	}
	aliasID, err := s.newID()
	if err != nil {
		return nil, err
	}
	a := Alias{
		ID:             aliasID,
		CanonicalID:    e.ID,
		MountAccessor:  key.accessor,
		MountType:      mountType,
		MountPath:      mountPath,
		Name:           key.name,
		CreationTime:   now,
		LastUpdateTime: now,
	}
	if in.CustomMetadata != nil && len(*in.CustomMetadata) > 0 {
		a.CustomMetadata = maps.Clone(*in.CustomMetadata)
	}
	e.Aliases = append(e.Aliases, a)
	e.LastUpdateTime = now
	if err := s.putEntity(ctx, e); err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{"id": a.ID, "canonical_id": e.ID}), nil
}

// updateAlias changes the alias with the ID: its name, mount, custom
// metadata, or the entity it belongs to. Callers hold s.mu for writing.
func (s *Store) updateAlias(ctx context.Context, id string, in *aliasInput, mountType, mountPath string) (*engine.Response, error) {
	from := s.entities[s.aliasByID[id]]
	if from == nil {
		return nil, engine.BadRequest("invalid alias ID: no entity alias %q", id)
	}
	from = from.clone()
	i := slices.IndexFunc(from.Aliases, func(a Alias) bool { return a.ID == id })
	a := from.Aliases[i]
	if in.Name != nil {
		a.Name = *in.Name
	}
	if in.MountAccessor != nil {
		a.MountAccessor, a.MountType, a.MountPath = *in.MountAccessor, mountType, mountPath
	}
	if in.CustomMetadata != nil {
		a.CustomMetadata = maps.Clone(*in.CustomMetadata)
		if len(a.CustomMetadata) == 0 {
			a.CustomMetadata = nil
		}
	}
	if holder, owner := s.aliasIDByKey(aliasKey{a.MountAccessor, a.Name}); holder != "" && holder != id {
		return nil, engine.BadRequest("an alias with this name and mount accessor already belongs to entity %q", owner)
	}
	to := from
	if c := deref(in.CanonicalID); c != "" && c != from.ID {
		if to = s.entities[c]; to == nil {
			return nil, engine.BadRequest("invalid canonical ID: no entity %q", c)
		}
		to = to.clone()
	}
	from.Aliases = slices.Delete(from.Aliases, i, i+1)
	if to.aliasIndex(a.MountAccessor) >= 0 {
		return nil, engine.BadRequest("entity %q already has an alias on mount accessor %q", to.ID, a.MountAccessor)
	}
	now := s.now()
	a.CanonicalID = to.ID
	a.LastUpdateTime = now
	to.Aliases = append(to.Aliases, a)
	if to != from {
		// Remove first: a failure in between loses the alias rather than
		// leaving it on two entities.
		from.LastUpdateTime = now
		if err := s.putEntity(ctx, from); err != nil {
			return nil, err
		}
	}
	to.LastUpdateTime = now
	if err := s.putEntity(ctx, to); err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{"id": a.ID, "canonical_id": to.ID}), nil
}

func (s *Store) handleAliasRead(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	id, err := cutVar(req, "id", "entity alias id")
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	a, ok := s.entityAlias(id)
	s.mu.RUnlock()
	if !ok {
		return nil, nil
	}
	a = s.withMount(a)
	return engine.DataResponse(aliasData(&a)), nil
}

// aliasIDByKey returns the ID of the entity alias with the mount and name,
// and its entity's ID, or "". Callers hold s.mu.
func (s *Store) aliasIDByKey(k aliasKey) (aliasID, entityID string) {
	e := s.entities[s.aliasByKey[k]]
	if e == nil {
		return "", ""
	}
	if i := e.aliasIndex(k.accessor); i >= 0 && e.Aliases[i].Name == k.name {
		return e.Aliases[i].ID, e.ID
	}
	return "", ""
}

// entityAlias returns a copy of the entity alias with the ID. Callers hold s.mu.
func (s *Store) entityAlias(id string) (Alias, bool) {
	e := s.entities[s.aliasByID[id]]
	if e == nil {
		return Alias{}, false
	}
	for _, a := range e.Aliases {
		if a.ID == id {
			return a.clone(), true
		}
	}
	return Alias{}, false
}

func (s *Store) handleAliasDelete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	id, err := cutVar(req, "id", "entity alias id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entities[s.aliasByID[id]]
	if e == nil {
		return nil, nil
	}
	e = e.clone()
	e.Aliases = slices.DeleteFunc(e.Aliases, func(a Alias) bool { return a.ID == id })
	e.LastUpdateTime = s.now()
	return nil, s.putEntity(ctx, e)
}

func (s *Store) handleAliasList(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("id") != "" {
		return nil, nil
	}
	s.mu.RLock()
	var aliases []Alias
	for _, e := range s.entities {
		for _, a := range e.Aliases {
			aliases = append(aliases, a.clone())
		}
	}
	s.mu.RUnlock()
	keys := make([]string, 0, len(aliases))
	info := make(map[string]any, len(aliases))
	for _, a := range aliases {
		a = s.withMount(a)
		keys = append(keys, a.ID)
		info[a.ID] = map[string]any{
			"canonical_id":    a.CanonicalID,
			"custom_metadata": nilIfEmpty(a.CustomMetadata),
			"local":           false,
			"mount_accessor":  a.MountAccessor,
			"mount_path":      a.MountPath,
			"mount_type":      a.MountType,
			"name":            a.Name,
		}
	}
	slices.Sort(keys)
	return listResponse(keys, info), nil
}
