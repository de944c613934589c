package cert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

var _ engine.Factory = Factory

// Storage keys, relative to the mount's view.
const (
	rolePrefix = "cert/"
	configKey  = "config"
)

// backend is one mount of the cert auth method. Its state lives in
// storage; the struct holds only the mount's environment.
type backend struct {
	*engine.Mux
	store storage.Backend
	now   func() time.Time
	log   *slog.Logger
}

// Factory creates the cert auth method for a mount. It does no I/O.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create cert auth method: no storage")
	}
	b := &backend{store: env.Storage, now: env.Now, log: env.Logger}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.Mux = engine.NewMux(
		engine.Path{
			Pattern:         "login",
			Summary:         "Log in with the TLS client certificate of the connection.",
			Write:           b.login,
			Unauthenticated: true,
		},
		engine.Path{
			Pattern: "certs",
			Summary: "List the trusted certificate roles.",
			List:    b.listRoles,
		},
		engine.Path{
			Pattern: "certs/{name}",
			Summary: "Manage a trusted certificate role: a CA (or leaf) certificate, the names it allows, and the token it gives.",
			Read:    b.readRole,
			Write:   b.writeRole,
			Delete:  b.deleteRole,
			Exists:  b.roleExists,
		},
		engine.Path{
			Pattern: "config",
			Summary: "Configure the cert auth method.",
			Read:    b.readConfig,
			Write:   b.writeConfig,
		},
	)
	return b, nil
}

// config is the mount-wide configuration.
type config struct {
	// EnableIdentityAliasMetadata copies the login metadata (cert_name,
	// common_name, serial_number, key IDs) onto the identity alias, where
	// policy templates can use it.
	EnableIdentityAliasMetadata bool `json:"enable_identity_alias_metadata"`
}

type configInput struct {
	EnableIdentityAliasMetadata *bool `json:"enable_identity_alias_metadata"`
}

func (b *backend) loadConfig(ctx context.Context) (config, error) {
	var c config
	raw, err := b.store.Get(ctx, configKey)
	if errors.Is(err, storage.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read cert config: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("read cert config: %w", err)
	}
	return c, nil
}

func (b *backend) readConfig(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	c, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"enable_identity_alias_metadata": c.EnableIdentityAliasMetadata,
	}), nil
}

func (b *backend) writeConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[configInput](req.Data)
	if err != nil {
		return nil, err
	}
	c, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	if in.EnableIdentityAliasMetadata != nil {
		c.EnableIdentityAliasMetadata = *in.EnableIdentityAliasMetadata
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("write cert config: %w", err)
	}
	if err := b.store.Put(ctx, configKey, raw); err != nil {
		return nil, fmt.Errorf("write cert config: %w", err)
	}
	return warningsOnly(warnings), nil
}

// warningsOnly is the answer to a write: nothing (204), or the warnings.
func warningsOnly(warnings []string) *engine.Response {
	if len(warnings) == 0 {
		return nil
	}
	return &engine.Response{Warnings: warnings}
}
