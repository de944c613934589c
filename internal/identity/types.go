package identity

import (
	"maps"
	"slices"
	"time"
)

// Group types.
const (
	GroupInternal = "internal"
	GroupExternal = "external"
)

// Entity is a person or workload, known to Ward across auth methods. The
// Store hands out copies: changing one changes nothing stored.
type Entity struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Policies are the entity's own policies; see Store.Policies for the
	// full set with its groups'.
	Policies []string `json:"policies,omitempty"`
	// Disabled entities keep their data but get no policies, and core
	// refuses their logins.
	Disabled bool `json:"disabled,omitempty"`
	// Aliases are the entity's names on auth mounts, at most one per mount.
	Aliases []Alias `json:"aliases,omitempty"`
	// GroupIDs are the groups (internal and external) that list the entity
	// as a member, sorted. Derived: it is not stored with the entity.
	GroupIDs       []string  `json:"-"`
	CreationTime   time.Time `json:"creation_time"`
	LastUpdateTime time.Time `json:"last_update_time"`
}

// Alias names an entity (or, for a group alias, an external group) on one
// auth mount. (MountAccessor, Name) is unique among entity aliases, and
// separately among group aliases.
type Alias struct {
	ID string `json:"id"`
	// CanonicalID is the ID of the entity (or group) the alias belongs to.
	CanonicalID   string `json:"canonical_id"`
	MountAccessor string `json:"mount_accessor"`
	// MountType and MountPath are as last seen at a login through the
	// mount (or from Options.MountInfo); empty when unknown.
	MountType string `json:"mount_type,omitempty"`
	MountPath string `json:"mount_path,omitempty"`
	Name      string `json:"name"`
	// Metadata is set by the auth method at each login; CustomMetadata by
	// operators through identity/entity-alias.
	Metadata       map[string]string `json:"metadata,omitempty"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
	CreationTime   time.Time         `json:"creation_time"`
	LastUpdateTime time.Time         `json:"last_update_time"`
}

// Group gives policies to its member entities. An internal group lists its
// members; an external group has an Alias naming a group of an identity
// provider (a JWT groups claim), and logins through the alias's mount add
// and remove its members.
type Group struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Policies        []string          `json:"policies,omitempty"`
	MemberEntityIDs []string          `json:"member_entity_ids,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	// Alias is set on external groups only, once a group alias is created.
	Alias          *Alias    `json:"alias,omitempty"`
	ModifyIndex    uint64    `json:"modify_index"`
	CreationTime   time.Time `json:"creation_time"`
	LastUpdateTime time.Time `json:"last_update_time"`
}

func (a Alias) clone() Alias {
	a.Metadata = maps.Clone(a.Metadata)
	a.CustomMetadata = maps.Clone(a.CustomMetadata)
	return a
}

func (e *Entity) clone() *Entity {
	c := *e
	c.Metadata = maps.Clone(e.Metadata)
	c.Policies = slices.Clone(e.Policies)
	c.GroupIDs = slices.Clone(e.GroupIDs)
	c.Aliases = make([]Alias, len(e.Aliases))
	for i, a := range e.Aliases {
		c.Aliases[i] = a.clone()
	}
	if len(c.Aliases) == 0 {
		c.Aliases = nil
	}
	return &c
}

func (g *Group) clone() *Group {
	c := *g
	c.Policies = slices.Clone(g.Policies)
	c.MemberEntityIDs = slices.Clone(g.MemberEntityIDs)
	c.Metadata = maps.Clone(g.Metadata)
	if g.Alias != nil {
		a := g.Alias.clone()
		c.Alias = &a
	}
	return &c
}

// aliasIndex returns the position of the entity's alias on the mount, or -1.
func (e *Entity) aliasIndex(mountAccessor string) int {
	return slices.IndexFunc(e.Aliases, func(a Alias) bool { return a.MountAccessor == mountAccessor })
}

// aliasKey identifies an alias by mount and name.
type aliasKey struct{ accessor, name string }
