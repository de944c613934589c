package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// MountInfo describes one secrets engine or auth method mount, as listed by
// sys/mounts and sys/auth. Options values are strings ("version": "2").
type MountInfo struct {
	Type                  string            `json:"type"`
	Description           string            `json:"description"`
	Accessor              string            `json:"accessor"`
	Config                MountConfig       `json:"config"`
	Options               map[string]string `json:"options"`
	Local                 bool              `json:"local"`
	SealWrap              bool              `json:"seal_wrap"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	UUID                  string            `json:"uuid"`
	PluginVersion         string            `json:"plugin_version"`
	RunningPluginVersion  string            `json:"running_plugin_version"`
	RunningSHA256         string            `json:"running_sha256"`
	DeprecationStatus     string            `json:"deprecation_status,omitempty"`
}

// MountConfig is a mount's tunable configuration. TTLs are in seconds; 0
// means the system default.
type MountConfig struct {
	DefaultLeaseTTL   int64             `json:"default_lease_ttl"`
	MaxLeaseTTL       int64             `json:"max_lease_ttl"`
	ForceNoCache      bool              `json:"force_no_cache"`
	ListingVisibility string            `json:"listing_visibility,omitempty"`
	TokenType         string            `json:"token_type,omitempty"`
	Description       string            `json:"description,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
}

// MountInput is the body that enables a secrets engine or auth method.
type MountInput struct {
	Type                  string            `json:"type"`
	Description           string            `json:"description,omitempty"`
	Config                MountConfigInput  `json:"config"`
	Local                 bool              `json:"local,omitempty"`
	SealWrap              bool              `json:"seal_wrap,omitempty"`
	ExternalEntropyAccess bool              `json:"external_entropy_access,omitempty"`
	Options               map[string]string `json:"options,omitempty"`
}

// MountConfigInput sets mount configuration when enabling or tuning. TTLs
// are duration strings ("1h", "3600"); empty fields are left unchanged.
type MountConfigInput struct {
	DefaultLeaseTTL   string            `json:"default_lease_ttl,omitempty"`
	MaxLeaseTTL       string            `json:"max_lease_ttl,omitempty"`
	Description       *string           `json:"description,omitempty"`
	ListingVisibility string            `json:"listing_visibility,omitempty"`
	TokenType         string            `json:"token_type,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
}

// mountPath normalises a mount path to the "name/" form servers return.
func mountPath(p string) string {
	return strings.Trim(p, "/") + "/"
}

// ListMounts returns the secrets engines, keyed by path ("secret/").
func (s *Sys) ListMounts(ctx context.Context) (map[string]*MountInfo, error) {
	return s.listMounts(ctx, "sys/mounts", "list mounts")
}

// Mount enables a secrets engine at path. A type of "kv-v2" is sent as
// type "kv" with option version "2".
func (s *Sys) Mount(ctx context.Context, path string, in *MountInput) error {
	return s.enable(ctx, "sys/mounts/", path, in, "enable secrets engine")
}

// Unmount disables the secrets engine at path and deletes its data.
func (s *Sys) Unmount(ctx context.Context, path string) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodDelete, path: "sys/mounts/" + mountPath(path)}); err != nil {
		return fmt.Errorf("disable secrets engine at %s: %w", mountPath(path), err)
	}
	return nil
}

// TuneMount changes the configuration of the mount at path (a secrets
// engine, or "auth/<path>" for an auth method).
func (s *Sys) TuneMount(ctx context.Context, path string, in *MountConfigInput) error {
	p := "sys/mounts/" + mountPath(path) + "tune"
	if rest, ok := strings.CutPrefix(strings.TrimLeft(path, "/"), "auth/"); ok {
		p = "sys/auth/" + mountPath(rest) + "tune"
	}
	if _, err := s.c.call(ctx, &request{method: http.MethodPost, path: p, body: in}); err != nil {
		return fmt.Errorf("tune %s: %w", mountPath(path), err)
	}
	return nil
}

// MountTuning reads the tunable configuration of the mount at path.
func (s *Sys) MountTuning(ctx context.Context, path string) (*MountConfig, error) {
	sec, err := s.c.Read(ctx, "sys/mounts/"+mountPath(path)+"tune")
	if err != nil {
		return nil, fmt.Errorf("read tuning of %s: %w", mountPath(path), err)
	}
	if sec == nil {
		return nil, fmt.Errorf("read tuning of %s: %w", mountPath(path), ErrNotFound)
	}
	var mc MountConfig
	if err := DecodeData(sec, &mc); err != nil {
		return nil, fmt.Errorf("read tuning of %s: %w", mountPath(path), err)
	}
	return &mc, nil
}

// ListAuth returns the auth methods, keyed by path ("token/").
func (s *Sys) ListAuth(ctx context.Context) (map[string]*MountInfo, error) {
	return s.listMounts(ctx, "sys/auth", "list auth methods")
}

// EnableAuth enables an auth method at path (its login endpoints live
// under auth/<path>). Needs sudo on sys/auth/*.
func (s *Sys) EnableAuth(ctx context.Context, path string, in *MountInput) error {
	return s.enable(ctx, "sys/auth/", path, in, "enable auth method")
}

// DisableAuth disables the auth method at path and revokes its tokens.
func (s *Sys) DisableAuth(ctx context.Context, path string) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodDelete, path: "sys/auth/" + mountPath(path)}); err != nil {
		return fmt.Errorf("disable auth method at %s: %w", mountPath(path), err)
	}
	return nil
}

func (s *Sys) enable(ctx context.Context, prefix, path string, in *MountInput, op string) error {
	body := *in
	if body.Type == "kv-v2" {
		body.Type = "kv"
		opts := map[string]string{}
		for k, v := range in.Options {
			opts[k] = v
		}
		opts["version"] = "2"
		body.Options = opts
	}
	if _, err := s.c.call(ctx, &request{method: http.MethodPost, path: prefix + mountPath(path), body: &body}); err != nil {
		return fmt.Errorf("%s at %s: %w", op, mountPath(path), err)
	}
	return nil
}

func (s *Sys) listMounts(ctx context.Context, path, op string) (map[string]*MountInfo, error) {
	sec, err := s.c.Read(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	out := map[string]*MountInfo{}
	if err := DecodeData(sec, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
