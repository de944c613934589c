package token

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Tidy revokes expired tokens (with their subtrees) and finishes pending
// revocations older than a minute, and drops index keys that point at
// nothing. It returns how many tokens it revoked. When nothing is due it
// costs at most three storage lists and no reads. Core calls it every few
// seconds; it keeps going past a failing token and returns the errors
// joined.
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

// tidyPending finishes the revocation of id if it has been pending longer
// than pendingGrace, and drops a pending mark whose entry is gone.
func (s *Store) tidyPending(ctx context.Context, id string) (int, error) {
	due, err := s.checkIndex(ctx, prefixPending+id, id, func(e *Entry) (bool, bool) {
		return false, e.pending() && s.now().Sub(e.RevokePending) >= pendingGrace
	})
	if err != nil || !due {
		return 0, err
	}
	return s.revoke(ctx, id)
}

// tidyExpired revokes id if its expiry index key is key and it has
// expired, and drops the key if it is stale (the token is gone or was
// renewed since the key was written).
func (s *Store) tidyExpired(ctx context.Context, key, id string, now time.Time) (int, error) {
	due, err := s.checkIndex(ctx, key, id, func(e *Entry) (bool, bool) {
		if e.ExpireTime.IsZero() || expireKey(e.ExpireTime, e.ID) != key {
			return true, false // renewed since this key was written
		}
		return false, e.expired(now) // not expired: due later this second
	})
	if err != nil || !due {
		return 0, err
	}
	return s.revoke(ctx, id)
}

// checkIndex asks decide about id's entry, for the index key key: decide
// says whether key is stale (and is deleted) and whether id is due for
// revocation. A key whose entry is gone is stale. It holds id's entry lock,
// so that no renewal or use changes the entry between the read and the
// deletion of a key the change just made current.
func (s *Store) checkIndex(ctx context.Context, key, id string, decide func(*Entry) (stale, due bool)) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.entries.of(id)
	l.Lock()
	defer l.Unlock()
	e, err := s.load(ctx, id)
	stale, due := false, false
	switch {
	case errors.Is(err, ErrNotFound):
		stale = true
	case err != nil:
		return false, err
	default:
		stale, due = decide(e)
	}
	if stale {
		if err := s.st.Delete(ctx, key); err != nil {
			return false, fmt.Errorf("tidy tokens: %w", err)
		}
	}
	return due, nil
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
		n, err := s.revoke(ctx, id)
		revoked += n
		if err != nil {
			return revoked, fmt.Errorf("revoke tokens under %s: %w", prefix, err)
		}
	}
	return revoked, nil
}
