package transit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// keyPrefix is the storage folder of the keys: keys/<name> holds one
// policy as JSON, every version's material included.
const keyPrefix = "keys/"

// keyStore owns the keys of one mount: their storage and an in-memory
// cache of decoded rings.
//
// Reads of a cached key take no lock: the cache is a sync.Map of immutable
// rings. Every change to a key (create, rotate, config, trim, delete,
// restore, auto-rotation) holds the key's lock, reads the key from storage,
// writes the result and only then replaces the cached ring, so no change
// is lost and the cache never holds a ring older than storage. A cache
// miss fills under the same lock for the same reason.
type keyStore struct {
	storage storage.Backend
	now     func() time.Time
	rand    io.Reader
	logger  *slog.Logger

	cache sync.Map // name -> *ring
	locks [256]sync.Mutex
}

// lock locks name's stripe; call the returned func to unlock.
func (s *keyStore) lock(name string) func() {
	h := fnv.New32a()
	h.Write([]byte(name))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// get returns the named key, or nil when there is none. A key whose
// auto_rotate_period has passed since its latest version is rotated first:
// the engine has no background timer, so rotation happens when a due key
// is next used.
func (s *keyStore) get(ctx context.Context, name string) (*ring, error) {
	r, err := s.load(ctx, name)
	if err != nil || r == nil {
		return r, err
	}
	if !r.p.rotationDue(s.now()) {
		return r, nil
	}
	rotated := false
	r, err = s.change(ctx, name, func(p *policy) (*policy, bool, error) {
		if p == nil || !p.rotationDue(s.now()) {
			return p, false, nil // someone else rotated (or deleted) it first
		}
		if err := p.rotate(s.rand, s.now()); err != nil {
			return nil, false, fmt.Errorf("auto-rotate transit key: %w", err)
		}
		rotated = true
		return p, true, nil
	})
	if rotated && err == nil {
		s.logger.Info("transit key auto-rotated", "key", name, "latest_version", r.p.LatestVersion)
	}
	return r, err
}

// load returns the cached ring of name, filling the cache on a miss.
func (s *keyStore) load(ctx context.Context, name string) (*ring, error) {
	if r, ok := s.cache.Load(name); ok {
		return r.(*ring), nil
	}
	unlock := s.lock(name)
	defer unlock()
	return s.loadLocked(ctx, name)
}

func (s *keyStore) loadLocked(ctx context.Context, name string) (*ring, error) {
	if r, ok := s.cache.Load(name); ok {
		return r.(*ring), nil
	}
	p, err := s.read(ctx, name)
	if err != nil || p == nil {
		return nil, err
	}
	r, err := newRing(p, nil)
	if err != nil {
		return nil, fmt.Errorf("load transit key: %w", err)
	}
	s.cache.Store(name, r)
	return r, nil
}

// read returns the stored policy of name, or nil.
func (s *keyStore) read(ctx context.Context, name string) (*policy, error) {
	raw, err := s.storage.Get(ctx, keyPrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read transit key: %w", err)
	}
	p, err := decodePolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("read transit key %q: %w", name, err)
	}
	return p, nil
}

// change serialises one change to key name. fn gets the key as stored
// (nil when there is none), which it may modify, and returns the key to
// keep and whether it changed; a changed nil deletes the key. An error
// from fn stores nothing. change returns the ring of the key as it now is
// (nil when there is none).
func (s *keyStore) change(ctx context.Context, name string, fn func(p *policy) (*policy, bool, error)) (*ring, error) {
	unlock := s.lock(name)
	defer unlock()
	cur, err := s.read(ctx, name)
	if err != nil {
		return nil, err
	}
	next, changed, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if !changed {
		if cur == nil {
			return nil, nil
		}
		return s.loadLocked(ctx, name)
	}
	if next == nil {
		err := s.storage.Delete(ctx, keyPrefix+name)
		s.cache.Delete(name)
		if err != nil {
			return nil, fmt.Errorf("delete transit key: %w", err)
		}
		return nil, nil
	}
	if err := next.check(); err != nil {
		return nil, fmt.Errorf("store transit key %q: %w", name, err)
	}
	var prev *ring
	if r, ok := s.cache.Load(name); ok {
		prev = r.(*ring)
	}
	r, err := newRing(next, prev)
	if err != nil {
		return nil, fmt.Errorf("store transit key: %w", err)
	}
	raw, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("store transit key: %w", err)
	}
	if err := s.storage.Put(ctx, keyPrefix+name, raw); err != nil {
		// The write may or may not have landed: let the next use re-read.
		s.cache.Delete(name)
		return nil, fmt.Errorf("store transit key: %w", err)
	}
	s.cache.Store(name, r)
	return r, nil
}

// list returns the key names.
func (s *keyStore) list(ctx context.Context) ([]string, error) {
	names, err := s.storage.List(ctx, keyPrefix)
	if err != nil {
		return nil, fmt.Errorf("list transit keys: %w", err)
	}
	out := names[:0]
	for _, n := range names {
		if validateName("name", n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}
