package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// kvVersionWire is one version's metadata as the server sends it.
type kvVersionWire struct {
	CreatedTime    string            `json:"created_time"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	Version        int               `json:"version"`
}

func (w *kvVersionWire) version() (*KVVersion, error) {
	created, err := parseTime(w.CreatedTime)
	if err != nil {
		return nil, fmt.Errorf("created_time: %w", err)
	}
	deleted, err := parseTime(w.DeletionTime)
	if err != nil {
		return nil, fmt.Errorf("deletion_time: %w", err)
	}
	return &KVVersion{
		Version:        w.Version,
		CreatedTime:    created,
		DeletionTime:   deleted,
		Destroyed:      w.Destroyed,
		CustomMetadata: w.CustomMetadata,
	}, nil
}

// parseTime parses an RFC 3339 time; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// parseDuration accepts a Go duration ("1h30m"), or whole seconds as a
// number or numeric string, as Vault does.
func parseDuration(v any) (time.Duration, error) {
	switch d := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := d.Int64()
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * time.Second, nil
	case string:
		if d == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(d, 10, 64); err == nil {
			return time.Duration(n) * time.Second, nil
		}
		return time.ParseDuration(d)
	}
	return 0, fmt.Errorf("unexpected duration %v", v)
}

// Metadata returns the metadata of path: all its versions, limits and
// custom metadata. A key that was never written gives ErrNotFound.
func (kv *KVv2) Metadata(ctx context.Context, path string) (*KVMetadata, error) {
	p := kv.path("metadata", path)
	sec, err := kv.c.Read(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("kv metadata %s: %w", p, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("kv metadata %s: %w", p, ErrNotFound)
	}
	var w struct {
		CASRequired        bool                     `json:"cas_required"`
		CreatedTime        string                   `json:"created_time"`
		UpdatedTime        string                   `json:"updated_time"`
		CurrentVersion     int                      `json:"current_version"`
		OldestVersion      int                      `json:"oldest_version"`
		MaxVersions        int                      `json:"max_versions"`
		DeleteVersionAfter any                      `json:"delete_version_after"`
		CustomMetadata     map[string]string        `json:"custom_metadata"`
		Versions           map[string]kvVersionWire `json:"versions"`
	}
	if err := DecodeData(sec, &w); err != nil {
		return nil, fmt.Errorf("kv metadata %s: %w", p, err)
	}
	m := &KVMetadata{
		CASRequired:    w.CASRequired,
		CurrentVersion: w.CurrentVersion,
		OldestVersion:  w.OldestVersion,
		MaxVersions:    w.MaxVersions,
		CustomMetadata: w.CustomMetadata,
		Versions:       make(map[int]KVVersion, len(w.Versions)),
		Raw:            sec,
	}
	if m.CreatedTime, err = parseTime(w.CreatedTime); err != nil {
		return nil, fmt.Errorf("kv metadata %s: created_time: %w", p, err)
	}
	if m.UpdatedTime, err = parseTime(w.UpdatedTime); err != nil {
		return nil, fmt.Errorf("kv metadata %s: updated_time: %w", p, err)
	}
	if m.DeleteVersionAfter, err = parseDuration(w.DeleteVersionAfter); err != nil {
		return nil, fmt.Errorf("kv metadata %s: delete_version_after: %w", p, err)
	}
	for k, vw := range w.Versions {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("kv metadata %s: version key %q is not a number", p, k)
		}
		vw.Version = n
		v, err := vw.version()
		if err != nil {
			return nil, fmt.Errorf("kv metadata %s: version %d: %w", p, n, err)
		}
		m.Versions[n] = *v
	}
	return m, nil
}

// PutMetadata changes the metadata of path. It works on a key with no
// versions yet, creating its metadata.
func (kv *KVv2) PutMetadata(ctx context.Context, path string, in *KVMetadataInput) error {
	p := kv.path("metadata", path)
	if in == nil {
		in = &KVMetadataInput{}
	}
	if _, err := kv.c.call(ctx, &request{method: http.MethodPut, path: p, body: in}); err != nil {
		return fmt.Errorf("kv metadata put %s: %w", p, err)
	}
	return nil
}

// DeleteMetadata deletes path entirely: its metadata and every version.
func (kv *KVv2) DeleteMetadata(ctx context.Context, path string) error {
	p := kv.path("metadata", path)
	if _, err := kv.c.Delete(ctx, p); err != nil {
		return fmt.Errorf("kv metadata delete %s: %w", p, err)
	}
	return nil
}
