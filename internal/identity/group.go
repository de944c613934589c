package identity

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/wardsec/ward/internal/engine"
)

// groupInput is the body of a group write; nil fields were not sent.
type groupInput struct {
	ID              *string            `json:"id"`
	Name            *string            `json:"name"`
	Type            *string            `json:"type"`
	Policies        *[]string          `json:"policies"`
	Metadata        *map[string]string `json:"metadata"`
	MemberEntityIDs *[]string          `json:"member_entity_ids"`
	MemberGroupIDs  *[]string          `json:"member_group_ids"`
}

// handleGroupWrite answers POST identity/group (create, or update by the
// body's id or name), identity/group/id/:id (update) and
// identity/group/name/:name (create or update).
func (s *Store) handleGroupWrite(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[groupInput](req.Data)
	if err != nil {
		return nil, err
	}
	byPath := strings.HasPrefix(req.Path, "group/")
	pathID, pathName := req.Var("id"), req.Var("name")
	if byPath && pathID == "" && pathName == "" {
		return nil, engine.BadRequest("missing group id or name in the path")
	}
	if pathName != "" {
		in.Name = &pathName
	}
	if in.MemberGroupIDs != nil && len(*in.MemberGroupIDs) > 0 {
		return nil, engine.BadRequest("member_group_ids: nested groups are not supported")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *Group
	switch {
	case pathID != "":
		if cur = s.groups[pathID]; cur == nil {
			return nil, engine.BadRequest("invalid group ID")
		}
	case pathName != "":
		cur = s.groups[s.groupByName[pathName]]
	case in.ID != nil && *in.ID != "":
		if cur = s.groups[*in.ID]; cur == nil {
			return nil, engine.BadRequest("invalid group ID")
		}
	case in.Name != nil && *in.Name != "":
		cur = s.groups[s.groupByName[*in.Name]]
	}
	resp, err := s.upsertGroup(ctx, cur, &in)
	if err != nil {
		return nil, err
	}
	return withWarnings(resp, warnings), nil
}

// upsertGroup applies in to a copy of cur (a new group if nil) and stores
// it. It answers a new group's id and name, and nothing for an update.
// Callers hold s.mu for writing.
func (s *Store) upsertGroup(ctx context.Context, cur *Group, in *groupInput) (*engine.Response, error) {
	g := &Group{}
	if cur != nil {
		g = cur.clone()
	}
	if in.Type != nil && *in.Type != "" {
		t := strings.ToLower(strings.TrimSpace(*in.Type))
		if t != GroupInternal && t != GroupExternal {
			return nil, &engine.InputError{Field: "type", Rule: `must be "internal" or "external"`}
		}
		if g.Type != "" && g.Type != t {
			return nil, engine.BadRequest("group type cannot be changed")
		}
		g.Type = t
	}
	if g.Type == "" {
		g.Type = GroupInternal
	}
	if in.Name != nil && *in.Name != "" {
		if err := checkName("name", *in.Name); err != nil {
			return nil, err
		}
		if owner, taken := s.groupByName[*in.Name]; taken && owner != g.ID {
			return nil, engine.BadRequest("group name is already in use")
		}
		g.Name = *in.Name
	}
	if in.Policies != nil {
		p, err := normPolicies(*in.Policies)
		if err != nil {
			return nil, err
		}
		g.Policies = p
	}
	if in.Metadata != nil {
		if err := checkMetadata("metadata", *in.Metadata); err != nil {
			return nil, err
		}
		g.Metadata = maps.Clone(*in.Metadata)
		if len(g.Metadata) == 0 {
			g.Metadata = nil
		}
	}
	if in.MemberEntityIDs != nil {
		members, err := s.checkMembers(g, *in.MemberEntityIDs)
		if err != nil {
			return nil, err
		}
		if g.Type == GroupInternal {
			g.MemberEntityIDs = members
		}
	}
	now := s.now()
	if cur == nil {
		id, err := s.newID()
		if err != nil {
			return nil, err
		}
		g.ID = id
		if g.Name == "" {
			if g.Name, err = s.newName("group_", s.groupByName); err != nil {
				return nil, err
			}
		}
		g.CreationTime = now
	}
	g.LastUpdateTime = now
	if err := s.putGroup(ctx, g); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, nil
	}
	return engine.DataResponse(map[string]any{"id": g.ID, "name": g.Name}), nil
}

// checkMembers validates member_entity_ids: each must name an entity, and
// external groups take none (logins manage their members). An empty list
// is accepted for external groups, since some clients always send it.
func (s *Store) checkMembers(g *Group, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if s.entities[id] == nil {
			return nil, engine.BadRequest("member_entity_ids: no entity %q", id)
		}
		out = append(out, id)
	}
	if g.Type == GroupExternal && len(out) > 0 {
		return nil, engine.BadRequest("member entities can't be set manually for external groups")
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// lookupGroup finds the group named by the request path. Callers hold s.mu.
func (s *Store) lookupGroup(req *engine.Request) (*Group, error) {
	if id := req.Var("id"); id != "" {
		return s.groups[id], nil
	}
	if name := req.Var("name"); name != "" {
		return s.groups[s.groupByName[name]], nil
	}
	return nil, engine.BadRequest("missing group id or name in the path")
}

func (s *Store) handleGroupRead(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s.mu.RLock()
	g, err := s.lookupGroup(req)
	if g != nil {
		g = g.clone()
	}
	s.mu.RUnlock()
	if err != nil || g == nil {
		return nil, err
	}
	return engine.DataResponse(s.groupData(g)), nil
}

// groupData is the JSON form of a group copy. It calls Options.MountInfo,
// so callers must not hold s.mu.
func (s *Store) groupData(g *Group) map[string]any {
	alias := map[string]any{}
	if g.Alias != nil {
		a := s.withMount(*g.Alias)
		alias = groupAliasData(&a)
	}
	policies := g.Policies
	if policies == nil {
		policies = []string{}
	}
	members := g.MemberEntityIDs
	if members == nil {
		members = []string{}
	}
	return map[string]any{
		"id":                g.ID,
		"name":              g.Name,
		"type":              g.Type,
		"policies":          policies,
		"member_entity_ids": members,
		"member_group_ids":  nil,
		"parent_group_ids":  nil,
		"metadata":          nilIfEmpty(g.Metadata),
		"alias":             alias,
		"modify_index":      g.ModifyIndex,
		"creation_time":     timeString(g.CreationTime),
		"last_update_time":  timeString(g.LastUpdateTime),
		"namespace_id":      namespaceID,
	}
}

// handleGroupDelete deletes a group and its alias. Deleting a missing group
// is not an error.
func (s *Store) handleGroupDelete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.lookupGroup(req)
	if err != nil || g == nil {
		return nil, err
	}
	return nil, s.deleteGroup(ctx, g.ID)
}

// handleGroupList lists group IDs (group/id/) or names (group/name/), with
// key_info giving each one's name, member count and alias.
func (s *Store) handleGroupList(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("id") != "" || req.Var("name") != "" {
		return nil, nil
	}
	byName := strings.HasPrefix(req.Path, "group/name")
	s.mu.RLock()
	groups := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g.clone())
	}
	s.mu.RUnlock()

	keys := make([]string, 0, len(groups))
	info := make(map[string]any, len(groups))
	for _, g := range groups {
		key := g.ID
		if byName {
			key = g.Name
		}
		keys = append(keys, key)
		entry := map[string]any{
			"name":                g.Name,
			"num_member_entities": len(g.MemberEntityIDs),
			"num_parent_groups":   0,
		}
		if g.Alias != nil {
			a := s.withMount(*g.Alias)
			entry["alias"] = map[string]any{
				"id": a.ID, "name": a.Name, "mount_accessor": a.MountAccessor,
				"mount_type": a.MountType, "mount_path": a.MountPath,
			}
		}
		info[key] = entry
	}
	slices.Sort(keys)
	return listResponse(keys, info), nil
}
