// Package sys is the engine mounted at sys/: mounts, auth methods,
// policies, capabilities, response wrapping, barrier keys, audit devices,
// and the raft cluster's members and active node.
//
// It holds no state of its own. Everything it does is a call into core,
// through the narrow interfaces declared here, so the endpoints stay thin
// translations between Vault's wire shapes and core's methods. The bare
// lifecycle endpoints that work while sealed (init, seal-status, unseal,
// health, leader), raft joins, and the raft snapshot endpoints (their
// bodies stream) are served by httpapi, not here.
package sys

import (
	"context"
	"github.com/wardsec/ward/internal/audit"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// Every method below returns engine.ErrSealed (503) while the server is
// sealed, errors wrapping engine.ErrInvalidRequest (400) for bad input,
// and any other error only for a storage failure (500).

// Mounts is the part of core that manages mount tables. table is
// core.TableMounts or core.TableAuth; paths are given with or without
// their trailing slash.
type Mounts interface {
	// Mounts lists a table's entries, sorted by path.
	Mounts(table string) ([]core.MountEntry, error)
	// Mount returns the entry mounted exactly at path, or nil if none is.
	Mount(table, path string) (*core.MountEntry, error)
	// MountFor returns the entry owning a request path ("secret/a/b" ->
	// secret/), or nil if no mount owns it.
	MountFor(path string) (*core.MountEntry, error)
	// EnableMount adds a mount; a taken or reserved path, or an unknown
	// type, is a 400.
	EnableMount(ctx context.Context, e core.MountEntry) error
	// DisableMount removes a mount and deletes its data; a missing mount
	// is not an error, a built-in one is a 400.
	DisableMount(ctx context.Context, table, path string) error
	// TuneMount changes the tunables that are set in t.
	TuneMount(ctx context.Context, table, path string, t core.Tune) error
	// CanSeeMount reports whether caller may learn that the mount at
	// mountPath exists: any capability other than deny below it.
	CanSeeMount(caller *engine.Caller, mountPath string) (bool, error)
	// MountTTLs are a mount's effective default and maximum lease TTLs.
	MountTTLs(e *core.MountEntry) (def, max time.Duration)
}

// Policies is the part of core that stores ACL policies.
type Policies interface {
	// Policy returns a policy's text; ok is false if it does not exist.
	// "root" exists and has no text.
	Policy(name string) (text string, ok bool, err error)
	// Policies lists every policy name, "root" last.
	Policies() ([]string, error)
	// PutPolicy parses and stores a policy; a parse error or a name not in
	// lower case is a 400, as is writing "root".
	PutPolicy(ctx context.Context, name, text string) error
	// DeletePolicy removes a policy; "root" and "default" cannot go (400).
	DeletePolicy(ctx context.Context, name string) error
	// Capabilities maps each path to the capability names the token's
	// policies grant there (["root"] for root, ["deny"] for none); an
	// unknown token is a 400.
	Capabilities(ctx context.Context, token string, paths []string) (map[string][]string, error)
	// CapabilitiesAccessor is Capabilities for the token with accessor.
	CapabilitiesAccessor(ctx context.Context, accessor string, paths []string) (map[string][]string, error)
}

// Wrapping is the part of core that keeps wrapped responses. A token that
// is not a live wrapping token is a 400 "wrapping token is not valid".
type Wrapping interface {
	// Unwrap returns the wrapped response body once and revokes the token.
	Unwrap(ctx context.Context, token string) ([]byte, error)
	// WrapLookup returns creation_path, creation_time and creation_ttl
	// without using the token.
	WrapLookup(ctx context.Context, token string) (map[string]any, error)
	// Rewrap moves the response to a new wrapping token and revokes the old.
	Rewrap(ctx context.Context, token string) (*api.WrapInfo, error)
}

// Keys is the part of core that manages the barrier and the seal.
type Keys interface {
	// Rotate adds a barrier key term used for every new write.
	Rotate(ctx context.Context) error
	// KeyStatus reports the active term.
	KeyStatus() (barrier.Status, error)
	// Seal drops every key from memory; it cannot fail.
	Seal()
}

// Audit is the part of core that manages audit devices.
type Audit interface {
	// AuditDevices lists the enabled devices (without their keys).
	AuditDevices() ([]core.AuditEntry, error)
	// EnableAudit opens and registers a device; one that cannot open, an
	// unknown type or a taken path is a 400.
	EnableAudit(ctx context.Context, e core.AuditEntry) error
	// DisableAudit removes a device; a missing one is not an error, one
	// declared in the configuration file is a 400.
	DisableAudit(ctx context.Context, path string) error
	// AuditHash is the HMAC the device at path writes for input.
	AuditHash(path, input string) (string, error)
	// AuditHead is where the device's hash chain stands (ok false if there
	// is no device at path).
	AuditHead(path string) (head audit.ChainHead, ok bool)
}

// Raft is the part of core that manages a raft cluster and its active
// node. On a server whose storage is not raft, RaftConfiguration and
// RaftRemovePeer are a 400 and StepDown does nothing.
type Raft interface {
	// RaftConfiguration lists the cluster's members as the active node
	// knows them.
	RaftConfiguration(ctx context.Context) ([]storage.Peer, error)
	// RaftRemovePeer removes the member with node ID id; the active node
	// itself cannot be removed (400).
	RaftRemovePeer(ctx context.Context, id string) error
	// StepDown makes the active node give up leadership; another member
	// becomes active and this node a standby. It seals nothing. With no
	// other voter to take over it does nothing, as in Vault.
	StepDown(ctx context.Context) error
}

// Core is everything sys needs; *core.Core satisfies it.
type Core interface {
	Mounts
	Policies
	Wrapping
	Keys
	Audit
	Raft
}

// New returns the sys/ engine over c.
func New(c Core) engine.Backend {
	b := &backend{core: c}
	var paths []engine.Path
	for _, group := range [][]engine.Path{b.mountPaths(), b.policyPaths(), b.wrappingPaths(), b.keyPaths(), b.auditPaths(), b.raftPaths()} {
		paths = append(paths, group...)
	}
	return engine.NewMux(paths...)
}

type backend struct {
	core Core
}

// withWarnings attaches decode warnings to a response, creating one if the
// handler had nothing else to say.
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
