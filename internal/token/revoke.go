package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// Use spends one use of a token with limited uses; for an unlimited token
// it does nothing. It reports exhausted when this was the last use: the
// token is then pending revocation (no other request accepts it) and the
// caller must Revoke it once the current request is finished. It returns
// ErrNotFound if the token is no longer valid, e.g. because a concurrent
// request spent the last use first. e.NumUses is updated.
func (s *Store) Use(ctx context.Context, e *Entry) (exhausted bool, err error) {
	if e.pending() {
		return false, ErrNotFound
	}
	if e.NumUses == 0 {
		return false, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.entries.of(e.ID)
	l.Lock()
	defer l.Unlock()
	cur, err := s.load(ctx, e.ID)
	if err != nil {
		return false, err
	}
	now := s.now()
	if cur.pending() || cur.expired(now) {
		return false, ErrNotFound
	}
	if cur.NumUses == 0 {
		return false, nil
	}
	cur.NumUses--
	if cur.NumUses == 0 {
		// The last use makes the token pending: markPending writes the
		// index that lets Tidy finish the job with the entry, in one batch.
		if err := s.markPending(ctx, cur, now); err != nil {
			return false, fmt.Errorf("use token: %w", err)
		}
	} else if err := s.save(ctx, cur); err != nil {
		return false, fmt.Errorf("use token: %w", err)
	}
	e.NumUses = cur.NumUses
	e.RevokePending = cur.RevokePending
	return cur.NumUses == 0, nil
}

// Revoke revokes the token with this ID and every token below it, calling
// OnRevoke for each, children first. Revoking an unknown token is not an
// error. When Revoke returns nil, none of the tokens is accepted any more.
// When it fails while marking the tokens pending, a subtree of up to
// markBatch tokens is left as it was, and a larger one may be left with
// its upper part pending and the rest valid: the caller should retry.
// Once every token is marked, a failure while finishing leaves them all
// pending (accepted nowhere) for Tidy to finish. Concurrent creations
// under a token being revoked either fail or are revoked with it.
func (s *Store) Revoke(ctx context.Context, id string) error {
	_, err := s.revoke(ctx, id)
	return err
}

// RevokeAccessor is Revoke by accessor; an unknown accessor is ErrNotFound.
func (s *Store) RevokeAccessor(ctx context.Context, accessor string) error {
	id, err := s.accessorID(ctx, accessor)
	if err != nil {
		return err
	}
	return s.Revoke(ctx, id)
}

// RevokeOrphan revokes only the token with this ID; its children become
// orphans (Parent cleared, Orphan set) and keep working, unless their own
// revocation has begun. An unknown token is ErrNotFound.
func (s *Store) RevokeOrphan(ctx context.Context, id string) error {
	e, err := s.orphanChildren(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.finishAll(ctx, []*Entry{e})
	return err
}

// orphanChildren marks id pending and makes its children orphans. It
// rewrites entries other than id's, so it holds the tree lock alone.
func (s *Store) orphanChildren(ctx context.Context, id string) (*Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.markPending(ctx, e, s.now()); err != nil {
		return nil, err
	}
	children, err := s.st.List(ctx, prefixParent+id+"/")
	if err != nil {
		return nil, fmt.Errorf("revoke token: list children: %w", err)
	}
	for _, c := range children {
		if strings.HasSuffix(c, "/") {
			continue
		}
		child, err := s.load(ctx, c)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		case child.pending():
			// Its revocation has begun and may be finishing right now,
			// without a lock: writing it back would resurrect it.
		default:
			child.Parent = ""
			child.Orphan = true
			if err := s.save(ctx, child); err != nil {
				return nil, fmt.Errorf("revoke token: orphan child: %w", err)
			}
		}
		if err := s.st.Delete(ctx, prefixParent+id+"/"+c); err != nil {
			return nil, fmt.Errorf("revoke token: %w", err)
		}
	}
	return e, nil
}

// revoke revokes id's subtree and returns how many tokens it finished. The
// caller holds no lock: marking and finishing take the locks they need.
func (s *Store) revoke(ctx context.Context, id string) (int, error) {
	entries, err := s.pendingLeaf(ctx, id)
	if entries == nil && err == nil {
		entries, err = s.markTree(ctx, id)
	}
	if err != nil {
		return 0, err
	}
	return s.finishAll(ctx, entries)
}

// pendingLeaf returns id's entry alone when it is already pending and has
// no children, as an unwrapped or used-up token usually is: there is no
// tree to mark, and none can grow, since a pending token gets no children
// (its creations finished before it was marked, see locks.go). So the
// common revocation skips marking and its exclusive lock. Otherwise it
// returns nil.
func (s *Store) pendingLeaf(ctx context.Context, id string) ([]*Entry, error) {
	if !validID(id) {
		return nil, nil
	}
	e, err := s.load(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && !e.pending()) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	children, err := s.st.List(ctx, prefixParent+id+"/")
	if err != nil {
		return nil, fmt.Errorf("revoke token: list children: %w", err)
	}
	if len(children) > 0 {
		return nil, nil
	}
	return []*Entry{e}, nil
}

// node is one token of a subtree being revoked, with the parent whose link
// led to it ("" for the subtree's root).
type node struct{ id, parent string }

// markBatch is how many tokens one storage commit marks pending, and
// finishBatch how many one commit deletes.
const (
	markBatch   = 256
	finishBatch = 256
)

// markTree marks every token of id's subtree pending and returns their
// entries, each after its parent. It holds the tree lock alone, so the
// tree cannot change under it: with the lock shared, the holders of a
// subtree's tokens could add levels below it as fast as a walk marked
// them, and the revocation would never end. It reads the whole subtree
// first, then marks it top down, markBatch tokens per commit: a subtree
// of up to markBatch tokens is marked atomically, so a failed revocation
// of one changes nothing. A leaf costs one list of its (no) children, plus
// one commit if it was not pending yet.
func (s *Store) markTree(ctx context.Context, id string) ([]*Entry, error) {
	if !validID(id) {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	nodes, err := s.subtree(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []*Entry
	for i := 0; i < len(nodes); i += markBatch {
		found, err := s.markNodes(ctx, nodes[i:min(i+markBatch, len(nodes))], now)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// subtree lists id's subtree from the parent links, breadth first, so
// each token comes after its parent. The caller holds the tree lock. The
// children of a token that is gone are listed all the same: a crash part
// way through an earlier revocation may have left them.
func (s *Store) subtree(ctx context.Context, id string) ([]node, error) {
	nodes := []node{{id: id}}
	seen := map[string]bool{id: true}
	for i := 0; i < len(nodes); i++ {
		children, err := s.st.List(ctx, prefixParent+nodes[i].id+"/")
		if err != nil {
			return nil, fmt.Errorf("revoke token: list children: %w", err)
		}
		for _, c := range children {
			if strings.HasSuffix(c, "/") || seen[c] || !validID(c) {
				continue
			}
			seen[c] = true
			nodes = append(nodes, node{id: c, parent: nodes[i].id})
		}
	}
	return nodes, nil
}

// markNodes marks the tokens of nodes pending in one storage commit, which
// also drops the links to tokens that are gone. The caller holds the tree
// lock alone. It returns the entries found, pending now.
func (s *Store) markNodes(ctx context.Context, nodes []node, now time.Time) ([]*Entry, error) {
	var ops []storage.Op
	var found, marked []*Entry
	for _, nd := range nodes {
		e, err := s.load(ctx, nd.id)
		if errors.Is(err, ErrNotFound) {
			if nd.parent != "" {
				ops = append(ops, storage.Op{Key: prefixParent + nd.parent + "/" + nd.id, Delete: true})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		found = append(found, e)
		if e.pending() {
			continue
		}
		e.RevokePending = now
		raw, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("revoke token: encode entry: %w", err)
		}
		// The pending mark goes before the entry that says so.
		ops = append(ops,
			storage.Op{Key: prefixPending + e.ID, Value: []byte{}},
			storage.Op{Key: prefixID + e.ID, Value: raw})
		marked = append(marked, e)
	}
	if len(ops) == 0 {
		return found, nil
	}
	if err := storage.Batch(ctx, s.st, ops); err != nil {
		for _, e := range marked {
			s.cache.Drop(e.ID) // the write may or may not have landed
		}
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	for _, e := range marked {
		s.cache.Set(e.ID, e.clone())
	}
	return found, nil
}

// markPending makes e unusable and records it for Tidy. The caller holds
// e's entry lock, or the tree lock alone.
func (s *Store) markPending(ctx context.Context, e *Entry, now time.Time) error {
	if e.pending() {
		return nil
	}
	e.RevokePending = now
	// The pending mark goes before the entry that says so.
	if err := s.save(ctx, e, storage.Op{Key: prefixPending + e.ID, Value: []byte{}}); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// finishAll finishes the revocation of pending entries, given parents
// before children: it calls OnRevoke for each, children first, and then
// deletes them with their indexes, finishBatch tokens per storage commit.
// It holds the tree lock shared, which keeps out only what holds it alone:
// marking, and creation with a chosen ID, which could otherwise recreate a
// token under the ID being deleted. Before touching a token it checks that
// the stored entry is still the pending one it was given (same accessor),
// so a revocation that lost a race to another one deletes nothing newer.
// Running twice for one token (a racing revocation, Tidy) does no harm. A
// token is deleted only after its OnRevoke succeeded, and its pending mark
// with or after its entry, so a failure or crash at any point leaves
// pending marks for Tidy, never an entry nothing points at. It returns how
// many tokens it deleted.
func (s *Store) finishAll(ctx context.Context, entries []*Entry) (int, error) {
	done := 0
	for end := len(entries); end > 0; {
		start := max(0, end-finishBatch)
		n, err := s.finishSome(ctx, entries[start:end])
		done += n
		if err != nil {
			return done, err
		}
		end = start
	}
	return done, nil
}

// finishSome is finishAll for one batch of entries.
func (s *Store) finishSome(ctx context.Context, entries []*Entry) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ops []storage.Op
	var cleaned []*Entry
	var cleanErr error
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		cur, err := s.load(ctx, e.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && (!cur.pending() || cur.Accessor != e.Accessor)) {
			continue // finished already, and perhaps recreated since
		}
		if err != nil {
			cleanErr = err
			break
		}
		if s.onRevoke != nil {
			if err := s.onRevoke(ctx, e); err != nil {
				cleanErr = fmt.Errorf("revoke token: clean up: %w", err)
				break
			}
		}
		ops = s.appendDeletes(ops, e)
		cleaned = append(cleaned, e)
	}
	if len(ops) > 0 {
		err := storage.Batch(ctx, s.st, ops)
		for _, e := range cleaned {
			s.cache.Drop(e.ID)
		}
		if err != nil {
			return 0, fmt.Errorf("revoke token: %w", err)
		}
	}
	return len(cleaned), cleanErr
}

// appendDeletes appends the deletion of e and its indexes to ops: the
// indexes, then the entry, then the pending mark.
func (s *Store) appendDeletes(ops []storage.Op, e *Entry) []storage.Op {
	ops = append(ops, storage.Op{Key: s.accessorKey(e.Accessor), Delete: true})
	if e.Parent != "" {
		ops = append(ops, storage.Op{Key: prefixParent + e.Parent + "/" + e.ID, Delete: true})
	}
	if !e.ExpireTime.IsZero() {
		ops = append(ops, storage.Op{Key: expireKey(e.ExpireTime, e.ID), Delete: true})
	}
	return append(ops,
		storage.Op{Key: prefixID + e.ID, Delete: true},
		storage.Op{Key: prefixPending + e.ID, Delete: true})
}
