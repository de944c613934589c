package identity

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// lookupInput is the body of identity/lookup/entity and lookup/group: one
// criterion, where alias_name and alias_mount_accessor count as one.
type lookupInput struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	AliasID            string `json:"alias_id"`
	AliasName          string `json:"alias_name"`
	AliasMountAccessor string `json:"alias_mount_accessor"`
}

func decodeLookup(data map[string]any) (lookupInput, []string, error) {
	in, warnings, err := engine.Decode[lookupInput](data)
	if err != nil {
		return in, nil, err
	}
	n := 0
	for _, set := range []bool{in.ID != "", in.Name != "", in.AliasID != "", in.AliasName != "" || in.AliasMountAccessor != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return in, nil, engine.BadRequest("missing lookup criteria: give id, name, alias_id, or alias_name and alias_mount_accessor")
	case n > 1:
		return in, nil, engine.BadRequest("give only one lookup criterion: id, name, alias_id, or alias_name and alias_mount_accessor")
	case (in.AliasName == "") != (in.AliasMountAccessor == ""):
		return in, nil, engine.BadRequest("alias_name and alias_mount_accessor must be given together")
	}
	return in, warnings, nil
}

// handleLookupEntity answers POST identity/lookup/entity with the entity
// the criterion names, or nothing (204) when there is none.
func (s *Store) handleLookupEntity(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := decodeLookup(req.Data)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	var e *Entity
	switch {
	case in.ID != "":
		e = s.entities[in.ID]
	case in.Name != "":
		e = s.entities[s.entityByName[in.Name]]
	case in.AliasID != "":
		e = s.entities[s.aliasByID[in.AliasID]]
	default:
		e = s.entities[s.aliasByKey[aliasKey{in.AliasMountAccessor, in.AliasName}]]
	}
	if e != nil {
		e = s.entityCopy(e)
	}
	s.mu.RUnlock()
	if e == nil {
		return withWarnings(nil, warnings), nil
	}
	return withWarnings(engine.DataResponse(s.entityData(e)), warnings), nil
}

// handleLookupGroup answers POST identity/lookup/group with the group the
// criterion names (the alias criteria name group aliases), or nothing.
func (s *Store) handleLookupGroup(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := decodeLookup(req.Data)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	var g *Group
	switch {
	case in.ID != "":
		g = s.groups[in.ID]
	case in.Name != "":
		g = s.groups[s.groupByName[in.Name]]
	case in.AliasID != "":
		g = s.groups[s.groupAliasByID[in.AliasID]]
	default:
		g = s.groups[s.groupAliasByKey[aliasKey{in.AliasMountAccessor, in.AliasName}]]
	}
	if g != nil {
		g = g.clone()
	}
	s.mu.RUnlock()
	if g == nil {
		return withWarnings(nil, warnings), nil
	}
	return withWarnings(engine.DataResponse(s.groupData(g)), warnings), nil
}
