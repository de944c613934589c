package storage

import (
	"sync"
	"sync/atomic"
)

// Cache is a bounded, write-through cache of decoded values by key, for a
// component that is the only writer of its storage (the token store, a KV
// engine). Writers call Set after a successful write and Drop after a
// delete or a failed write. A reader that missed reads storage and calls
// Fill with the Generation it saw before reading; Fill stores only if no
// Set or Drop happened since, so a read that raced a write can never put
// back a value the write replaced or deleted.
//
// Values are shared: the component must not change a value it stored or
// got, and copies one before changing it. When full, storing a new key
// evicts an arbitrary other one.
type Cache[V any] struct {
	max  int
	mu   sync.Mutex
	gen  atomic.Uint64
	size atomic.Int64
	m    sync.Map // string -> V
}

// NewCache returns an empty cache holding at most max values.
func NewCache[V any](max int) *Cache[V] {
	return &Cache[V]{max: max}
}

// Get returns the cached value of key.
func (c *Cache[V]) Get(key string) (V, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// Generation is what a reader passes to Fill.
func (c *Cache[V]) Generation() uint64 { return c.gen.Load() }

// Fill stores v, read from storage when the generation was gen, unless a
// write happened since.
func (c *Cache[V]) Fill(key string, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		c.store(key, v)
	}
}

// Set stores v, just written under key.
func (c *Cache[V]) Set(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.store(key, v)
}

// Drop forgets key.
func (c *Cache[V]) Drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if _, had := c.m.LoadAndDelete(key); had {
		c.size.Add(-1)
	}
}

// store puts v under key, evicting another key when full; c.mu is held.
func (c *Cache[V]) store(key string, v V) {
	if _, had := c.m.Swap(key, v); had {
		return
	}
	if c.size.Add(1) <= int64(c.max) {
		return
	}
	c.m.Range(func(k, _ any) bool {
		if k.(string) == key {
			return true
		}
		c.m.Delete(k)
		c.size.Add(-1)
		return false
	})
}

// Len is the number of cached values.
func (c *Cache[V]) Len() int { return int(c.size.Load()) }
