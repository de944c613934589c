// Package sys is the engine mounted at sys/: mounts, auth methods,
// policies, capabilities, response wrapping and barrier keys.
//
// It holds no state of its own. Everything it does is a call into core,
// through the narrow interfaces declared here, so the endpoints stay thin
// translations between Vault's wire shapes and core's methods. The bare
// lifecycle endpoints that work while sealed (init, seal-status, unseal,
// health, leader) are served by httpapi, not here.
package sys

import (
	"context"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
)

// Mounts is the part of core that manages mount tables.
type Mounts interface {
	Mounts(table string) ([]core.MountEntry, error)
	Mount(table, path string) (*core.MountEntry, error)
	MountFor(path string) (*core.MountEntry, error)
	EnableMount(ctx context.Context, e core.MountEntry) error
	DisableMount(ctx context.Context, table, path string) error
	TuneMount(ctx context.Context, table, path string, t core.Tune) error
	CanSeeMount(caller *engine.Caller, mountPath string) (bool, error)
	// MountTTLs are a mount's effective default and maximum lease TTLs.
	MountTTLs(e *core.MountEntry) (def, max time.Duration)
}

// Policies is the part of core that stores ACL policies.
type Policies interface {
	Policy(name string) (text string, ok bool, err error)
	Policies() ([]string, error)
	PutPolicy(ctx context.Context, name, text string) error
	DeletePolicy(ctx context.Context, name string) error
	Capabilities(ctx context.Context, token string, paths []string) (map[string][]string, error)
	CapabilitiesAccessor(ctx context.Context, accessor string, paths []string) (map[string][]string, error)
}

// Wrapping is the part of core that keeps wrapped responses.
type Wrapping interface {
	Unwrap(ctx context.Context, token string) ([]byte, error)
	WrapLookup(ctx context.Context, token string) (map[string]any, error)
	Rewrap(ctx context.Context, token string) (*api.WrapInfo, error)
}

// Keys is the part of core that manages the barrier and the seal.
type Keys interface {
	Rotate(ctx context.Context) error
	KeyStatus() (barrier.Status, error)
	Seal()
}

// Core is everything sys needs; *core.Core satisfies it.
type Core interface {
	Mounts
	Policies
	Wrapping
	Keys
}

// New returns the sys/ engine over c.
func New(c Core) engine.Backend {
	b := &backend{core: c}
	return engine.NewMux(append(append(append(
		b.mountPaths(),
		b.policyPaths()...),
		b.wrappingPaths()...),
		b.keyPaths()...)...,
	)
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
