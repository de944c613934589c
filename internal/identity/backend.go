package identity

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/engine"
)

// Limits on what the identity/ endpoints accept.
const (
	MaxNameLen          = 512 // entity, group and alias names, in bytes
	MaxMetadataPairs    = 64
	MaxMetadataKeyLen   = 128
	MaxMetadataValueLen = 512
	MaxPolicies         = 256
)

// namespaceID is the namespace every object is in: Ward has only the root.
const namespaceID = "root"

// Backend returns the identity/ mount: an engine.Mux whose endpoints follow
// Vault's identity API for entities, entity aliases, groups, group aliases
// and lookups. Writes are updates (there is no existence check); reads of a
// missing object answer nothing (404); updates of an existing object answer
// nothing (204), creations its id and name, as Vault does.
func (s *Store) Backend() engine.Backend {
	return engine.NewMux(
		engine.Path{Pattern: "entity", Summary: "Create an entity, or update the one with the id or name given.",
			Write: s.handleEntityWrite},
		engine.Path{Pattern: "entity/id/{id...}", Summary: "Read, update, delete or list entities by ID.",
			Read: s.handleEntityRead, Write: s.handleEntityWrite, Delete: s.handleEntityDelete, List: s.handleEntityList},
		engine.Path{Pattern: "entity/name/{name...}", Summary: "Create, read, update, delete or list entities by name.",
			Read: s.handleEntityRead, Write: s.handleEntityWrite, Delete: s.handleEntityDelete, List: s.handleEntityList},
		engine.Path{Pattern: "entity-alias", Summary: "Create an entity alias, or update the one with the id given.",
			Write: s.handleAliasWrite},
		engine.Path{Pattern: "entity-alias/id/{id...}", Summary: "Read, update, delete or list entity aliases by ID.",
			Read: s.handleAliasRead, Write: s.handleAliasWrite, Delete: s.handleAliasDelete, List: s.handleAliasList},
		engine.Path{Pattern: "group", Summary: "Create a group, or update the one with the id or name given.",
			Write: s.handleGroupWrite},
		engine.Path{Pattern: "group/id/{id...}", Summary: "Read, update, delete or list groups by ID.",
			Read: s.handleGroupRead, Write: s.handleGroupWrite, Delete: s.handleGroupDelete, List: s.handleGroupList},
		engine.Path{Pattern: "group/name/{name...}", Summary: "Create, read, update, delete or list groups by name.",
			Read: s.handleGroupRead, Write: s.handleGroupWrite, Delete: s.handleGroupDelete, List: s.handleGroupList},
		engine.Path{Pattern: "group-alias", Summary: "Create a group alias for an external group, or update the one with the id given.",
			Write: s.handleGroupAliasWrite},
		engine.Path{Pattern: "group-alias/id/{id...}", Summary: "Read, update, delete or list group aliases by ID.",
			Read: s.handleGroupAliasRead, Write: s.handleGroupAliasWrite, Delete: s.handleGroupAliasDelete, List: s.handleGroupAliasList},
		engine.Path{Pattern: "lookup/entity", Summary: "Find an entity by id, name, alias_id, or alias_name and alias_mount_accessor.",
			Write: s.handleLookupEntity},
		engine.Path{Pattern: "lookup/group", Summary: "Find a group by id, name, alias_id, or alias_name and alias_mount_accessor.",
			Write: s.handleLookupGroup},
	)
}

// timeString is Vault's rendering of instants in identity objects.
func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// nilIfEmpty keeps Vault's null for unset maps.
func nilIfEmpty(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// listResponse answers a list: keys in order and key_info for each key. An
// empty list answers nothing (404), as Vault does.
func listResponse(keys []string, info map[string]any) *engine.Response {
	if len(keys) == 0 {
		return nil
	}
	return &engine.Response{Data: map[string]any{"keys": keys, "key_info": info}}
}

// withWarnings adds Decode's warnings about unknown fields to resp.
func withWarnings(resp *engine.Response, warnings []string) *engine.Response {
	if len(warnings) == 0 {
		return resp
	}
	if resp == nil {
		resp = &engine.Response{}
	}
	resp.Warnings = append(resp.Warnings, warnings...)
	return resp
}

func checkName(field, name string) error {
	switch {
	case name == "":
		return &engine.InputError{Field: field, Rule: "must not be empty"}
	case len(name) > MaxNameLen:
		return &engine.InputError{Field: field, Rule: fmt.Sprintf("must be at most %d bytes", MaxNameLen)}
	case !utf8.ValidString(name):
		return &engine.InputError{Field: field, Rule: "must be valid UTF-8"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &engine.InputError{Field: field, Rule: "must not contain control characters"}
	}
	return nil
}

func checkMetadata(field string, m map[string]string) error {
	if len(m) > MaxMetadataPairs {
		return &engine.InputError{Field: field, Rule: fmt.Sprintf("must have at most %d keys", MaxMetadataPairs)}
	}
	for k, v := range m {
		switch {
		case k == "":
			return &engine.InputError{Field: field, Rule: "keys must not be empty"}
		case len(k) > MaxMetadataKeyLen:
			return &engine.InputError{Field: field, Rule: fmt.Sprintf("keys must be at most %d bytes", MaxMetadataKeyLen)}
		case len(v) > MaxMetadataValueLen:
			return &engine.InputError{Field: field + "." + k, Rule: fmt.Sprintf("must be at most %d bytes", MaxMetadataValueLen)}
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return &engine.InputError{Field: field, Rule: "keys and values must be valid UTF-8"}
		}
	}
	return nil
}

// normPolicies trims, drops empty names, sorts and de-duplicates a policy
// list, and refuses "root" (which no identity may grant).
func normPolicies(in []string) ([]string, error) {
	if len(in) > MaxPolicies {
		return nil, &engine.InputError{Field: "policies", Rule: fmt.Sprintf("must have at most %d entries", MaxPolicies)}
	}
	out := make([]string, 0, len(in))
	for _, p := range in {
		// Policy names are stored in lower case.
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "root" {
			return nil, engine.BadRequest("policies cannot contain root")
		}
		if err := checkName("policies", p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkAccessor validates a mount accessor from a request and returns the
// mount's type and path when Options.MountInfo knows them.
func (s *Store) checkAccessor(field, accessor string) (mountType, mountPath string, err error) {
	if accessor == "" {
		return "", "", &engine.InputError{Field: field, Rule: "must not be empty"}
	}
	if err := checkName(field, accessor); err != nil {
		return "", "", err
	}
	if s.mountInfo == nil {
		return "", "", nil
	}
	mountType, mountPath, ok := s.mountInfo(accessor)
	if !ok {
		return "", "", engine.BadRequest("invalid mount accessor %q", accessor)
	}
	return mountType, mountPath, nil
}

// aliasData is the JSON form of an alias, as entity and alias reads show it.
func aliasData(a *Alias) map[string]any {
	return map[string]any{
		"id":                        a.ID,
		"canonical_id":              a.CanonicalID,
		"mount_accessor":            a.MountAccessor,
		"mount_type":                a.MountType,
		"mount_path":                a.MountPath,
		"name":                      a.Name,
		"metadata":                  nilIfEmpty(a.Metadata),
		"custom_metadata":           nilIfEmpty(a.CustomMetadata),
		"creation_time":             timeString(a.CreationTime),
		"last_update_time":          timeString(a.LastUpdateTime),
		"local":                     false,
		"merged_from_canonical_ids": nil,
		"namespace_id":              namespaceID,
	}
}

// withMount fills an alias's mount type and path from Options.MountInfo
// when it knows the accessor (the mount may have moved since the login).
func (s *Store) withMount(a Alias) Alias {
	if s.mountInfo != nil {
		if t, p, ok := s.mountInfo(a.MountAccessor); ok {
			a.MountType, a.MountPath = t, p
		}
	}
	return a
}

// cutVar returns the path variable, or a 400 naming what is missing.
func cutVar(req *engine.Request, name, what string) (string, error) {
	v := req.Var(name)
	if v == "" {
		return "", engine.BadRequest("missing %s", what)
	}
	return v, nil
}

// deref returns *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
