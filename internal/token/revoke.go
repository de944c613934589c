package token

import (
	"context"
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
	s.mu.Lock()
	defer s.mu.Unlock()
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

// Revoke revokes the token with this ID and every token below it, children
// first, calling OnRevoke for each. Revoking an unknown token is not an
// error. If a step fails the remaining tokens stay pending: none of them is
// accepted again, and Tidy finishes the job.
func (s *Store) Revoke(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.revokeTree(ctx, id)
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
// orphans (Parent cleared, Orphan set) and keep working. An unknown token is
// ErrNotFound.
func (s *Store) RevokeOrphan(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := s.markPending(ctx, e, s.now()); err != nil {
		return err
	}
	children, err := s.st.List(ctx, prefixParent+id+"/")
	if err != nil {
		return fmt.Errorf("revoke token: list children: %w", err)
	}
	for _, c := range children {
		if strings.HasSuffix(c, "/") {
			continue
		}
		child, err := s.load(ctx, c)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			child.Parent = ""
			child.Orphan = true
			if err := s.save(ctx, child); err != nil {
				return fmt.Errorf("revoke token: orphan child: %w", err)
			}
		}
		if err := s.st.Delete(ctx, prefixParent+id+"/"+c); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
	}
	return s.finish(ctx, e)
}

// node is one token of a subtree being revoked.
type node struct{ id, parent string }

// revokeTree revokes id's subtree; s.mu must be held. It returns how many
// tokens it revoked.
func (s *Store) revokeTree(ctx context.Context, id string) (int, error) {
	var order []node
	if err := s.subtree(ctx, node{id: id}, &order, map[string]bool{}); err != nil {
		return 0, err
	}
	now := s.now()
	entries := make([]*Entry, 0, len(order))
	for _, nd := range order {
		e, err := s.load(ctx, nd.id)
		if errors.Is(err, ErrNotFound) {
			// A link to a token that is gone: drop it.
			if nd.parent != "" {
				if err := s.st.Delete(ctx, prefixParent+nd.parent+"/"+nd.id); err != nil {
					return 0, fmt.Errorf("revoke token: %w", err)
				}
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := s.markPending(ctx, e, now); err != nil {
			return 0, err
		}
		entries = append(entries, e)
	}
	for i, e := range entries {
		if err := s.finish(ctx, e); err != nil {
			return i, err
		}
	}
	return len(entries), nil
}

// subtree appends nd's descendants and then nd to out (post-order).
func (s *Store) subtree(ctx context.Context, nd node, out *[]node, seen map[string]bool) error {
	if seen[nd.id] || !validID(nd.id) {
		return nil
	}
	seen[nd.id] = true
	children, err := s.st.List(ctx, prefixParent+nd.id+"/")
	if err != nil {
		return fmt.Errorf("revoke token: list children: %w", err)
	}
	for _, c := range children {
		if strings.HasSuffix(c, "/") {
			continue
		}
		if err := s.subtree(ctx, node{id: c, parent: nd.id}, out, seen); err != nil {
			return err
		}
	}
	*out = append(*out, nd)
	return nil
}

// markPending makes e unusable and records it for Tidy.
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

// finish calls OnRevoke for a pending e and deletes it with its indexes.
// The entry goes before the pending mark, so a crash in between leaves a
// mark Tidy drops rather than an entry nothing points at.
func (s *Store) finish(ctx context.Context, e *Entry) error {
	if s.onRevoke != nil {
		if err := s.onRevoke(ctx, e); err != nil {
			return fmt.Errorf("revoke token: clean up: %w", err)
		}
	}
	keys := []string{s.accessorKey(e.Accessor)}
	if e.Parent != "" {
		keys = append(keys, prefixParent+e.Parent+"/"+e.ID)
	}
	if !e.ExpireTime.IsZero() {
		keys = append(keys, expireKey(e.ExpireTime, e.ID))
	}
	keys = append(keys, prefixID+e.ID, prefixPending+e.ID)
	defer s.cache.Drop(e.ID)
	ops := make([]storage.Op, len(keys))
	for i, k := range keys {
		ops[i] = storage.Op{Key: k, Delete: true}
	}
	if err := storage.Batch(ctx, s.st, ops); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// Tidy revokes expired tokens (with their subtrees) and finishes pending
// revocations older than a minute, and drops index keys that point at
// nothing. It returns how many tokens it revoked. When nothing is due it
// costs at most three storage lists and no reads. Core calls it every few seconds; it keeps going
// past a failing token and returns the errors joined.
func (s *Store) Tidy(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	pend, err := s.st.List(ctx, prefixPending)
	if err != nil {
		return 0, fmt.Errorf("tidy tokens: %w", err)
	}
	for _, id := range pend {
		if strings.HasSuffix(id, "/") {
			continue
		}
		k, err := s.tidyPending(ctx, id)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}

	now := s.now()
	buckets, err := s.st.List(ctx, prefixExpire)
	if err != nil {
		return n, fmt.Errorf("tidy tokens: %w", err)
	}
	for _, b := range buckets {
		var hour int64
		if _, err := fmt.Sscanf(b, "%d/", &hour); err != nil || !strings.HasSuffix(b, "/") {
			continue
		}
		if hour*3600 > now.Unix() {
			break
		}
		items, err := s.st.List(ctx, prefixExpire+b)
		if err != nil {
			return n, fmt.Errorf("tidy tokens: %w", err)
		}
		for _, it := range items {
			unix, id, ok := parseExpireItem(it)
			if !ok {
				continue
			}
			if unix > now.Unix() {
				break
			}
			k, err := s.tidyExpired(ctx, prefixExpire+b+it, id, now)
			n += k
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("tidy tokens: %w", errors.Join(errs...))
	}
	return n, nil
}

func parseExpireItem(it string) (unix int64, id string, ok bool) {
	num, id, found := strings.Cut(it, "-")
	if !found || len(num) != 12 {
		return 0, "", false
	}
	if _, err := fmt.Sscanf(num, "%d", &unix); err != nil {
		return 0, "", false
	}
	return unix, id, true
}

func (s *Store) tidyPending(ctx context.Context, id string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return 0, s.st.Delete(ctx, prefixPending+id)
	}
	if err != nil {
		return 0, err
	}
	if !e.pending() || s.now().Sub(e.RevokePending) < pendingGrace {
		return 0, nil
	}
	return s.revokeTree(ctx, id)
}

func (s *Store) tidyExpired(ctx context.Context, key, id string, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return 0, s.st.Delete(ctx, key)
	}
	if err != nil {
		return 0, err
	}
	if e.ExpireTime.IsZero() || expireKey(e.ExpireTime, e.ID) != key {
		// Renewed since this key was written.
		return 0, s.st.Delete(ctx, key)
	}
	if !e.expired(now) {
		return 0, nil // due later this second
	}
	return s.revokeTree(ctx, id)
}

// RevokeCreatedUnder revokes every token whose creation path starts with
// prefix ("auth/userpass/"), with its children: what disabling an auth
// method does to the tokens it issued. It walks every token, so it is for
// rare administrative changes, not request paths.
func (s *Store) RevokeCreatedUnder(ctx context.Context, prefix string) (int, error) {
	ids, err := s.st.List(ctx, prefixID)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens under %s: %w", prefix, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	revoked := 0
	for _, id := range ids {
		e, err := s.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // already gone with a parent
		}
		if err != nil {
			return revoked, fmt.Errorf("revoke tokens under %s: %w", prefix, err)
		}
		if !strings.HasPrefix(e.Path, prefix) {
			continue
		}
		n, err := s.revokeTree(ctx, id)
		revoked += n
		if err != nil {
			return revoked, fmt.Errorf("revoke tokens under %s: %w", prefix, err)
		}
	}
	return revoked, nil
}
