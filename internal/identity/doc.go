// Package identity is Ward's identity store and the identity/ mount.
//
// An Entity is one person or workload. It has at most one Alias per auth
// mount: its name there (a user name, a role ID, a service account UID, a
// JWT subject), keyed by the mount's accessor. Entities carry policies and
// metadata; so do Groups, which give their policies to every member. An
// internal group lists its members; an external group has an alias naming a
// group of an identity provider, and logins that report that group name (a
// JWT groups claim) make the entity a member.
//
// Core owns one Store per unseal, on the barrier view at "identity/":
//
//	st, err := identity.New(ctx, view, identity.Options{Now: now, Logger: log})
//	e, err := st.LoginAlias(ctx, accessor, "userpass", "auth/userpass/", login.Alias, login.GroupAliases)
//	extra := st.Policies(e.ID)       // entity's and groups' policies, for the token's ACL
//	data := st.TemplateData(e.ID)    // what {{identity.entity...}} templates see
//	gen := st.Generation()           // grows with every change: cache ACLs by it
//
// A login of a new principal creates an entity named "entity_<8 hex>" and
// its alias; later logins update the alias's metadata when the auth method
// reports something new, and reconcile the entity's external groups on that
// mount. Concurrent logins of one principal find or create one entity.
//
// Everything is held in memory behind one RWMutex and written through to
// storage: each change stores the changed objects, one at a time, before
// memory sees them; readers never touch storage and get copies. Storage
// layout (relative to the view), JSON values:
//
//	entity/<entity id>   an Entity with its aliases
//	group/<group id>     a Group with its alias (external groups)
//
// Indexes (names, alias IDs, (mount accessor, alias name), group members)
// are rebuilt in memory by New. A change touching several objects (deleting
// an entity takes it out of its groups first) may be cut short by a storage
// failure; the order is chosen so that what remains is harmless, and New
// drops group members whose entity is gone.
//
// Backend is the identity/ mount, with Vault's endpoints and shapes:
//
//	identity/entity                      POST  create, or update by id or name
//	identity/entity/id[/:id]             GET POST DELETE LIST
//	identity/entity/name[/:name]         GET POST DELETE LIST (POST creates)
//	identity/entity-alias                POST  name, canonical_id, mount_accessor, custom_metadata
//	identity/entity-alias/id[/:id]       GET POST DELETE LIST
//	identity/group                       POST  name, type, policies, metadata, member_entity_ids
//	identity/group/id[/:id]              GET POST DELETE LIST
//	identity/group/name[/:name]          GET POST DELETE LIST (POST creates)
//	identity/group-alias                 POST  name, mount_accessor, canonical_id (external group)
//	identity/group-alias/id[/:id]        GET POST DELETE LIST
//	identity/lookup/entity, lookup/group POST  id | name | alias_id | alias_name+alias_mount_accessor
//
// Where Ward differs from Vault: groups do not nest (member_group_ids must
// be empty, so inherited_group_ids is always empty); names are matched
// exactly (case-sensitive); a group alias needs canonical_id (Vault would
// create a group); list key_info is keyed like keys (by name for name lists);
// API-written metadata is limited to 64 pairs of 128-byte keys and
// 512-byte values. Policies may never include "root".
package identity
