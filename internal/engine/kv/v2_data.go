package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// secretPath returns the secret path of a request to a "<verb>/{path...}"
// route. An empty path is not an API path: it gets the invalid-path answer
// in resp. A malformed one is a 400.
func (b *v2) secretPath(ctx context.Context, req *engine.Request) (p string, resp *engine.Response, err error) {
	p = req.Var("path")
	if p == "" {
		resp, err = b.invalidPath(ctx, req)
		return "", resp, err
	}
	if err := validatePath(p); err != nil {
		return "", nil, err
	}
	return p, nil, nil
}

type readQuery struct {
	Version int `json:"version"`
	Depth   int `json:"depth"`
}

func parseReadQuery(data map[string]any) (readQuery, error) {
	if len(data) == 0 {
		return readQuery{}, nil // the usual read: the current version
	}
	q, _, err := engine.Decode[readQuery](data)
	if err != nil {
		return q, err
	}
	if q.Version < 0 {
		return q, &engine.InputError{Field: "version", Rule: "must not be negative"}
	}
	if q.Depth < 0 {
		return q, &engine.InputError{Field: "depth", Rule: "must not be negative"}
	}
	return q, nil
}

// readSecret loads p's metadata and finds the version a read asks for
// (0: the current one). It returns found=false when there is none (a plain
// 404), and gone=true with the version's metadata when it was deleted or
// destroyed.
func (b *v2) readSecret(ctx context.Context, p string, version int) (data json.RawMessage, md map[string]any, found, gone bool, err error) {
	meta, err := b.sharedMeta(ctx, p)
	if err != nil || meta == nil {
		return nil, nil, false, false, err
	}
	return b.lookup(ctx, p, meta, version)
}

// readVersion reads the stored data under a version key, through the
// data cache. The result is shared: callers must not change it.
func (b *v2) readVersion(ctx context.Context, key string) ([]byte, error) {
	if d, ok := b.datas.Get(key); ok {
		return d, nil
	}
	gen := b.datas.Generation()
	d, err := b.store.Get(ctx, key)
	if err == nil && len(d) <= maxCachedData {
		b.datas.Fill(key, d, gen)
	}
	return d, err
}

// lookup is readSecret with the metadata already loaded.
func (b *v2) lookup(ctx context.Context, p string, meta *keyMeta, version int) (data json.RawMessage, md map[string]any, found, gone bool, err error) {
	n := version
	if n == 0 {
		n = meta.CurrentVersion
	}
	v := meta.Versions[n]
	if v == nil {
		return nil, nil, false, false, nil
	}
	md = versionData(n, v, meta.CustomMetadata)
	if !v.readable(b.now()) {
		return nil, md, true, true, nil
	}
	data, err = b.readVersion(ctx, versionKey(p, n))
	if errors.Is(err, storage.ErrNotFound) {
		// Data wiped but metadata not yet updated (see doc.go): destroyed.
		md["destroyed"] = true
		return nil, md, true, true, nil
	}
	if err != nil {
		return nil, nil, false, false, fmt.Errorf("read secret: %w", err)
	}
	return data, md, true, false, nil
}

func (b *v2) readData(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	q, err := parseReadQuery(req.Data)
	if err != nil {
		return nil, err
	}
	data, md, found, gone, err := b.readSecret(ctx, p, q.Version)
	switch {
	case err != nil || !found:
		return nil, err
	case gone:
		return goneResponse("data", md), nil
	}
	return engine.DataResponse(map[string]any{"data": data, "metadata": md}), nil
}

func (b *v2) readSubkeys(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	q, err := parseReadQuery(req.Data)
	if err != nil {
		return nil, err
	}
	data, md, found, gone, err := b.readSecret(ctx, p, q.Version)
	switch {
	case err != nil || !found:
		return nil, err
	case gone:
		return goneResponse("subkeys", md), nil
	}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	return engine.DataResponse(map[string]any{"subkeys": subkeys(obj, 1, q.Depth), "metadata": md}), nil
}

// subkeys replaces every leaf of data with nil: scalars, lists, empty
// objects, and objects at maxDepth when it is non-zero.
func subkeys(data map[string]any, depth, maxDepth int) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if m, ok := v.(map[string]any); ok && len(m) > 0 && (maxDepth == 0 || depth < maxDepth) {
			out[k] = subkeys(m, depth+1, maxDepth)
			continue
		}
		out[k] = nil
	}
	return out
}

// writeBody is the body of a data write or patch.
type writeBody struct {
	data map[string]any
	cas  *int
}

type writeOptions struct {
	CAS *int `json:"cas"`
}

func parseWriteBody(d map[string]any) (writeBody, error) {
	data, err := objectField(d, "data")
	if err != nil {
		return writeBody{}, err
	}
	w := writeBody{data: data}
	raw, ok := d["options"]
	if !ok || raw == nil {
		return w, nil
	}
	opts, ok := raw.(map[string]any)
	if !ok {
		return w, &engine.InputError{Field: "options", Rule: "expected a JSON object"}
	}
	// Unknown options (the Go client may add "method") are ignored.
	o, _, err := engine.Decode[writeOptions](opts)
	if err != nil {
		var ie *engine.InputError
		if errors.As(err, &ie) {
			return w, &engine.InputError{Field: "options." + ie.Field, Rule: ie.Rule}
		}
		return w, err
	}
	if o.CAS != nil && *o.CAS < 0 {
		return w, &engine.InputError{Field: "options.cas", Rule: "must not be negative"}
	}
	w.cas = o.CAS
	return w, nil
}

// checkCAS applies the check-and-set rules to a write of a secret whose
// metadata is m (new metadata for a new secret).
func checkCAS(c mountConfig, m *keyMeta, cas *int) error {
	if cas == nil {
		if c.CASRequired || m.CASRequired {
			return engine.BadRequest("check-and-set parameter required for this call")
		}
		return nil
	}
	if *cas != m.CurrentVersion {
		return engine.BadRequest("check-and-set parameter did not match the current version")
	}
	return nil
}

func (b *v2) writeData(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	body, err := parseWriteBody(req.Data)
	if err != nil {
		return nil, err
	}
	defer b.lock(p)()
	cfg, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	meta, err := b.loadMeta(ctx, p)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		meta = newKeyMeta(b.now().UTC())
	} else if req.CreateOnly {
		return nil, engine.ErrCreateOnly
	}
	if err := checkCAS(cfg, meta, body.cas); err != nil {
		return nil, err
	}
	return b.addVersion(ctx, p, cfg, meta, body.data)
}

// addVersion stores data as the next version of p and answers with its
// metadata. The caller holds p's lock.
func (b *v2) addVersion(ctx context.Context, p string, cfg mountConfig, meta *keyMeta, data map[string]any) (*engine.Response, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, engine.BadRequest("write secret: data is not valid JSON")
	}
	now := b.now().UTC()
	n := meta.CurrentVersion + 1
	v := &versionMeta{Created: now}
	if d := deleteAfter(cfg, meta); d > 0 {
		v.Deletion = now.Add(d)
	}
	meta.Versions[n] = v
	meta.CurrentVersion = n
	meta.Updated = now
	// The new version's data, the pruned versions' deletion and the
	// metadata go in one batch.
	ops := append([]storage.Op{{Key: versionKey(p, n), Value: raw}}, wipeOps(p, meta.prune(maxVersions(cfg, meta)))...)
	if err := b.saveMeta(ctx, p, meta, ops...); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return engine.DataResponse(versionData(n, v, meta.CustomMetadata)), nil
}

func (b *v2) patchData(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	body, err := parseWriteBody(req.Data)
	if err != nil {
		return nil, err
	}
	defer b.lock(p)()
	cfg, err := b.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	meta, err := b.loadMeta(ctx, p)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, engine.Errorf(engine.ErrNotFound, "patch secret: no secret at this path")
	}
	data, md, found, gone, err := b.lookup(ctx, p, meta, 0)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, engine.Errorf(engine.ErrNotFound, "patch secret: no version to patch")
	case gone:
		return goneResponse("data", md), nil
	}
	if err := checkCAS(cfg, meta, body.cas); err != nil {
		return nil, err
	}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("patch secret: %w", err)
	}
	merged, _ := mergePatch(obj, body.data).(map[string]any)
	return b.addVersion(ctx, p, cfg, meta, merged)
}

// deleteLatest soft-deletes the current version (DELETE data/<path>).
func (b *v2) deleteLatest(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p, resp, err := b.secretPath(ctx, req)
	if p == "" {
		return resp, err
	}
	defer b.lock(p)()
	meta, err := b.loadMeta(ctx, p)
	if err != nil || meta == nil {
		return nil, err
	}
	v := meta.Versions[meta.CurrentVersion]
	now := b.now().UTC()
	if v == nil || !v.readable(now) {
		return nil, nil
	}
	v.Deletion = now
	if err := b.saveMeta(ctx, p, meta); err != nil {
		return nil, fmt.Errorf("delete secret: %w", err)
	}
	return nil, nil
}
