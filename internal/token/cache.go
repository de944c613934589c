package token

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// entryCache keeps decoded entries by ID, so that looking up a valid
// token (every request does) costs no storage read, decryption or JSON
// decoding. The store is the only writer of its entries, so the cache is
// written through: save sets, revocation drops.
//
// A lookup that misses reads storage and then fills the cache, but only if
// no entry was written or dropped in between (gen unchanged); otherwise it
// might put back an entry revoked while it was reading. The check and the
// fill happen under mu, as do the writers' updates.
//
// Entries in the cache are never modified; callers get copies.
type entryCache struct {
	mu  sync.Mutex
	gen atomic.Uint64
	m   sync.Map // id -> *Entry
}

// get returns a copy of the cached entry.
func (c *entryCache) get(id string) (*Entry, bool) {
	v, ok := c.m.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*Entry).clone(), true
}

// generation is the value fill must see unchanged.
func (c *entryCache) generation() uint64 { return c.gen.Load() }

// fill caches a copy of e, read from storage when the generation was gen.
func (c *entryCache) fill(e *Entry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		c.m.Store(e.ID, e.clone())
	}
}

// set caches a copy of e, just written to storage.
func (c *entryCache) set(e *Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.m.Store(e.ID, e.clone())
}

// drop forgets id, just deleted from storage (or of unknown state after a
// failed write).
func (c *entryCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.m.Delete(id)
}

// clone is a deep copy of e.
func (e *Entry) clone() *Entry {
	c := *e
	c.Policies = slices.Clone(e.Policies)
	c.Meta = maps.Clone(e.Meta)
	c.BoundCIDRs = slices.Clone(e.BoundCIDRs)
	return &c
}
