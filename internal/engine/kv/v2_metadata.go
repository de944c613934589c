package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wardsec/ward/internal/engine"
)

// Limits on custom_metadata, as in Vault.
const (
	maxCustomKeys     = 64
	maxCustomKeyLen   = 128
	maxCustomValueLen = 512
)

// metadataBody is a metadata write; nil fields are left unchanged.
type metadataBody struct {
	MaxVersions        *int               `json:"max_versions"`
	CASRequired        *bool              `json:"cas_required"`
	DeleteVersionAfter *time.Duration     `json:"delete_version_after"`
	CustomMetadata     *map[string]string `json:"custom_metadata"`
}

// metadataFields is the whole settable metadata, as a patch produces it.
type metadataFields struct {
	MaxVersions        int               `json:"max_versions"`
	CASRequired        bool              `json:"cas_required"`
	DeleteVersionAfter time.Duration     `json:"delete_version_after"`
	CustomMetadata     map[string]string `json:"custom_metadata"`
}

func validateMaxVersions(n int) error {
	if n < 0 {
		return &engine.InputError{Field: "max_versions", Rule: "must not be negative"}
	}
	return nil
}

func validateCustomMetadata(c map[string]string) error {
	if len(c) > maxCustomKeys {
		return &engine.InputError{Field: "custom_metadata", Rule: fmt.Sprintf("at most %d keys", maxCustomKeys)}
	}
	for k, v := range c {
		field := "custom_metadata." + k
		switch {
		case k == "":
			return &engine.InputError{Field: "custom_metadata", Rule: "keys must not be empty"}
		case len(k) > maxCustomKeyLen:
			return &engine.InputError{Field: "custom_metadata", Rule: fmt.Sprintf("keys must be at most %d bytes", maxCustomKeyLen)}
		case !printable(k):
			return &engine.InputError{Field: "custom_metadata", Rule: "keys must be printable text"}
		case len(v) > maxCustomValueLen:
			return &engine.InputError{Field: field, Rule: fmt.Sprintf("values must be at most %d bytes", maxCustomValueLen)}
		case !printable(v):
			return &engine.InputError{Field: field, Rule: "values must be printable text"}
		}
	}
	return nil
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

func (b *v2) readMetadata(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	meta, err := b.loadMeta(ctx, p)
	if err != nil || meta == nil {
		return nil, err
	}
	versions := make(map[string]any, len(meta.Versions))
	for n, v := range meta.Versions {
		versions[strconv.Itoa(n)] = map[string]any{
			"created_time":  formatTime(v.Created),
			"deletion_time": formatTime(v.Deletion),
			"destroyed":     v.Destroyed,
		}
	}
	return engine.DataResponse(map[string]any{
		"cas_required":         meta.CASRequired,
		"created_time":         formatTime(meta.Created),
		"current_version":      meta.CurrentVersion,
		"custom_metadata":      customOrNil(meta.CustomMetadata),
		"delete_version_after": meta.DeleteVersionAfter.String(),
		"max_versions":         meta.MaxVersions,
		"oldest_version":       meta.OldestVersion,
		"updated_time":         formatTime(meta.Updated),
		"versions":             versions,
	}), nil
}

// writeMetadata sets the fields sent; it creates the metadata of a secret
// that has no version yet.
func (b *v2) writeMetadata(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	body, warnings, err := engine.Decode[metadataBody](req.Data)
	if err != nil {
		return nil, err
	}
	if body.MaxVersions != nil {
		if err := validateMaxVersions(*body.MaxVersions); err != nil {
			return nil, err
		}
	}
	if body.CustomMetadata != nil {
		if err := validateCustomMetadata(*body.CustomMetadata); err != nil {
			return nil, err
		}
	}
	mode := createOrUpdate
	if req.CreateOnly {
		mode = createOnly
	}
	err = b.updateMetadata(ctx, p, mode, func(m *keyMeta) error {
		if body.MaxVersions != nil {
			m.MaxVersions = *body.MaxVersions
		}
		if body.CASRequired != nil {
			m.CASRequired = *body.CASRequired
		}
		if body.DeleteVersionAfter != nil {
			m.DeleteVersionAfter = *body.DeleteVersionAfter
		}
		if body.CustomMetadata != nil {
			m.CustomMetadata = *body.CustomMetadata
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return warningsResponse(warnings), nil
}

// patchMetadata applies a JSON merge patch to the settable fields; a
// missing secret is a 404.
func (b *v2) patchMetadata(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	var warnings []string
	err = b.updateMetadata(ctx, p, updateOnly, func(m *keyMeta) error {
		custom := make(map[string]any, len(m.CustomMetadata))
		for k, v := range m.CustomMetadata {
			custom[k] = v
		}
		cur := map[string]any{
			"max_versions":         m.MaxVersions,
			"cas_required":         m.CASRequired,
			"delete_version_after": m.DeleteVersionAfter.String(),
			"custom_metadata":      custom,
		}
		merged, _ := mergePatch(cur, req.Data).(map[string]any)
		f, w, err := engine.Decode[metadataFields](merged)
		if err != nil {
			return err
		}
		if err := validateMaxVersions(f.MaxVersions); err != nil {
			return err
		}
		if err := validateCustomMetadata(f.CustomMetadata); err != nil {
			return err
		}
		warnings = w
		m.MaxVersions, m.CASRequired, m.DeleteVersionAfter, m.CustomMetadata =
			f.MaxVersions, f.CASRequired, f.DeleteVersionAfter, f.CustomMetadata
		return nil
	})
	if err != nil {
		return nil, err
	}
	return warningsResponse(warnings), nil
}

// warningsResponse is no answer (204) without warnings, else an answer
// carrying them.
func warningsResponse(w []string) *engine.Response {
	if len(w) == 0 {
		return nil
	}
	return &engine.Response{Warnings: w}
}

// updateMetadata loads p's metadata under its lock (creating it when create
// is set, else failing with a 404), applies change, prunes versions beyond
// the resulting limit and saves. An error from change is returned as is and
// nothing is saved.
// metaMode says which of a missing and an existing secret a metadata
// write may touch.
type metaMode int

const (
	createOrUpdate metaMode = iota
	createOnly              // the caller may not update existing metadata
	updateOnly              // patch: the secret must exist
)

func (b *v2) updateMetadata(ctx context.Context, p string, mode metaMode, change func(m *keyMeta) error) error {
	defer b.lock(p)()
	cfg, err := b.loadConfig(ctx)
	if err != nil {
		return err
	}
	meta, err := b.loadMeta(ctx, p)
	if err != nil {
		return err
	}
	now := b.now().UTC()
	switch {
	case meta == nil && mode == updateOnly:
		return engine.Errorf(engine.ErrNotFound, "patch metadata: no secret at this path")
	case meta == nil:
		meta = newKeyMeta(now)
	case mode == createOnly:
		return engine.ErrCreateOnly
	}
	if err := change(meta); err != nil {
		return err
	}
	meta.Updated = now
	if err := b.saveMeta(ctx, p, meta, wipeOps(p, meta.prune(maxVersions(cfg, meta)))...); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	return nil
}

// deleteMetadata removes every version of the secret and its metadata.
func (b *v2) deleteMetadata(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	defer b.lock(p)()
	// Wipe whatever data is stored, not only what the metadata lists, so
	// leftovers of an interrupted earlier operation go too. Data first: a
	// crash now leaves versions that read as destroyed.
	prefix := versionPrefix(p)
	keys, err := b.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("delete metadata: %w", err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue
		}
		err := b.store.Delete(ctx, prefix+k)
		b.datas.Drop(prefix + k)
		if err != nil {
			return nil, fmt.Errorf("delete metadata: %w", err)
		}
	}
	defer b.metas.Drop(p)
	if err := b.store.Delete(ctx, metaKey(p)); err != nil {
		return nil, fmt.Errorf("delete metadata: %w", err)
	}
	return nil, nil
}

// listMetadata lists the secrets and folders directly below a prefix.
func (b *v2) listMetadata(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	prefix := req.Var("path")
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	keys, err := b.store.List(ctx, "meta/"+prefix)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return engine.ListResponse(keys), nil
}

// configBody is a config write; nil fields are left unchanged.
type configBody struct {
	MaxVersions        *int           `json:"max_versions"`
	CASRequired        *bool          `json:"cas_required"`
	DeleteVersionAfter *time.Duration `json:"delete_version_after"`
}

func (b *v2) readConfig(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	c, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"cas_required":         c.CASRequired,
		"delete_version_after": c.DeleteVersionAfter.String(),
		"max_versions":         c.MaxVersions,
	}), nil
}

func (b *v2) writeConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	body, warnings, err := engine.Decode[configBody](req.Data)
	if err != nil {
		return nil, err
	}
	if body.MaxVersions != nil {
		if err := validateMaxVersions(*body.MaxVersions); err != nil {
			return nil, err
		}
	}
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	c, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	if body.MaxVersions != nil {
		c.MaxVersions = *body.MaxVersions
	}
	if body.CASRequired != nil {
		c.CASRequired = *body.CASRequired
	}
	if body.DeleteVersionAfter != nil {
		c.DeleteVersionAfter = *body.DeleteVersionAfter
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("write kv config: %w", err)
	}
	if err := b.store.Put(ctx, configKey, raw); err != nil {
		return nil, fmt.Errorf("write kv config: %w", err)
	}
	return warningsResponse(warnings), nil
}
