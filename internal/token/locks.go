package token

import (
	"slices"
	"sync"
)

// The store's locking, in one place.
//
// Lookups take no lock: they read the write-through cache or storage, and a
// pending or missing entry is refused.
//
// Every change to an entry holds the tree lock (Store.mu) shared and then
// the entry's lock from entryLocks, in that order, never the reverse:
//
//   - Use, Renew and the marking of a revocation hold the entry's lock
//     exclusively while they read, change and write the entry, so no update
//     is lost and of racing uses of a last use exactly one wins.
//   - Creating a child holds the parent's entry lock shared from the check
//     that the parent is valid until the child's index and entry are
//     written. Children of one parent are created concurrently.
//
// So once a revocation has marked a token pending under its entry lock, no
// creation that saw the token valid is still running, and none that starts
// later accepts it: listing the token's children then finds every child it
// will ever have. That is what lets a revocation mark its tree top down
// without stopping the rest of the store, and finish it (OnRevoke and the
// deletions, several storage commits) with no lock at all: a pending entry
// is accepted nowhere and changed by nothing but its own deletion.
//
// The few operations that need the store still hold the tree lock alone:
// creation with a chosen ID (unique ID check, then write), revoke-orphan
// (rewrites its children's entries) and role writes.

// entryLockStripes is how many locks entryLocks spreads IDs over.
const entryLockStripes = 256

// entryLocks are striped read-write locks by token ID: two IDs may share a
// lock, which costs only concurrency. A goroutine holds at most one of them,
// except markLevel, which takes several in ascending order; that keeps
// them free of deadlocks.
type entryLocks [entryLockStripes]sync.RWMutex

// stripe returns the index of id's lock. IDs are hex HMACs, uniformly
// spread; anything else still maps somewhere.
func stripe(id string) int {
	h := uint32(2166136261) // FNV-1a over the first bytes
	for i := 0; i < len(id) && i < 8; i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % entryLockStripes)
}

// of returns id's lock.
func (l *entryLocks) of(id string) *sync.RWMutex { return &l[stripe(id)] }

// lockAll locks the locks of ids exclusively, in ascending order, and
// returns the function that unlocks them.
func (l *entryLocks) lockAll(ids []string) (unlock func()) {
	idx := make([]int, 0, len(ids))
	for _, id := range ids {
		idx = append(idx, stripe(id))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		l[i].Lock()
	}
	return func() {
		for _, i := range idx {
			l[i].Unlock()
		}
	}
}
