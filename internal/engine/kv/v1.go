package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// v1 is the unversioned store: one JSON object per path.
type v1 struct {
	*engine.Mux
	store     storage.Backend
	locks     stripes // serialise writers of one path, for create-only writes
	leaseTTLs func() (def, max time.Duration)
}

func newV1(env engine.Env) *v1 {
	b := &v1{store: env.Storage, leaseTTLs: env.LeaseTTLs}
	b.Mux = engine.NewMux(engine.Path{
		Pattern: "{path...}",
		Summary: "Read, write, delete and list unversioned secrets.",
		Read:    b.read,
		Write:   b.write,
		Delete:  b.delete,
		List:    b.list,
		Exists:  b.exists,
	})
	return b
}

func (b *v1) read(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p := req.Var("path")
	if p == "" {
		return nil, nil
	}
	if err := validatePath(p); err != nil {
		return nil, err
	}
	raw, err := b.store.Get(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	data, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	return &engine.Response{Data: data, LeaseDuration: ttlHint(data, b.defaultTTL())}, nil
}

// ttlHint is the secret's own "ttl" (or "lease") when it parses as a
// duration, else def.
func ttlHint(data map[string]any, def time.Duration) time.Duration {
	raw, ok := data["ttl"]
	if !ok {
		raw, ok = data["lease"]
	}
	if !ok {
		return def
	}
	d, err := engine.ParseDuration(raw)
	if err != nil {
		return def
	}
	return d
}

func (b *v1) write(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p := req.Var("path")
	if err := validatePath(p); err != nil {
		return nil, err
	}
	if len(req.Data) == 0 {
		return nil, engine.BadRequest("write secret: missing data fields: the body must be a non-empty JSON object")
	}
	raw, err := json.Marshal(req.Data)
	if err != nil {
		return nil, engine.BadRequest("write secret: body is not valid JSON data")
	}
	defer b.locks.lock(p)()
	if req.CreateOnly {
		if _, err := b.store.Get(ctx, p); err == nil {
			return nil, engine.ErrCreateOnly
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("write secret: %w", err)
		}
	}
	if err := b.store.Put(ctx, p, raw); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return nil, nil
}

func (b *v1) delete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p := req.Var("path")
	if err := validatePath(p); err != nil {
		return nil, err
	}
	if err := b.store.Delete(ctx, p); err != nil {
		return nil, fmt.Errorf("delete secret: %w", err)
	}
	return nil, nil
}

func (b *v1) list(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	p := req.Var("path")
	if err := validatePrefix(p); err != nil {
		return nil, err
	}
	keys, err := b.store.List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return engine.ListResponse(keys), nil
}

func (b *v1) exists(ctx context.Context, req *engine.Request) (bool, error) {
	p := req.Var("path")
	if validatePath(p) != nil {
		return false, nil // the handler reports the bad path
	}
	_, err := b.store.Get(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check secret: %w", err)
	}
	return true, nil
}

// defaultTTL is the mount's current default lease TTL, the refresh hint for
// secrets without a ttl key of their own.
func (b *v1) defaultTTL() time.Duration {
	if b.leaseTTLs != nil {
		if def, _ := b.leaseTTLs(); def > 0 {
			return def
		}
	}
	return defaultLeaseTTL
}
