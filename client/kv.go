package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// KVMount names the KV mount that owns a path and its version.
type KVMount struct {
	// Path is the mount path with a trailing slash ("secret/"), or "" when
	// the server did not know the path (then Version is 1).
	Path string
	// Version is 1 or 2.
	Version int
}

// KVMount finds the mount that owns path (any path inside it) and whether
// it is KV version 1 or 2, using sys/internal/ui/mounts/<path>. A server
// that answers 404 (older servers) is taken to mean KV v1 with no known
// mount; a 403 means the token may not use anything under that mount.
// The lookup is never response-wrapped.
func (c *Client) KVMount(ctx context.Context, path string) (*KVMount, error) {
	sec, err := c.WithWrapTTL("").Read(ctx, "sys/internal/ui/mounts/"+strings.TrimLeft(path, "/"))
	if StatusCode(err) == http.StatusNotFound {
		return &KVMount{Version: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find mount of %s: %w", path, err)
	}
	if sec == nil {
		return &KVMount{Version: 1}, nil
	}
	var d struct {
		Path    string            `json:"path"`
		Type    string            `json:"type"`
		Options map[string]string `json:"options"`
	}
	if err := DecodeData(sec, &d); err != nil {
		return nil, fmt.Errorf("find mount of %s: %w", path, err)
	}
	m := &KVMount{Path: d.Path, Version: 1}
	if d.Options["version"] == "2" {
		m.Version = 2
	}
	return m, nil
}

// KVv1 reads and writes a KV version 1 mount: one unversioned value per
// path.
type KVv1 struct {
	c     *Client
	mount string
}

// KVv1 returns helpers for the KV v1 mount at mount ("kv").
func (c *Client) KVv1(mount string) *KVv1 {
	return &KVv1{c: c, mount: strings.Trim(mount, "/")}
}

func (kv *KVv1) path(p string) string {
	return kv.mount + "/" + strings.TrimLeft(p, "/")
}

// Get returns the data at path, or an error wrapping ErrNotFound.
func (kv *KVv1) Get(ctx context.Context, path string) (map[string]any, error) {
	sec, err := kv.c.Read(ctx, kv.path(path))
	if err != nil {
		return nil, fmt.Errorf("kv get %s: %w", kv.path(path), err)
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("kv get %s: %w", kv.path(path), ErrNotFound)
	}
	return sec.Data, nil
}

// Put replaces the data at path. data must not be empty.
func (kv *KVv1) Put(ctx context.Context, path string, data map[string]any) error {
	if len(data) == 0 {
		return fmt.Errorf("kv put %s: no data", kv.path(path))
	}
	if _, err := kv.c.call(ctx, &request{method: http.MethodPut, path: kv.path(path), body: data}); err != nil {
		return fmt.Errorf("kv put %s: %w", kv.path(path), err)
	}
	return nil
}

// Delete deletes the data at path; deleting nothing succeeds.
func (kv *KVv1) Delete(ctx context.Context, path string) error {
	if _, err := kv.c.Delete(ctx, kv.path(path)); err != nil {
		return fmt.Errorf("kv delete %s: %w", kv.path(path), err)
	}
	return nil
}

// List returns the keys under path; folders end in "/". Nothing there
// gives an empty list.
func (kv *KVv1) List(ctx context.Context, path string) ([]string, error) {
	sec, err := kv.c.List(ctx, kv.path(path))
	if err != nil {
		return nil, fmt.Errorf("kv list %s: %w", kv.path(path), err)
	}
	return Keys(sec)
}
