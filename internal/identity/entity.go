package identity

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/wardsec/ward/internal/engine"
)

// entityInput is the body of an entity write. Nil fields were not sent and
// leave the entity's value alone.
type entityInput struct {
	ID       *string            `json:"id"`
	Name     *string            `json:"name"`
	Metadata *map[string]string `json:"metadata"`
	Policies *[]string          `json:"policies"`
	Disabled *bool              `json:"disabled"`
}

// handleEntityWrite answers POST identity/entity (create, or update by the
// body's id or name), identity/entity/id/:id (update) and
// identity/entity/name/:name (create or update).
func (s *Store) handleEntityWrite(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[entityInput](req.Data)
	if err != nil {
		return nil, err
	}
	byPath := strings.HasPrefix(req.Path, "entity/")
	pathID, pathName := req.Var("id"), req.Var("name")
	if byPath && pathID == "" && pathName == "" {
		return nil, engine.BadRequest("missing entity id or name in the path")
	}
	if pathName != "" {
		in.Name = &pathName
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *Entity
	switch {
	case pathID != "":
		if cur = s.entities[pathID]; cur == nil {
			return nil, engine.BadRequest("entity not found from id")
		}
	case pathName != "":
		cur = s.entities[s.entityByName[pathName]]
	case in.ID != nil && *in.ID != "":
		if cur = s.entities[*in.ID]; cur == nil {
			return nil, engine.BadRequest("entity not found from id")
		}
	case in.Name != nil && *in.Name != "":
		cur = s.entities[s.entityByName[*in.Name]]
	}
	resp, err := s.upsertEntity(ctx, cur, &in)
	if err != nil {
		return nil, err
	}
	return withWarnings(resp, warnings), nil
}

// upsertEntity applies in to a copy of cur (a new entity if nil) and
// stores it. It answers a new entity's id and name, and nothing for an
// update. Callers hold s.mu for writing.
func (s *Store) upsertEntity(ctx context.Context, cur *Entity, in *entityInput) (*engine.Response, error) {
	e := &Entity{}
	if cur != nil {
		e = cur.clone()
	}
	if in.Name != nil && *in.Name != "" {
		if err := checkName("name", *in.Name); err != nil {
			return nil, err
		}
		if owner, taken := s.entityByName[*in.Name]; taken && owner != e.ID {
			return nil, engine.BadRequest("entity name is already in use")
		}
		e.Name = *in.Name
	}
	if in.Policies != nil {
		p, err := normPolicies(*in.Policies)
		if err != nil {
			return nil, err
		}
		e.Policies = p
	}
	if in.Metadata != nil {
		if err := checkMetadata("metadata", *in.Metadata); err != nil {
			return nil, err
		}
		e.Metadata = maps.Clone(*in.Metadata)
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	if in.Disabled != nil {
		e.Disabled = *in.Disabled
	}
	now := s.now()
	if cur == nil {
		id, err := s.newID()
		if err != nil {
			return nil, err
		}
		e.ID = id
		if e.Name == "" {
			if e.Name, err = s.newName("entity_", s.entityByName); err != nil {
				return nil, err
			}
		}
		e.CreationTime = now
	}
	e.LastUpdateTime = now
	if err := s.putEntity(ctx, e); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, nil
	}
	return engine.DataResponse(map[string]any{"id": e.ID, "name": e.Name, "aliases": nil}), nil
}

// lookupEntity finds the entity named by the request path. Callers hold s.mu.
func (s *Store) lookupEntity(req *engine.Request) (*Entity, error) {
	if id := req.Var("id"); id != "" {
		return s.entities[id], nil
	}
	if name := req.Var("name"); name != "" {
		return s.entities[s.entityByName[name]], nil
	}
	return nil, engine.BadRequest("missing entity id or name in the path")
}

func (s *Store) handleEntityRead(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s.mu.RLock()
	e, err := s.lookupEntity(req)
	if e != nil {
		e = s.entityCopy(e)
	}
	s.mu.RUnlock()
	if err != nil || e == nil {
		return nil, err
	}
	return engine.DataResponse(s.entityData(e)), nil
}

// entityData is the JSON form of an entity copy (GroupIDs filled in).
// It calls Options.MountInfo, so callers must not hold s.mu.
func (s *Store) entityData(e *Entity) map[string]any {
	aliases := make([]any, len(e.Aliases))
	for i, a := range e.Aliases {
		a = s.withMount(a)
		aliases[i] = aliasData(&a)
	}
	policies := e.Policies
	if policies == nil {
		policies = []string{}
	}
	groups := e.GroupIDs
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{
		"id":                  e.ID,
		"name":                e.Name,
		"metadata":            nilIfEmpty(e.Metadata),
		"policies":            policies,
		"disabled":            e.Disabled,
		"aliases":             aliases,
		"group_ids":           groups,
		"direct_group_ids":    slices.Clone(groups),
		"inherited_group_ids": []string{},
		"merged_entity_ids":   nil,
		"creation_time":       timeString(e.CreationTime),
		"last_update_time":    timeString(e.LastUpdateTime),
		"namespace_id":        namespaceID,
	}
}

// handleEntityDelete deletes an entity with its aliases, after taking it
// out of every group. Deleting a missing entity is not an error.
func (s *Store) handleEntityDelete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookupEntity(req)
	if err != nil || e == nil {
		return nil, err
	}
	now := s.now()
	for _, gid := range s.groupIDsOf(e.ID) {
		g := s.groups[gid].clone()
		g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool { return m == e.ID })
		g.LastUpdateTime = now
		if err := s.putGroup(ctx, g); err != nil {
			return nil, err
		}
	}
	return nil, s.deleteEntity(ctx, e.ID)
}

// handleEntityList lists entity IDs (entity/id/) or names (entity/name/),
// with key_info giving each one's name and aliases.
func (s *Store) handleEntityList(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("id") != "" || req.Var("name") != "" {
		return nil, nil
	}
	byName := strings.HasPrefix(req.Path, "entity/name")
	s.mu.RLock()
	entities := make([]*Entity, 0, len(s.entities))
	for _, e := range s.entities {
		entities = append(entities, e.clone())
	}
	s.mu.RUnlock()

	keys := make([]string, 0, len(entities))
	info := make(map[string]any, len(entities))
	for _, e := range entities {
		key := e.ID
		if byName {
			key = e.Name
		}
		keys = append(keys, key)
		entry := map[string]any{"name": e.Name}
		if len(e.Aliases) > 0 {
			aliases := make([]any, len(e.Aliases))
			for i, a := range e.Aliases {
				a = s.withMount(a)
				aliases[i] = map[string]any{
					"id": a.ID, "name": a.Name, "mount_accessor": a.MountAccessor,
					"mount_type": a.MountType, "mount_path": a.MountPath,
				}
			}
			entry["aliases"] = aliases
		}
		info[key] = entry
	}
	slices.Sort(keys)
	return listResponse(keys, info), nil
}
