package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wardsec/ward/api"
)

// Sys groups the sys/* endpoints: lifecycle (init, unseal, seal), health,
// mounts, auth methods, policies, the barrier key and capabilities.
type Sys struct{ c *Client }

// Sys returns the sys/* helpers.
func (c *Client) Sys() *Sys { return &Sys{c: c} }

// SealStatus reads sys/seal-status. It works without a token and while
// sealed.
func (s *Sys) SealStatus(ctx context.Context) (*api.SealStatus, error) {
	var st api.SealStatus
	if err := s.c.doJSON(ctx, &request{method: http.MethodGet, path: "sys/seal-status"}, &st); err != nil {
		return nil, fmt.Errorf("seal status: %w", err)
	}
	return &st, nil
}

// InitStatus reports whether the server has been initialized.
func (s *Sys) InitStatus(ctx context.Context) (bool, error) {
	var st api.InitStatus
	if err := s.c.doJSON(ctx, &request{method: http.MethodGet, path: "sys/init"}, &st); err != nil {
		return false, fmt.Errorf("init status: %w", err)
	}
	return st.Initialized, nil
}

// Init initializes a new server: it creates the root key, splits the
// unseal key into req.SecretShares shares of which req.SecretThreshold
// unseal, and returns the shares and the initial root token. The server
// stays sealed afterwards. A server with an auto-unseal seal takes
// req.RecoveryShares and req.RecoveryThreshold instead, returns recovery
// shares, and is unsealed afterwards. A second Init fails with a 400.
func (s *Sys) Init(ctx context.Context, req *api.InitRequest) (*api.InitResponse, error) {
	var out api.InitResponse
	if err := s.c.doJSON(ctx, &request{method: http.MethodPut, path: "sys/init", body: req}, &out); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	return &out, nil
}

// Unseal submits one unseal key share (hex or base64) and returns the
// progress. Sealed turns false once enough shares arrived.
func (s *Sys) Unseal(ctx context.Context, key string) (*api.SealStatus, error) {
	return s.unseal(ctx, &api.UnsealRequest{Key: key})
}

// UnsealMigrate submits one share of the old seal during a seal migration
// (sys/unseal with migrate=true): unseal shares when leaving Shamir,
// recovery shares when leaving an auto-unseal seal.
func (s *Sys) UnsealMigrate(ctx context.Context, key string) (*api.SealStatus, error) {
	return s.unseal(ctx, &api.UnsealRequest{Key: key, Migrate: true})
}

// UnsealReset discards the shares submitted so far.
func (s *Sys) UnsealReset(ctx context.Context) (*api.SealStatus, error) {
	return s.unseal(ctx, &api.UnsealRequest{Reset: true})
}

func (s *Sys) unseal(ctx context.Context, req *api.UnsealRequest) (*api.SealStatus, error) {
	var st api.SealStatus
	if err := s.c.doJSON(ctx, &request{method: http.MethodPut, path: "sys/unseal", body: req}, &st); err != nil {
		return nil, fmt.Errorf("unseal: %w", err)
	}
	return &st, nil
}

// Seal seals the server: it drops the key material from memory and
// refuses requests until unsealed again. Needs sudo on sys/seal.
func (s *Sys) Seal(ctx context.Context) error {
	if _, err := s.c.doOK(ctx, &request{method: http.MethodPut, path: "sys/seal"}); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return nil
}

// healthCodes makes sys/health answer a 2xx in every state, so the state
// arrives as data rather than as an error.
var healthCodes = url.Values{
	"uninitcode":             {"299"},
	"sealedcode":             {"299"},
	"standbycode":            {"299"},
	"performancestandbycode": {"299"},
	"drsecondarycode":        {"299"},
}

// Health reads sys/health. Uninitialized, sealed and standby servers are
// reported in the result, not as errors.
func (s *Sys) Health(ctx context.Context) (*api.Health, error) {
	var h api.Health
	if err := s.c.doJSON(ctx, &request{method: http.MethodGet, path: "sys/health", query: healthCodes}, &h); err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	return &h, nil
}

// Leader reads sys/leader. A server without HA answers HAEnabled false; an
// HA server that is sealed answers a 503 (see ResponseError.Sealed).
func (s *Sys) Leader(ctx context.Context) (*api.Leader, error) {
	var l api.Leader
	if err := s.c.doJSON(ctx, &request{method: http.MethodGet, path: "sys/leader"}, &l); err != nil {
		return nil, fmt.Errorf("leader: %w", err)
	}
	return &l, nil
}

// KeyStatus describes the barrier's current encryption key.
type KeyStatus struct {
	Term        int    `json:"term"`
	InstallTime string `json:"install_time"`
	Encryptions int64  `json:"encryptions"`
}

// Rotate adds a new barrier key term; new writes use it and old terms stay
// readable. Needs sudo on sys/rotate.
func (s *Sys) Rotate(ctx context.Context) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodPut, path: "sys/rotate"}); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	return nil
}

// KeyStatus reads sys/key-status.
func (s *Sys) KeyStatus(ctx context.Context) (*KeyStatus, error) {
	sec, err := s.c.Read(ctx, "sys/key-status")
	if err != nil {
		return nil, fmt.Errorf("key status: %w", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("key status: %w", ErrNotFound)
	}
	var ks KeyStatus
	if err := DecodeData(sec, &ks); err != nil {
		return nil, fmt.Errorf("key status: %w", err)
	}
	return &ks, nil
}

// Capabilities returns what token may do on path (for example
// ["read","update"], ["root"] or ["deny"]). With token empty it asks
// about the client's own token via sys/capabilities-self.
func (s *Sys) Capabilities(ctx context.Context, token, path string) ([]string, error) {
	endpoint := "sys/capabilities-self"
	body := map[string]any{"paths": []string{path}}
	if token != "" {
		endpoint = "sys/capabilities"
		body["token"] = token
	}
	sec, err := s.c.call(ctx, &request{method: http.MethodPut, path: endpoint, body: body})
	if err != nil {
		return nil, fmt.Errorf("capabilities of %s: %w", path, err)
	}
	var d map[string]any
	if err := DecodeData(sec, &d); err != nil {
		return nil, fmt.Errorf("capabilities of %s: %w", path, err)
	}
	caps, ok := d[path]
	if !ok {
		caps = d["capabilities"]
	}
	list, ok := caps.([]any)
	if !ok {
		return nil, fmt.Errorf("capabilities of %s: response has no capability list", path)
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out, nil
}
