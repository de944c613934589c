package barrier

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// KeyringPath is the physical key holding the encrypted keyring.
const KeyringPath = "core/keyring"

// reservedPrefix holds the seal's physical records (config, wrapped root
// key), which are not barrier ciphertext.
const reservedPrefix = "core/seal/"

// HAPrefix holds plaintext HA records beside the barrier (the active
// node's address), which standbys read without the keyring.
const HAPrefix = "core/ha/"

// Errors returned by the Barrier. Other errors (physical failures, corrupt
// values) wrap their cause.
var (
	// ErrSealed is returned by every storage operation, and by Rotate and
	// Reload, while the barrier is sealed. Its text contains "Vault is
	// sealed", which Vault clients look for.
	ErrSealed = errors.New("barrier: Vault is sealed")

	// ErrBadKey is returned by Unseal when the root key does not open the
	// keyring.
	ErrBadKey = errors.New("barrier: root key does not open the keyring")

	// ErrNotInitialized is returned by Unseal when no keyring is stored.
	ErrNotInitialized = errors.New("barrier: not initialized")

	// ErrAlreadyInitialized is returned by Initialize when a keyring is
	// already stored.
	ErrAlreadyInitialized = errors.New("barrier: already initialized")

	// ErrReservedKey is returned by Get, Put and Delete on a key the barrier
	// keeps for itself or the seal (see the package documentation).
	ErrReservedKey = errors.New("barrier: key is reserved")
)

// Options tune a Barrier. A nil *Options, or a zero field, means the default.
type Options struct {
	// Rand supplies key material and nonces. Default crypto/rand.Reader.
	Rand io.Reader
	// Clock stamps key install times. Default time.Now.
	Clock func() time.Time
}

// Status describes the active key term.
type Status struct {
	Term        uint32
	InstallTime time.Time
	// Encryptions counts values sealed under this term since it became
	// active on this node (unseal, rotation or reload).
	Encryptions uint64
}

// Barrier encrypts values on their way to a physical backend. It implements
// storage.Backend while unsealed. All methods are safe for concurrent use.
type Barrier struct {
	physical storage.Backend
	rand     io.Reader
	clock    func() time.Time

	mu    sync.Mutex              // serializes lifecycle changes
	state atomic.Pointer[keyring] // nil while sealed
}

var _ storage.Backend = (*Barrier)(nil)

// New returns a sealed Barrier over physical.
func New(physical storage.Backend, opts *Options) *Barrier {
	b := &Barrier{physical: physical, rand: rand.Reader, clock: time.Now}
	if opts != nil {
		if opts.Rand != nil {
			b.rand = opts.Rand
		}
		if opts.Clock != nil {
			b.clock = opts.Clock
		}
	}
	return b
}

// String describes the barrier without any key material.
func (b *Barrier) String() string {
	if b.Sealed() {
		return "barrier.Barrier{sealed}"
	}
	return "barrier.Barrier{unsealed}"
}

// Initialized reports whether a keyring is stored in the physical backend.
func (b *Barrier) Initialized(ctx context.Context) (bool, error) {
	_, err := b.physical.Get(ctx, KeyringPath)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("barrier: check initialized: %w", err)
	}
}

// Initialize creates a keyring with one key (term 1), encrypts it under
// rootKey (32 bytes) and stores it. The barrier stays sealed; call Unseal
// next. It fails with ErrAlreadyInitialized if a keyring exists. Initialize
// does not keep rootKey.
func (b *Barrier) Initialize(ctx context.Context, rootKey []byte) error {
	if len(rootKey) != keySize {
		return fmt.Errorf("barrier: initialize: root key has %d bytes, want %d", len(rootKey), keySize)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ok, err := b.Initialized(ctx)
	if err != nil {
		return fmt.Errorf("barrier: initialize: %w", err)
	}
	if ok {
		return ErrAlreadyInitialized
	}
	k, err := b.newTermKey(1)
	if err != nil {
		return fmt.Errorf("barrier: initialize: %w", err)
	}
	kr := &keyring{rootKey: rootKey, active: k, terms: map[uint32]*termKey{1: k}}
	defer clear(k.key)
	if err := b.persist(ctx, kr); err != nil {
		return fmt.Errorf("barrier: initialize: %w", err)
	}
	return nil
}

// Unseal reads the keyring and opens it with rootKey, after which storage
// operations work. Errors: ErrNotInitialized when no keyring is stored,
// ErrBadKey when rootKey does not open it. Unsealing an unsealed barrier
// does nothing and returns nil. The barrier keeps a copy of rootKey (to
// rewrite the keyring on Rotate) until Seal.
func (b *Barrier) Unseal(ctx context.Context, rootKey []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() != nil {
		return nil
	}
	if len(rootKey) != keySize {
		return ErrBadKey
	}
	kr, err := b.load(ctx, rootKey)
	if err != nil {
		return err
	}
	b.state.Store(kr)
	return nil
}

// Seal drops the keyring and root key, zeroing their bytes, and makes every
// storage operation fail with ErrSealed. Sealing a sealed barrier does
// nothing.
func (b *Barrier) Seal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if kr := b.state.Swap(nil); kr != nil {
		kr.zero()
	}
}

// Sealed reports whether the barrier is sealed.
func (b *Barrier) Sealed() bool {
	return b.state.Load() == nil
}

// Rotate adds a key term, stores the new keyring, and makes the term active
// for new writes; values under earlier terms stay readable. It returns the
// new term. If storing the keyring fails the barrier keeps its old keyring.
func (b *Barrier) Rotate(ctx context.Context) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kr := b.state.Load()
	if kr == nil {
		return 0, ErrSealed
	}
	last := kr.maxTerm()
	if last == math.MaxUint32 {
		return 0, errors.New("barrier: rotate: key terms exhausted")
	}
	k, err := b.newTermKey(last + 1)
	if err != nil {
		return 0, fmt.Errorf("barrier: rotate: %w", err)
	}
	next := kr.withTerm(k)
	if err := b.persist(ctx, next); err != nil {
		clear(k.key)
		return 0, fmt.Errorf("barrier: rotate: %w", err)
	}
	b.state.Store(next)
	return k.term, nil
}

// Reload rereads the keyring from the physical backend with the root key
// already held, picking up a rotation made by another node sharing the
// storage. It fails with ErrSealed while sealed.
func (b *Barrier) Reload(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.state.Load()
	if old == nil {
		return ErrSealed
	}
	kr, err := b.load(ctx, old.rootKey)
	if err != nil {
		return fmt.Errorf("barrier: reload: %w", err)
	}
	b.state.Store(kr)
	old.zero()
	return nil
}

// KeyStatus describes the active key term. While sealed it returns the zero
// Status (term 0, which is never a real term).
func (b *Barrier) KeyStatus() Status {
	kr := b.state.Load()
	if kr == nil {
		return Status{}
	}
	return Status{
		Term:        kr.active.term,
		InstallTime: kr.active.installed,
		Encryptions: kr.encryptions.Load(),
	}
}

// newTermKey generates a random key for term.
func (b *Barrier) newTermKey(term uint32) (*termKey, error) {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(b.rand, key); err != nil {
		return nil, fmt.Errorf("read random key: %w", err)
	}
	return newTermKey(term, key, b.clock().UTC())
}

// persist encrypts kr under its root key and writes it to KeyringPath.
func (b *Barrier) persist(ctx context.Context, kr *keyring) error {
	blob, err := kr.encode(b.rand)
	if err != nil {
		return err
	}
	if err := b.physical.Put(ctx, KeyringPath, blob); err != nil {
		return fmt.Errorf("store keyring: %w", err)
	}
	return nil
}

// load reads and decrypts the stored keyring with rootKey.
func (b *Barrier) load(ctx context.Context, rootKey []byte) (*keyring, error) {
	blob, err := b.physical.Get(ctx, KeyringPath)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, fmt.Errorf("barrier: read keyring: %w", err)
	}
	kr, err := decodeKeyring(rootKey, blob)
	if errors.Is(err, ErrBadKey) {
		return nil, ErrBadKey
	}
	if err != nil {
		return nil, fmt.Errorf("barrier: %w", err)
	}
	return kr, nil
}
