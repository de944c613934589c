package core

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/identity"
	"github.com/wardsec/ward/internal/router"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/token"
)

// Options configures a Core. Nil and zero fields take the defaults noted.
type Options struct {
	// Physical is the storage backend under the barrier. Required.
	Physical storage.Backend
	// StorageType names Physical in sys/seal-status ("bolt", "inmem").
	StorageType string
	Logger      *slog.Logger
	// Engines are the secret engine factories by mount type ("kv", "cubbyhole").
	Engines map[string]engine.Factory
	// Credentials are the auth method factories by type ("userpass").
	Credentials map[string]engine.Factory
	// System builds the sys/ engine once core exists.
	System func(*Core) engine.Backend
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
	// DefaultLeaseTTL and MaxLeaseTTL default to 768h.
	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration
	ClusterName     string
	// TidyInterval is how often expired tokens are revoked (default 5s).
	TidyInterval time.Duration
	// AuditTypes are the audit device factories by type ("file", "socket").
	AuditTypes map[string]AuditFactory
	// AuditDevices are the devices the server configuration declares; they
	// are enabled at unseal (Path, Type, Description, Options).
	AuditDevices []AuditEntry
	// Seal is the auto-unseal seal that protects the root key (transit);
	// nil means the Shamir seal, whose key operators hold as shares.
	Seal seal.Seal
	// OldSeal is the auto-unseal seal being migrated away from (a seal
	// block marked disabled); nil when no such migration is configured.
	OldSeal seal.Seal
	// APIAddr and ClusterAddr are the URLs other nodes of an HA cluster
	// use to reach this one: standbys forward client requests to the
	// active node's APIAddr; joiners give their ClusterAddr to raft.
	APIAddr     string
	ClusterAddr string
	// JoinClient makes the calls a joining node sends to the leader
	// (sys/storage/raft/bootstrap/*); nil uses a 10-second http.Client.
	JoinClient *http.Client
}

// Errors core returns besides the engine sentinels.
var (
	// ErrAlreadyInitialized: sys/init on an initialized server (400).
	ErrAlreadyInitialized = engine.Errorf(engine.ErrInvalidRequest, "Vault is already initialized")
	// ErrNotInitialized: unseal before init (400).
	ErrNotInitialized = engine.Errorf(engine.ErrInvalidRequest, "Vault is not initialized")
)

// Core is one Ward server's state. Its methods are safe for concurrent use.
type Core struct {
	opts     Options
	log      *slog.Logger
	physical storage.Backend
	barrier  *barrier.Barrier

	// lifecycle serializes init, unseal, seal, rotation and the HA
	// transitions.
	lifecycle sync.Mutex
	unsealing unsealProgress

	// ha is the storage when it is replicated (raft), else nil. local
	// reads this node's own copy: ha.Local(), or physical.
	ha    storage.HA
	local storage.Backend
	// hastate is this node's HA state; see ha.go. Guarded by lifecycle,
	// except standby, which the request path reads.
	hastate haState
	// joinChallenges are the raft join answers an active node expects.
	joinChallenges challenges

	// active holds everything that exists only while unsealed; nil while
	// sealed, so the request path needs no lock to see the seal state.
	active atomic.Pointer[unsealed]
}

// unsealed is the state built at unseal and dropped at seal.
type unsealed struct {
	mounts   *mountTable
	router   *router.Router[*mount]
	tokens   *token.Store
	identity *identity.Store
	policies *policyStore
	// auditTable lists the audit devices; audit writes to them.
	auditTable *auditTable
	audit      *audit.Broker
	// clusterID is a random ID created at first unseal.
	clusterID string
	// rootGen is the generate-root attempt in progress; sealing ends it.
	rootGen rootGeneration
	// ctx is cancelled when the server seals; background work stops.
	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// New returns a sealed Core over opts.Physical.
func New(opts Options) (*Core, error) {
	if opts.Physical == nil {
		return nil, errors.New("core: new: Physical storage is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.DefaultLeaseTTL == 0 {
		opts.DefaultLeaseTTL = 768 * time.Hour
	}
	if opts.MaxLeaseTTL == 0 {
		opts.MaxLeaseTTL = 768 * time.Hour
	}
	if opts.TidyInterval == 0 {
		opts.TidyInterval = 5 * time.Second
	}
	c := &Core{
		opts:     opts,
		log:      opts.Logger,
		physical: opts.Physical,
		local:    opts.Physical,
		barrier:  barrier.New(opts.Physical, &barrier.Options{Rand: opts.Rand, Clock: opts.Now}),
	}
	if ha, ok := opts.Physical.(storage.HA); ok {
		c.ha, c.local = ha, ha.Local()
	}
	return c, nil
}

// Sealed reports whether the core is sealed: neither active nor an
// unsealed HA standby.
func (c *Core) Sealed() bool { return c.active.Load() == nil && !c.hastate.standby.Load() }

// state returns the unsealed state or ErrSealed.
func (c *Core) state() (*unsealed, error) {
	s := c.active.Load()
	if s == nil {
		return nil, engine.ErrSealed
	}
	return s, nil
}
