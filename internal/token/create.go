package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// Prefix starts every token the store generates.
const Prefix = "ws."

const (
	tokenChars    = 40 // ≈238 bits
	accessorChars = 24 // ≈143 bits
	base62        = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Create issues a token and returns it with its entry. The token string is
// returned once and never stored.
//
// Create sanitizes the policies (see CreateParams), applies the TTL rules
// (default TTL, max TTL since creation, explicit max, period; a root-policy
// token with none of them never expires) and files the token under its
// parent. It fails with a 400 engine error for a bad custom ID, negative
// num_uses or a duplicate ID, and with ErrNotFound when Parent names no
// valid token. Core uses it for the root token, login tokens and
// response-wrapping tokens (policy "response-wrapping", NumUses 1, TTL the
// wrap TTL, no parent).
func (s *Store) Create(ctx context.Context, p CreateParams) (string, *Entry, error) {
	token, e, _, err := s.create(ctx, p)
	return token, e, err
}

// CreateRoot issues a root token: policy root, path "auth/token/root",
// display name "root", no parent, never expires. Core calls it at init and
// generate-root.
func (s *Store) CreateRoot(ctx context.Context) (string, error) {
	token, _, err := s.Create(ctx, CreateParams{
		Policies:    []string{"root"},
		Path:        "auth/token/root",
		DisplayName: "root",
	})
	return token, err
}

// CreateRootWithID is CreateRoot with a chosen token (dev mode's
// -dev-root-token-id); id must pass the custom-ID rules of CreateParams.
func (s *Store) CreateRootWithID(ctx context.Context, id string) (string, error) {
	token, _, err := s.Create(ctx, CreateParams{
		ID:          id,
		Policies:    []string{"root"},
		Path:        "auth/token/root",
		DisplayName: "root",
	})
	return token, err
}

// create is Create returning the warnings the create endpoint shows.
func (s *Store) create(ctx context.Context, p CreateParams) (string, *Entry, []string, error) {
	if p.NumUses < 0 {
		return "", nil, nil, engine.BadRequest("create token: number of uses cannot be negative")
	}
	if p.ID != "" {
		if err := validCustomID(p.ID); err != nil {
			return "", nil, nil, &engine.InputError{Field: "id", Rule: err.Error()}
		}
	}
	if p.Orphan {
		p.Parent = ""
	}
	now := s.now()
	e := &Entry{
		Parent:         p.Parent,
		Policies:       sanitizePolicies(p.Policies, false),
		Path:           p.Path,
		DisplayName:    p.DisplayName,
		NumUses:        p.NumUses,
		CreationTime:   now,
		ExplicitMaxTTL: p.ExplicitMaxTTL,
		Period:         p.Period,
		Renewable:      p.Renewable,
		EntityID:       p.EntityID,
		Type:           TypeService,
		Orphan:         p.Parent == "",
		Role:           p.Role,
		BoundCIDRs:     slices.Clone(p.BoundCIDRs),
	}
	if len(p.Meta) > 0 {
		e.Meta = maps.Clone(p.Meta)
	}

	var warnings []string
	ttl := p.TTL
	if p.Period > 0 || p.TTL > 0 || !e.IsRoot() {
		var err error
		ttl, warnings, err = s.calculateTTL(now, ttlRequest{start: now, base: p.TTL, period: p.Period, explicitMax: p.ExplicitMaxTTL})
		if err != nil {
			return "", nil, nil, engine.BadRequest("create token: %v", err)
		}
	}
	if ttl == 0 && p.ExplicitMaxTTL > 0 {
		ttl = p.ExplicitMaxTTL
	}
	e.CreationTTL = ttl
	if ttl > 0 {
		e.ExpireTime = now.Add(ttl)
	}

	token := p.ID
	if token == "" {
		var err error
		if token, err = randomString(s.rand, Prefix, tokenChars); err != nil {
			return "", nil, nil, fmt.Errorf("create token: %w", err)
		}
	}
	e.ID = s.idOf(token)
	accessor, err := randomString(s.rand, "", accessorChars)
	if err != nil {
		return "", nil, nil, fmt.Errorf("create token: %w", err)
	}
	e.Accessor = accessor

	// A chosen ID is checked for uniqueness and then written: that needs
	// the tree lock alone. Random IDs cannot collide, so creations share
	// it, and hold the parent's entry lock shared so that the parent's
	// revocation waits for them (see locks.go).
	if p.ID != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if p.Parent != "" {
			l := s.entries.of(p.Parent)
			l.RLock()
			defer l.RUnlock()
		}
	}
	if p.Parent != "" {
		parent, err := s.load(ctx, p.Parent)
		if err != nil {
			return "", nil, nil, fmt.Errorf("create token: parent: %w", err)
		}
		if parent.pending() || parent.expired(now) {
			return "", nil, nil, fmt.Errorf("create token: parent: %w", ErrNotFound)
		}
	}
	if p.ID != "" {
		_, err := s.st.Get(ctx, prefixID+e.ID)
		if err == nil {
			return "", nil, nil, engine.BadRequest("create token: a token with this ID already exists")
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return "", nil, nil, fmt.Errorf("create token: %w", err)
		}
	}
	if err := s.insert(ctx, e); err != nil {
		return "", nil, nil, err
	}
	return token, e, warnings, nil
}

// insert writes e's indexes and e in one batch: atomically where the
// storage batches, and otherwise indexes first, so that a failure part way
// leaves indexes pointing at nothing, which Tidy and the revoke paths
// clean up; never an entry that Tidy cannot find.
func (s *Store) insert(ctx context.Context, e *Entry) error {
	rec, err := json.Marshal(accessorRecord{ID: e.ID, Accessor: e.Accessor})
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	ops := []storage.Op{{Key: s.accessorKey(e.Accessor), Value: rec}}
	if e.Parent != "" {
		ops = append(ops, storage.Op{Key: prefixParent + e.Parent + "/" + e.ID, Value: []byte{}})
	}
	if !e.ExpireTime.IsZero() {
		ops = append(ops, storage.Op{Key: expireKey(e.ExpireTime, e.ID), Value: []byte{}})
	}
	if err := s.save(ctx, e, ops...); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// randomString returns prefix followed by n uniformly random base62
// characters read from r.
func randomString(r io.Reader, prefix string, n int) (string, error) {
	out := make([]byte, len(prefix), len(prefix)+n)
	copy(out, prefix)
	buf := make([]byte, n+n/4+8)
	for len(out) < len(prefix)+n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("read randomness: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character
			// equally likely.
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == len(prefix)+n {
				break
			}
		}
	}
	return string(out), nil
}
