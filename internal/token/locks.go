package token

import "sync"

// The store's locking, in one place.
//
// Lookups take no lock: they read the write-through cache or storage, and a
// pending or missing entry is refused.
//
// Changes to one entry hold the tree lock (Store.mu) shared and then the
// entry's lock from entryLocks, in that order, never the reverse:
//
//   - Use, Renew and Tidy's index checks hold the entry's lock exclusively
//     while they read, change and write the entry, so no update is lost
//     and of racing uses of a last use exactly one wins.
//   - Creating a child holds the parent's entry lock shared from the check
//     that the parent is valid until the child's index and entry are
//     written. Children of one parent are created concurrently.
//
// Marking a revocation holds the tree lock alone. While it walks the
// subtree top down and marks it pending, no token is created, used or
// renewed, so listing a marked token's children finds every child it will
// ever have, and the walk ends: the holders of a subtree's tokens cannot add
// levels below it while it runs. Marking is cheap (one commit for a subtree
// of up to 256 tokens, none for a token already pending), and skipped altogether for a pending token
// with no children, as an unwrapped or used-up one usually is: a pending
// token gets no new children, since the creations that saw it valid held
// its lock until their child was written.
// Finishing the revocation (OnRevoke and the deletions, several storage
// commits) holds the tree lock shared, and before deleting a token checks
// that the stored entry is still the pending one it marked: a pending
// entry is accepted nowhere and changed by nothing but its own deletion,
// and the shared lock keeps out creation with a chosen ID, which could
// otherwise put a new token under the ID being deleted.
//
// The other operations that hold the tree lock alone are creation with a
// chosen ID (unique ID check, then write), revoke-orphan (rewrites its
// children's entries) and role writes.

// entryLockStripes is how many locks entryLocks spreads IDs over.
const entryLockStripes = 256

// entryLocks are striped read-write locks by token ID: two IDs may share a
// lock, which costs only concurrency. A goroutine holds at most one of them,
// which keeps them free of deadlocks.
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
