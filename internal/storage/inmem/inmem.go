package inmem

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wardsec/ward/internal/storage"
)

// Backend is an in-memory storage.Backend. The zero value is not usable;
// call New.
type Backend struct {
	mu   sync.RWMutex
	data map[string][]byte
}

var _ storage.Backend = (*Backend)(nil)

// New returns an empty in-memory backend.
func New() *Backend {
	return &Backend{data: make(map[string][]byte)}
}

// Get returns a copy of the value under key, or storage.ErrNotFound.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	if err := check(ctx, "get", key); err != nil {
		return nil, err
	}
	b.mu.RLock()
	v, ok := b.data[key]
	b.mu.RUnlock()
	if !ok {
		return nil, storage.ErrNotFound
	}
	return clone(v), nil
}

// Put stores a copy of value under key.
func (b *Backend) Put(ctx context.Context, key string, value []byte) error {
	if err := check(ctx, "put", key); err != nil {
		return err
	}
	v := clone(value)
	b.mu.Lock()
	b.data[key] = v
	b.mu.Unlock()
	return nil
}

// Delete removes key; a missing key is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := check(ctx, "delete", key); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.data, key)
	b.mu.Unlock()
	return nil
}

// List returns the sorted direct children of prefix, folders with a
// trailing "/". It scans every stored key.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inmem: list %q: %w", prefix, err)
	}
	if !storage.ValidPrefix(prefix) {
		return nil, fmt.Errorf("inmem: list %q: prefix must be empty or end in \"/\" and not start with \"/\"", prefix)
	}
	seen := make(map[string]struct{})
	b.mu.RLock()
	for k := range b.data {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		seen[rest] = struct{}{}
	}
	b.mu.RUnlock()
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// check rejects a cancelled context and an invalid key before any work.
func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inmem: %s %q: %w", op, key, err)
	}
	if !storage.ValidKey(key) {
		return fmt.Errorf("inmem: %s %q: invalid key: must be non-empty and not start or end with \"/\"", op, key)
	}
	return nil
}

// clone copies v, returning a non-nil slice even when v is empty.
func clone(v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	return out
}
