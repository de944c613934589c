package kv

import (
	"hash/fnv"
	"sync"
)

// stripes serialise writers of one secret without a lock per secret or
// one for the whole mount: a path hashes to one of 256 mutexes.
type stripes [256]sync.Mutex

// lock locks p's stripe; call the returned func to unlock.
func (s *stripes) lock(p string) func() {
	h := fnv.New32a()
	h.Write([]byte(p))
	m := &s[h.Sum32()%uint32(len(s))]
	m.Lock()
	return m.Unlock
}
