package identity

import (
	"context"
	"slices"

	"github.com/wardsec/ward/internal/engine"
)

// groupAliasInput is the body of a group alias write; nil fields were not sent.
type groupAliasInput struct {
	ID            *string `json:"id"`
	Name          *string `json:"name"`
	MountAccessor *string `json:"mount_accessor"`
	CanonicalID   *string `json:"canonical_id"`
}

func groupAliasData(a *Alias) map[string]any {
	return map[string]any{
		"id":                        a.ID,
		"canonical_id":              a.CanonicalID,
		"mount_accessor":            a.MountAccessor,
		"mount_type":                a.MountType,
		"mount_path":                a.MountPath,
		"name":                      a.Name,
		"metadata":                  nilIfEmpty(a.Metadata),
		"creation_time":             timeString(a.CreationTime),
		"last_update_time":          timeString(a.LastUpdateTime),
		"merged_from_canonical_ids": nil,
		"namespace_id":              namespaceID,
	}
}

// handleGroupAliasWrite answers POST identity/group-alias (create, or
// update by the body's id) and identity/group-alias/id/:id (update). A
// group alias links an external group to a group name that an auth mount
// reports at login; canonical_id must name an external group without one.
func (s *Store) handleGroupAliasWrite(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[groupAliasInput](req.Data)
	if err != nil {
		return nil, err
	}
	id := req.Var("id")
	if req.Path != "group-alias" && id == "" {
		return nil, engine.BadRequest("missing group alias id in the path")
	}
	if id == "" {
		id = deref(in.ID)
	}
	creating := id == ""
	var mountType, mountPath string
	if in.MountAccessor != nil || creating {
		if mountType, mountPath, err = s.checkAccessor("mount_accessor", deref(in.MountAccessor)); err != nil {
			return nil, err
		}
	}
	if in.Name != nil || creating {
		if err := checkName("name", deref(in.Name)); err != nil {
			return nil, err
		}
	}
	if creating && deref(in.CanonicalID) == "" {
		return nil, &engine.InputError{Field: "canonical_id", Rule: "must name an external group"}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var a Alias
	var from *Group
	if creating {
		aliasID, err := s.newID()
		if err != nil {
			return nil, err
		}
		a = Alias{ID: aliasID, CreationTime: now}
	} else {
		if from = s.groups[s.groupAliasByID[id]]; from == nil {
			return nil, engine.BadRequest("invalid group alias ID: no group alias %q", id)
		}
		from = from.clone()
		a = *from.Alias
	}
	if in.Name != nil {
		a.Name = *in.Name
	}
	if in.MountAccessor != nil {
		a.MountAccessor, a.MountType, a.MountPath = *in.MountAccessor, mountType, mountPath
	}
	if owner, taken := s.groupAliasByKey[aliasKey{a.MountAccessor, a.Name}]; taken && (from == nil || owner != from.ID) {
		return nil, engine.BadRequest("a group alias with this name and mount accessor already belongs to group %q", owner)
	}
	to := from
	if in.CanonicalID != nil && *in.CanonicalID != "" && (from == nil || *in.CanonicalID != from.ID) {
		g := s.groups[*in.CanonicalID]
		switch {
		case g == nil:
			return nil, engine.BadRequest("invalid canonical ID: no group %q", *in.CanonicalID)
		case g.Type != GroupExternal:
			return nil, engine.BadRequest("group %q is internal: only external groups have aliases", g.ID)
		case g.Alias != nil:
			return nil, engine.BadRequest("group %q already has an alias", g.ID)
		}
		to = g.clone()
	}
	a.CanonicalID = to.ID
	a.LastUpdateTime = now
	if from != nil && from != to {
		// Remove first: a failure in between loses the alias rather than
		// leaving it on two groups.
		from.Alias = nil
		from.LastUpdateTime = now
		if err := s.putGroup(ctx, from); err != nil {
			return nil, err
		}
	}
	to.Alias = &a
	to.LastUpdateTime = now
	if err := s.putGroup(ctx, to); err != nil {
		return nil, err
	}
	return withWarnings(engine.DataResponse(map[string]any{"id": a.ID, "canonical_id": to.ID}), warnings), nil
}

func (s *Store) handleGroupAliasRead(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	id, err := cutVar(req, "id", "group alias id")
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	var a *Alias
	if g := s.groups[s.groupAliasByID[id]]; g != nil && g.Alias != nil {
		c := g.Alias.clone()
		a = &c
	}
	s.mu.RUnlock()
	if a == nil {
		return nil, nil
	}
	*a = s.withMount(*a)
	return engine.DataResponse(groupAliasData(a)), nil
}

// handleGroupAliasDelete removes a group's alias; the group stays, with its
// members, until the next logins through the mount drop them.
func (s *Store) handleGroupAliasDelete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	id, err := cutVar(req, "id", "group alias id")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[s.groupAliasByID[id]]
	if g == nil {
		return nil, nil
	}
	g = g.clone()
	g.Alias = nil
	g.LastUpdateTime = s.now()
	return nil, s.putGroup(ctx, g)
}

func (s *Store) handleGroupAliasList(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("id") != "" {
		return nil, nil
	}
	s.mu.RLock()
	var aliases []Alias
	for _, g := range s.groups {
		if g.Alias != nil {
			aliases = append(aliases, g.Alias.clone())
		}
	}
	s.mu.RUnlock()
	keys := make([]string, 0, len(aliases))
	info := make(map[string]any, len(aliases))
	for _, a := range aliases {
		a = s.withMount(a)
		keys = append(keys, a.ID)
		info[a.ID] = map[string]any{
			"canonical_id":   a.CanonicalID,
			"mount_accessor": a.MountAccessor,
			"mount_path":     a.MountPath,
			"mount_type":     a.MountType,
			"name":           a.Name,
			"metadata":       nilIfEmpty(a.Metadata),
		}
	}
	slices.Sort(keys)
	return listResponse(keys, info), nil
}
