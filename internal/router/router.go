// Package router finds the mount that owns a request path: the longest
// mount path that is a prefix of it. It does no I/O and takes no locks on the
// lookup path: the table is an immutable snapshot swapped atomically when
// mounts change.
package router

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Router maps mount paths ("secret/", "auth/token/") to values of type V.
type Router[V any] struct {
	mu    sync.Mutex // serializes writers
	table atomic.Pointer[map[string]V]
}

// New returns an empty router.
func New[V any]() *Router[V] {
	r := &Router[V]{}
	empty := map[string]V{}
	r.table.Store(&empty)
	return r
}

// Mount adds or replaces the value at path, which must end in "/".
func (r *Router[V]) Mount(path string, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.table.Load()
	next := make(map[string]V, len(old)+1)
	for k, val := range old {
		next[k] = val
	}
	next[path] = v
	r.table.Store(&next)
}

// Unmount removes the value at path.
func (r *Router[V]) Unmount(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.table.Load()
	next := make(map[string]V, len(old))
	for k, val := range old {
		if k != path {
			next[k] = val
		}
	}
	r.table.Store(&next)
}

// Match returns the value whose mount path is the longest prefix of path,
// that mount path, and whether one matched. A path equal to a mount path
// without its trailing slash ("secret") matches that mount.
func (r *Router[V]) Match(path string) (V, string, bool) {
	table := *r.table.Load()
	if !strings.HasSuffix(path, "/") {
		if v, ok := table[path+"/"]; ok {
			return v, path + "/", true
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != '/' {
			continue
		}
		if v, ok := table[path[:i+1]]; ok {
			return v, path[:i+1], true
		}
	}
	var zero V
	return zero, "", false
}

// Get returns the value mounted exactly at path.
func (r *Router[V]) Get(path string) (V, bool) {
	v, ok := (*r.table.Load())[path]
	return v, ok
}

// Paths returns every mount path, unordered.
func (r *Router[V]) Paths() []string {
	table := *r.table.Load()
	out := make([]string, 0, len(table))
	for k := range table {
		out = append(out, k)
	}
	return out
}
