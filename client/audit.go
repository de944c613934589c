package client

import (
	"context"
	"fmt"
	"net/http"
)

// AuditDevice describes one enabled audit device, as listed by sys/audit.
// Options are the device's settings ("file_path", "address", ...).
type AuditDevice struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
	Path        string            `json:"path"`
	// Chain is where the device's hash chain stands on the server: the
	// seq and hash of its last line (Ward only; nil from other servers).
	Chain *AuditChainHead `json:"chain,omitempty"`
}

// AuditChainHead is the seq and SHA-256 (hex) of a device's last line.
type AuditChainHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// AuditInput is the body that enables an audit device. Type is "file" or
// "socket"; Options configure it, for example {"file_path":
// "/var/log/ward/audit.log"} or {"address": "127.0.0.1:9090",
// "socket_type": "tcp"}.
type AuditInput struct {
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Local       bool              `json:"local,omitempty"`
}

// ListAudit returns the enabled audit devices, keyed by path ("file/").
// Needs sudo on sys/audit.
func (s *Sys) ListAudit(ctx context.Context) (map[string]*AuditDevice, error) {
	sec, err := s.c.call(ctx, &request{method: http.MethodGet, path: "sys/audit"})
	if err != nil {
		return nil, fmt.Errorf("list audit devices: %w", err)
	}
	out := map[string]*AuditDevice{}
	if err := DecodeData(sec, &out); err != nil {
		return nil, fmt.Errorf("list audit devices: %w", err)
	}
	return out, nil
}

// EnableAudit enables an audit device at path. The server opens the
// device at once: a file it cannot write or a socket it cannot reach is a
// 400. Needs sudo on sys/audit/*.
func (s *Sys) EnableAudit(ctx context.Context, path string, in *AuditInput) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodPut, path: "sys/audit/" + mountPath(path), body: in}); err != nil {
		return fmt.Errorf("enable audit device at %s: %w", mountPath(path), err)
	}
	return nil
}

// DisableAudit disables the audit device at path; a path with no device
// is not an error. Needs sudo on sys/audit/*.
func (s *Sys) DisableAudit(ctx context.Context, path string) error {
	if _, err := s.c.call(ctx, &request{method: http.MethodDelete, path: "sys/audit/" + mountPath(path)}); err != nil {
		return fmt.Errorf("disable audit device at %s: %w", mountPath(path), err)
	}
	return nil
}

// AuditHash returns the value the audit device at path writes in its log
// for input ("hmac-sha256:<hex>"), so that a log can be searched for a
// known secret without the secret being in it.
func (s *Sys) AuditHash(ctx context.Context, path, input string) (string, error) {
	sec, err := s.c.call(ctx, &request{method: http.MethodPut, path: "sys/audit-hash/" + mountPath(path), body: map[string]string{"input": input}})
	if err != nil {
		return "", fmt.Errorf("audit hash at %s: %w", mountPath(path), err)
	}
	var out struct {
		Hash string `json:"hash"`
	}
	if err := DecodeData(sec, &out); err != nil {
		return "", fmt.Errorf("audit hash at %s: %w", mountPath(path), err)
	}
	if out.Hash == "" {
		return "", fmt.Errorf("audit hash at %s: the response has no hash", mountPath(path))
	}
	return out.Hash, nil
}
