package inmem

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/wardsec/ward/internal/storage"
)

// Backend is an in-memory storage.Backend. The zero value is not usable;
// call New.
type Backend struct {
	mu   sync.RWMutex
	data map[string][]byte
	// keys orders the keys of data, so that List seeks instead of scanning.
	keys *btree.BTreeG[string]
}

var _ storage.Backend = (*Backend)(nil)

// New returns an empty in-memory backend.
func New() *Backend {
	return &Backend{data: make(map[string][]byte), keys: btree.NewOrderedG[string](32)}
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
	if _, ok := b.data[key]; !ok {
		b.keys.ReplaceOrInsert(key)
	}
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
	if _, ok := b.data[key]; ok {
		delete(b.data, key)
		b.keys.Delete(key)
	}
	b.mu.Unlock()
	return nil
}

// Batch applies ops atomically: no reader sees some of them without the
// others.
func (b *Backend) Batch(ctx context.Context, ops []storage.Op) error {
	for _, o := range ops {
		if err := check(ctx, "batch", o.Key); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range ops {
		_, had := b.data[o.Key]
		switch {
		case o.Delete && had:
			delete(b.data, o.Key)
			b.keys.Delete(o.Key)
		case !o.Delete:
			if !had {
				b.keys.ReplaceOrInsert(o.Key)
			}
			b.data[o.Key] = clone(o.Value)
		}
	}
	return nil
}

// List returns the sorted direct children of prefix, folders with a
// trailing "/". It walks the ordered keys from prefix and skips over each
// folder's contents with one seek, so it costs the number of children, not
// the number of keys stored.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inmem: list %q: %w", prefix, err)
	}
	if !storage.ValidPrefix(prefix) {
		return nil, fmt.Errorf("inmem: list %q: prefix must be empty or end in \"/\" and not start with \"/\"", prefix)
	}
	out := []string{}
	b.mu.RLock()
	defer b.mu.RUnlock()
	from := prefix
	for {
		next, found := "", false
		b.keys.AscendGreaterOrEqual(from, func(k string) bool {
			next, found = k, true
			return false
		})
		if !found || !strings.HasPrefix(next, prefix) {
			return out, nil
		}
		rest := next[len(prefix):]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			if rest != "" {
				out = append(out, rest)
			}
			from = next + "\x00"
			continue
		}
		folder := rest[:i+1]
		out = append(out, folder)
		// Past everything in the folder: "f/" + anything < "f0".
		from = prefix + rest[:i] + "0"
	}
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
