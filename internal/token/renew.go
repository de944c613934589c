package token

import (
	"context"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// Renew extends a token's life from now and returns the updated entry.
//
// A token that never expires is returned unchanged. A token that is not
// renewable is a 400. A periodic token is extended to its period; any other
// to increment, or its creation TTL when increment is zero. Either way the
// token never outlives its creation time plus the max TTL (periodic tokens:
// plus the explicit max TTL, if any); renewing past that is a 400. An
// invalid token is ErrNotFound.
func (s *Store) Renew(ctx context.Context, e *Entry, increment time.Duration) (*Entry, error) {
	ne, _, err := s.renew(ctx, e.ID, increment)
	return ne, err
}

// renew is Renew by ID, returning warnings about capped TTLs.
func (s *Store) renew(ctx context.Context, id string, increment time.Duration) (*Entry, []string, error) {
	if s.onRenew != nil {
		e, err := s.LookupID(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if err := s.onRenew(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.entries.of(id)
	l.Lock()
	defer l.Unlock()
	cur, err := s.load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if cur.pending() || cur.expired(now) {
		return nil, nil, ErrNotFound
	}
	if cur.ExpireTime.IsZero() {
		return cur, nil, nil
	}
	if !cur.Renewable {
		return nil, nil, engine.BadRequest("renew token: lease is not renewable")
	}
	ttl, warnings, err := s.calculateTTL(now, ttlRequest{
		start:       cur.CreationTime,
		increment:   increment,
		base:        cur.CreationTTL,
		period:      cur.Period,
		explicitMax: cur.ExplicitMaxTTL,
	})
	if err != nil {
		return nil, nil, engine.BadRequest("renew token: %v", err)
	}
	oldKey := expireKey(cur.ExpireTime, cur.ID)
	cur.ExpireTime = now.Add(ttl)
	cur.LastRenewal = now
	newKey := expireKey(cur.ExpireTime, cur.ID)
	// New index before (or with) the entry: a crash leaves a stale key
	// Tidy drops, never an expiring entry without one.
	var index []storage.Op
	if newKey != oldKey {
		index = append(index, storage.Op{Key: newKey, Value: []byte{}})
	}
	if err := s.save(ctx, cur, index...); err != nil {
		return nil, nil, fmt.Errorf("renew token: %w", err)
	}
	if newKey != oldKey {
		if err := s.st.Delete(ctx, oldKey); err != nil {
			return nil, nil, fmt.Errorf("renew token: %w", err)
		}
	}
	return cur, warnings, nil
}
