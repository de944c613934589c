package token

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// ErrNotFound is returned when a token, ID or accessor names no valid
// token: it was never issued, has expired, was revoked, or its revocation is
// pending. It never says which. Test for it with errors.Is; it is also a
// permission-denied engine error ("permission denied", 403), which is how
// Vault answers an invalid token, so it is safe to return unchanged.
var ErrNotFound error = &engine.Error{Kind: engine.ErrPermissionDenied, Msg: "permission denied"}

// Server defaults for token TTLs, as Vault's (32 days).
const (
	DefaultTTL = 768 * time.Hour
	MaxTTL     = 768 * time.Hour
)

// pendingGrace is how long Tidy leaves a pending revocation alone. A token
// whose last use was just spent is pending while its final request runs, and
// core revokes it when that request is done; Tidy only finishes what core
// did not.
const pendingGrace = time.Minute

const (
	keySalt        = "salt"
	prefixID       = "id/"
	prefixAccessor = "accessor/"
	prefixParent   = "parent/"
	prefixExpire   = "expire/"
	prefixPending  = "pending/"
	prefixRole     = "role/"
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Rand is the source of tokens, accessors and the salt (default
	// crypto/rand.Reader).
	Rand io.Reader
	// DefaultTTL is the TTL of a token created without one and MaxTTL the
	// longest any token lives since its creation (defaults 768h each;
	// DefaultTTL is capped at MaxTTL).
	DefaultTTL time.Duration
	MaxTTL     time.Duration
	// OnRevoke is called for every token as it is revoked, children before
	// parents, after the token is pending (no lookup accepts it), with the
	// store's tree lock held shared: it must not call back into the Store.
	// Core deletes the token's cubbyhole and revokes its leases. It may run
	// concurrently for different tokens, and more than once for one token
	// (two revocations racing, or Tidy retrying one that failed or was cut
	// short by a crash: the token stays pending until OnRevoke succeeds),
	// so it must be idempotent and safe for concurrent use.
	OnRevoke func(ctx context.Context, e *Entry) error
	// IdentityPolicies, if set, returns the policies a token's entity
	// brings (its own and its groups'), for lookups to show.
	IdentityPolicies func(entityID string) []string
	// OnRenew, if set, is asked before a token is renewed; an error
	// refuses the renewal and is returned as is. Core uses it to let the
	// auth method that issued a token re-check its login (the user or role
	// still exists). It is called without the store's lock held.
	OnRenew func(ctx context.Context, e *Entry) error
	// PolicyExists reports whether a policy is defined; the create
	// endpoint uses it to warn about unknown policies. Nil: no warnings.
	PolicyExists func(ctx context.Context, name string) (bool, error)
}

// Store issues, looks up, renews and revokes tokens. It is safe for
// concurrent use: lookups take no lock; changes take the locks described at
// mu and entries (see locks.go), so a child can never be created under a
// parent that is being revoked, and of racing uses of a token's last use
// exactly one wins.
type Store struct {
	st         storage.Backend
	now        func() time.Time
	rand       io.Reader
	defaultTTL time.Duration
	maxTTL     time.Duration
	onRevoke   func(ctx context.Context, e *Entry) error
	// identityPolicies is Options.IdentityPolicies.
	identityPolicies func(entityID string) []string
	onRenew          func(ctx context.Context, e *Entry) error
	policyExists     func(ctx context.Context, name string) (bool, error)
	salt             []byte

	// mu is the tree lock. Creations of random-ID tokens, uses, renewals
	// and the finishing of revocations hold it shared, so they run
	// concurrently and share storage commits. The marking phase of a
	// revocation holds it alone, as do the rare changes that touch many
	// entries or need a unique ID: creation with a chosen ID, revoke-orphan
	// and role writes.
	mu sync.RWMutex
	// entries locks one token's entry; see locks.go. Always taken after
	// mu (shared), never the other way round.
	entries entryLocks
	// hashers are HMAC-SHA256 states keyed with salt, reused between
	// hashes (building one costs more than hashing a token).
	hashers sync.Pool
	// cache holds decoded entries by ID, written through: every request
	// looks its token up, and a hit costs no storage read, decryption or
	// decoding. Cached entries are never changed; lookups return copies.
	cache *storage.Cache[*Entry]
}

// New opens the token store kept in st, creating the per-cluster salt on
// first use. st is normally the barrier view at "sys/token/".
func New(ctx context.Context, st storage.Backend, opts Options) (*Store, error) {
	s := &Store{
		cache:            storage.NewCache[*Entry](cacheSize),
		st:               st,
		now:              opts.Now,
		rand:             opts.Rand,
		defaultTTL:       opts.DefaultTTL,
		maxTTL:           opts.MaxTTL,
		onRevoke:         opts.OnRevoke,
		identityPolicies: opts.IdentityPolicies,
		policyExists:     opts.PolicyExists,
		onRenew:          opts.OnRenew,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.maxTTL <= 0 {
		s.maxTTL = MaxTTL
	}
	if s.defaultTTL <= 0 {
		s.defaultTTL = DefaultTTL
	}
	s.defaultTTL = min(s.defaultTTL, s.maxTTL)

	salt, err := st.Get(ctx, keySalt)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		salt = make([]byte, 32)
		if _, err := io.ReadFull(s.rand, salt); err != nil {
			return nil, fmt.Errorf("open token store: generate salt: %w", err)
		}
		if err := st.Put(ctx, keySalt, salt); err != nil {
			return nil, fmt.Errorf("open token store: store salt: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("open token store: read salt: %w", err)
	case len(salt) != 32:
		return nil, fmt.Errorf("open token store: salt is %d bytes, want 32", len(salt))
	}
	s.salt = salt
	s.hashers.New = func() any { return &hasher{mac: hmac.New(sha256.New, s.salt)} }
	return s, nil
}

// hasher is a reusable keyed HMAC with a scratch buffer for its input.
type hasher struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// maxHasherBuf bounds the scratch buffer a pooled hasher keeps: tokens and
// accessors are far shorter, and an attacker's megabyte header is not kept.
const maxHasherBuf = 512

// idOf returns the ID a token is stored under.
func (s *Store) idOf(token string) string {
	return s.hash("token", token)
}

// hash is the salted HMAC-SHA256 of value in a domain, hex encoded. The
// domain keeps a token and an accessor with the same text apart.
func (s *Store) hash(domain, value string) string {
	h := s.hashers.Get().(*hasher)
	h.mac.Reset()
	h.buf = append(append(append(h.buf[:0], domain...), 0), value...)
	h.mac.Write(h.buf)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h.mac.Sum(h.sum[:0]))
	// Scrub the pooled copy of the token. (The HMAC's own block buffer may
	// keep a tail of it until the hasher's next use, as the garbage of
	// the request that carried it may.)
	clear(h.buf)
	if cap(h.buf) > maxHasherBuf {
		h.buf = nil
	}
	s.hashers.Put(h)
	return string(out[:])
}

func (s *Store) accessorKey(accessor string) string {
	return prefixAccessor + s.hash("accessor", accessor)
}

// load reads an entry by ID whatever its state (expired or pending).
func (s *Store) load(ctx context.Context, id string) (*Entry, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	if e, ok := s.cache.Get(id); ok {
		return e.clone(), nil
	}
	gen := s.cache.Generation()
	raw, err := s.st.Get(ctx, prefixID+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("read token: decode entry: %w", err)
	}
	s.cache.Fill(id, e.clone(), gen)
	return &e, nil
}

// save writes e, after the writes in before (indexes that must exist
// before the entry says so) in the same storage batch: one commit where
// the storage batches, in order otherwise. The cache follows the outcome.
func (s *Store) save(ctx context.Context, e *Entry, before ...storage.Op) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("write token: encode entry: %w", err)
	}
	ops := append(before[:len(before):len(before)], storage.Op{Key: prefixID + e.ID, Value: raw})
	if err := storage.Batch(ctx, s.st, ops); err != nil {
		s.cache.Drop(e.ID) // the write may or may not have landed
		return fmt.Errorf("write token: %w", err)
	}
	s.cache.Set(e.ID, e.clone())
	return nil
}

// validID reports whether id looks like an ID this store made (64 lowercase
// hex digits), so a crafted ID cannot address another storage key.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Lookup returns the entry of a valid token. It returns ErrNotFound for an
// unknown, expired, revoked or pending token; an expired token is revoked
// on the spot (if that fails, Tidy retries). It costs one storage read for
// a valid token.
func (s *Store) Lookup(ctx context.Context, token string) (*Entry, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	return s.LookupID(ctx, s.idOf(token))
}

// LookupID is Lookup by the token's ID (Entry.ID, Caller.TokenID).
func (s *Store) LookupID(ctx context.Context, id string) (*Entry, error) {
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.check(ctx, e)
}

// LookupAccessor is Lookup by accessor.
func (s *Store) LookupAccessor(ctx context.Context, accessor string) (*Entry, error) {
	id, err := s.accessorID(ctx, accessor)
	if err != nil {
		return nil, err
	}
	return s.LookupID(ctx, id)
}

// check returns e if it is valid now; an expired e is revoked lazily.
func (s *Store) check(ctx context.Context, e *Entry) (*Entry, error) {
	if e.pending() {
		return nil, ErrNotFound
	}
	if e.expired(s.now()) {
		_, _ = s.revoke(ctx, e.ID) // best effort; Tidy retries
		return nil, ErrNotFound
	}
	return e, nil
}

// accessorRecord is the value of an accessor index key.
type accessorRecord struct {
	ID       string `json:"id"`
	Accessor string `json:"accessor"`
}

// accessorID resolves an accessor to the token's ID.
func (s *Store) accessorID(ctx context.Context, accessor string) (string, error) {
	if accessor == "" {
		return "", ErrNotFound
	}
	raw, err := s.st.Get(ctx, s.accessorKey(accessor))
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read accessor: %w", err)
	}
	var rec accessorRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", fmt.Errorf("read accessor: decode: %w", err)
	}
	if rec.Accessor != accessor {
		return "", ErrNotFound
	}
	return rec.ID, nil
}

// Accessors lists the accessors of every stored token, sorted. Tokens that
// expired but are not yet tidied are included. It reads one key per token.
func (s *Store) Accessors(ctx context.Context) ([]string, error) {
	keys, err := s.st.List(ctx, prefixAccessor)
	if err != nil {
		return nil, fmt.Errorf("list accessors: %w", err)
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		raw, err := s.st.Get(ctx, prefixAccessor+k)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list accessors: %w", err)
		}
		var rec accessorRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("list accessors: decode: %w", err)
		}
		out = append(out, rec.Accessor)
	}
	slices.Sort(out)
	return out, nil
}
