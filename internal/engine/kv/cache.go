package kv

import (
	"maps"
	"sync"
	"sync/atomic"
)

// metaCache keeps the decoded metadata of KV v2 secrets by path, so a
// read costs one storage read (the version's data) instead of two, and no
// metadata decoding. The engine is the only writer of its storage and
// writes a secret's metadata under the secret's lock, so the cache is
// written through: set after every write, drop after a delete or a failed
// write. A read that missed fills the cache only if no write happened
// while it read storage (gen unchanged), so it can never put back
// metadata that a concurrent write replaced or deleted.
//
// Cached metadata is never modified: readers share it, writers clone it.
type metaCache struct {
	mu  sync.Mutex
	gen atomic.Uint64
	m   sync.Map // path -> *keyMeta
}

func (c *metaCache) get(p string) (*keyMeta, bool) {
	v, ok := c.m.Load(p)
	if !ok {
		return nil, false
	}
	return v.(*keyMeta), true
}

func (c *metaCache) generation() uint64 { return c.gen.Load() }

// fill caches m, read from storage when the generation was gen.
func (c *metaCache) fill(p string, m *keyMeta, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		c.m.Store(p, m)
	}
}

// set caches a copy of m, just written.
func (c *metaCache) set(p string, m *keyMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.m.Store(p, m.clone())
}

// drop forgets p.
func (c *metaCache) drop(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.m.Delete(p)
}

// clone is a deep copy of m.
func (m *keyMeta) clone() *keyMeta {
	c := *m
	c.CustomMetadata = maps.Clone(m.CustomMetadata)
	c.Versions = make(map[int]*versionMeta, len(m.Versions))
	for n, v := range m.Versions {
		vc := *v
		c.Versions[n] = &vc
	}
	return &c
}
