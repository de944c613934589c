package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/api"
)

// KVv2 reads and writes a KV version 2 mount: every write adds a version,
// old versions stay readable until pruned, deleted (recoverable) or
// destroyed (gone).
type KVv2 struct {
	c     *Client
	mount string
}

// KVv2 returns helpers for the KV v2 mount at mount ("secret").
func (c *Client) KVv2(mount string) *KVv2 {
	return &KVv2{c: c, mount: strings.Trim(mount, "/")}
}

// KVSecret is one version of a KV v2 secret.
type KVSecret struct {
	// Data is nil when the version was deleted or destroyed.
	Data map[string]any
	// Metadata describes this version.
	Metadata *KVVersion
	// Raw is the response as received.
	Raw *api.Secret
}

// KVVersion is the metadata of one version. DeletionTime is zero unless the
// version was deleted.
type KVVersion struct {
	Version        int
	CreatedTime    time.Time
	DeletionTime   time.Time
	Destroyed      bool
	CustomMetadata map[string]string
}

// KVMetadata is the metadata of a whole KV v2 key.
type KVMetadata struct {
	CASRequired        bool
	CreatedTime        time.Time
	UpdatedTime        time.Time
	CurrentVersion     int
	OldestVersion      int
	MaxVersions        int
	DeleteVersionAfter time.Duration
	CustomMetadata     map[string]string
	Versions           map[int]KVVersion
	Raw                *api.Secret
}

// KVMetadataInput changes a key's metadata. Nil and empty fields are left
// as they are.
type KVMetadataInput struct {
	MaxVersions        *int              `json:"max_versions,omitempty"`
	CASRequired        *bool             `json:"cas_required,omitempty"`
	DeleteVersionAfter string            `json:"delete_version_after,omitempty"`
	CustomMetadata     map[string]string `json:"custom_metadata,omitempty"`
}

// KVOption modifies a KV v2 write.
type KVOption func(opts map[string]any)

// CAS makes a write check-and-set: it succeeds only if the key's current
// version is version (0: only if the key does not exist yet).
func CAS(version int) KVOption {
	return func(opts map[string]any) { opts["cas"] = version }
}

func (kv *KVv2) path(kind, p string) string {
	return kv.mount + "/" + kind + "/" + strings.TrimLeft(p, "/")
}

// Get returns the latest version of path. It returns an error wrapping
// ErrNotFound when the key does not exist; a deleted or destroyed latest
// version is returned with nil Data.
func (kv *KVv2) Get(ctx context.Context, path string) (*KVSecret, error) {
	return kv.get(ctx, path, nil)
}

// GetVersion returns version v of path (0 means the latest).
func (kv *KVv2) GetVersion(ctx context.Context, path string, v int) (*KVSecret, error) {
	var q url.Values
	if v > 0 {
		q = url.Values{"version": {strconv.Itoa(v)}}
	}
	return kv.get(ctx, path, q)
}

func (kv *KVv2) get(ctx context.Context, path string, q url.Values) (*KVSecret, error) {
	p := kv.path("data", path)
	sec, err := kv.c.ReadWithData(ctx, p, q)
	if err != nil {
		return nil, fmt.Errorf("kv get %s: %w", p, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("kv get %s: %w", p, ErrNotFound)
	}
	var d struct {
		Data     map[string]any `json:"data"`
		Metadata *kvVersionWire `json:"metadata"`
	}
	if err := DecodeData(sec, &d); err != nil {
		return nil, fmt.Errorf("kv get %s: %w", p, err)
	}
	if d.Data == nil && d.Metadata == nil {
		return nil, fmt.Errorf("kv get %s: %w", p, ErrNotFound)
	}
	out := &KVSecret{Data: d.Data, Raw: sec}
	if d.Metadata != nil {
		out.Metadata, err = d.Metadata.version()
		if err != nil {
			return nil, fmt.Errorf("kv get %s: %w", p, err)
		}
	}
	return out, nil
}

// Put writes data as the new version of path and returns its metadata.
func (kv *KVv2) Put(ctx context.Context, path string, data map[string]any, opts ...KVOption) (*KVVersion, error) {
	p := kv.path("data", path)
	sec, err := kv.c.call(ctx, &request{method: http.MethodPut, path: p, body: kvBody(data, opts)})
	if err != nil {
		return nil, fmt.Errorf("kv put %s: %w", p, err)
	}
	v, err := writeVersion(sec)
	if err != nil {
		return nil, fmt.Errorf("kv put %s: %w", p, err)
	}
	return v, nil
}

// Patch merges data into the latest version of path (a JSON merge patch:
// a nil value removes a key) and writes the result as a new version. On a
// server without PATCH support (405) it reads, merges and writes with
// check-and-set instead. A missing or deleted key is ErrNotFound.
func (kv *KVv2) Patch(ctx context.Context, path string, data map[string]any, opts ...KVOption) (*KVVersion, error) {
	p := kv.path("data", path)
	sec, err := kv.c.call(ctx, &request{
		method: http.MethodPatch, path: p, body: kvBody(data, opts),
		header: http.Header{"Content-Type": {"application/merge-patch+json"}},
	})
	switch StatusCode(err) {
	case http.StatusMethodNotAllowed:
		return kv.patchReadWrite(ctx, path, data, opts)
	case http.StatusNotFound:
		return nil, fmt.Errorf("kv patch %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("kv patch %s: %w", p, err)
	}
	v, err := writeVersion(sec)
	if err != nil {
		return nil, fmt.Errorf("kv patch %s: %w", p, err)
	}
	return v, nil
}

func (kv *KVv2) patchReadWrite(ctx context.Context, path string, data map[string]any, opts []KVOption) (*KVVersion, error) {
	cur, err := kv.Get(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("kv patch: %w", err)
	}
	if cur.Data == nil || cur.Metadata == nil {
		return nil, fmt.Errorf("kv patch %s: %w", kv.path("data", path), ErrNotFound)
	}
	merged := MergePatch(cur.Data, data)
	opts = append([]KVOption{CAS(cur.Metadata.Version)}, opts...)
	return kv.Put(ctx, path, merged, opts...)
}

// MergePatch applies patch to doc as RFC 7386 JSON merge patch: nil values
// delete keys, objects merge recursively, anything else replaces. doc is
// not modified.
func MergePatch(doc, patch map[string]any) map[string]any {
	out := make(map[string]any, len(doc)+len(patch))
	for k, v := range doc {
		out[k] = v
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			old, _ := out[k].(map[string]any)
			out[k] = MergePatch(old, pv)
		default:
			out[k] = v
		}
	}
	return out
}

func kvBody(data map[string]any, opts []KVOption) map[string]any {
	o := map[string]any{}
	for _, f := range opts {
		f(o)
	}
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{"data": data, "options": o}
}

func writeVersion(sec *api.Secret) (*KVVersion, error) {
	if sec == nil {
		return nil, errors.New("server returned no version metadata")
	}
	var w kvVersionWire
	if err := DecodeData(sec, &w); err != nil {
		return nil, err
	}
	return w.version()
}

// Delete soft-deletes the latest version of path; Undelete brings it back.
func (kv *KVv2) Delete(ctx context.Context, path string) error {
	p := kv.path("data", path)
	if _, err := kv.c.Delete(ctx, p); err != nil {
		return fmt.Errorf("kv delete %s: %w", p, err)
	}
	return nil
}

// DeleteVersions soft-deletes the given versions of path.
func (kv *KVv2) DeleteVersions(ctx context.Context, path string, versions []int) error {
	return kv.versions(ctx, http.MethodPost, "delete", path, versions)
}

// Undelete restores soft-deleted versions of path.
func (kv *KVv2) Undelete(ctx context.Context, path string, versions []int) error {
	return kv.versions(ctx, http.MethodPost, "undelete", path, versions)
}

// Destroy permanently removes the data of the given versions of path.
func (kv *KVv2) Destroy(ctx context.Context, path string, versions []int) error {
	return kv.versions(ctx, http.MethodPut, "destroy", path, versions)
}

func (kv *KVv2) versions(ctx context.Context, method, kind, path string, versions []int) error {
	p := kv.path(kind, path)
	if len(versions) == 0 {
		return fmt.Errorf("kv %s %s: no versions given", kind, p)
	}
	body := map[string]any{"versions": versions}
	if _, err := kv.c.call(ctx, &request{method: method, path: p, body: body}); err != nil {
		return fmt.Errorf("kv %s %s: %w", kind, p, err)
	}
	return nil
}

// List returns the keys under path; folders end in "/". Nothing there
// gives an empty list.
func (kv *KVv2) List(ctx context.Context, path string) ([]string, error) {
	p := kv.path("metadata", path)
	sec, err := kv.c.List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("kv list %s: %w", p, err)
	}
	return Keys(sec)
}
