package core

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/shamir"
	"github.com/wardsec/ward/internal/storage"
)

// keySize is the size of the root key and of the unseal key the shares
// combine to.
const keySize = 32

// unsealProgress holds the shares given so far; guarded by Core.lifecycle.
// count mirrors len(shares) so that seal-status and health never wait on
// an unseal in progress.
type unsealProgress struct {
	shares [][]byte
	count  atomic.Int32
}

func (p *unsealProgress) add(share []byte) {
	p.shares = append(p.shares, share)
	p.count.Store(int32(len(p.shares)))
}

func (p *unsealProgress) reset() {
	for _, s := range p.shares {
		clear(s)
	}
	p.shares = nil
	p.count.Store(0)
}

// Initialized reports whether the server has been initialized. The seal
// configuration is written last by Init, so it marks a finished one.
func (c *Core) Initialized(ctx context.Context) (bool, error) {
	cfg, err := seal.LoadConfig(ctx, c.physical)
	return cfg != nil, err
}

// Init initializes a new server: it creates the root key and the barrier's
// keyring, splits an unseal key into shares, and issues the first root
// token. The server stays sealed, as Vault's does.
func (c *Core) Init(ctx context.Context, req api.InitRequest) (*api.InitResponse, error) {
	if err := validateInit(req); err != nil {
		return nil, err
	}
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	if ok, err := c.Initialized(ctx); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	} else if ok {
		return nil, ErrAlreadyInitialized
	}
	if partial, err := c.barrier.Initialized(ctx); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	} else if partial {
		return nil, errors.New("init: an earlier initialization did not finish; start again with empty storage")
	}

	rootKey, err := c.randomKey()
	if err != nil {
		return nil, err
	}
	defer clear(rootKey)
	unsealKey, err := c.randomKey()
	if err != nil {
		return nil, err
	}
	defer clear(unsealKey)
	shares, err := shamir.Split(unsealKey, req.SecretShares, req.SecretThreshold)
	if err != nil {
		return nil, fmt.Errorf("init: split unseal key: %w", err)
	}

	if err := c.barrier.Initialize(ctx, rootKey); err != nil {
		return nil, fmt.Errorf("init: barrier: %w", err)
	}
	blob, err := seal.NewShamir(unsealKey).Wrap(ctx, rootKey)
	if err != nil {
		return nil, fmt.Errorf("init: wrap root key: %w", err)
	}
	if err := seal.StoreRootKey(ctx, c.physical, blob); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}

	// Unseal once to lay down the default mounts and policies and issue the
	// root token, then seal again.
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	s, err := c.setup(ctx)
	if err != nil {
		c.barrier.Seal()
		return nil, fmt.Errorf("init: %w", err)
	}
	root, err := s.tokens.CreateRoot(ctx)
	c.teardown(s)
	c.barrier.Seal()
	if err != nil {
		return nil, fmt.Errorf("init: root token: %w", err)
	}
	// The seal config is written last: it marks a complete initialization.
	cfg := &seal.Config{Type: "shamir", SecretShares: req.SecretShares, SecretThreshold: req.SecretThreshold}
	if err := seal.StoreConfig(ctx, c.physical, cfg); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}

	resp := &api.InitResponse{RootToken: root}
	for _, sh := range shares {
		resp.Keys = append(resp.Keys, hex.EncodeToString(sh))
		resp.KeysBase64 = append(resp.KeysBase64, base64.StdEncoding.EncodeToString(sh))
		clear(sh)
	}
	c.log.Info("core: initialized", "shares", req.SecretShares, "threshold", req.SecretThreshold)
	return resp, nil
}

func validateInit(req api.InitRequest) error {
	switch {
	case len(req.PGPKeys) > 0 || req.RootTokenPGPKey != "":
		return engine.BadRequest("pgp_keys and root_token_pgp_key are not supported")
	case req.RecoveryShares != 0 || req.RecoveryThreshold != 0:
		return engine.BadRequest("recovery_shares and recovery_threshold are only valid with an auto-unseal seal; this server uses a shamir seal")
	case req.SecretShares < 1 || req.SecretShares > 255:
		return &engine.InputError{Field: "secret_shares", Rule: "must be between 1 and 255"}
	case req.SecretThreshold < 1 || req.SecretThreshold > req.SecretShares:
		return &engine.InputError{Field: "secret_threshold", Rule: "must be between 1 and secret_shares"}
	case req.SecretShares > 1 && req.SecretThreshold == 1:
		return &engine.InputError{Field: "secret_threshold", Rule: "must be greater than one for multiple shares"}
	}
	return nil
}

func (c *Core) randomKey() ([]byte, error) {
	k := make([]byte, keySize)
	if _, err := io.ReadFull(c.opts.Rand, k); err != nil {
		return nil, fmt.Errorf("core: read random key: %w", err)
	}
	return k, nil
}

// shareSize is the length of every unseal key share: the unseal key's
// bytes plus shamir's x-coordinate.
const shareSize = keySize + 1

// decodeShare accepts a share in hex or standard base64, as Vault does. A
// share of the wrong length is refused at once, so garbage never counts
// towards unseal progress.
func decodeShare(key string) ([]byte, error) {
	key = strings.TrimSpace(key)
	b, err := hex.DecodeString(key)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(key); err != nil {
			return nil, &engine.InputError{Field: "key", Rule: "must be a hex or base64 encoded unseal key share"}
		}
	}
	if len(b) != shareSize {
		clear(b)
		return nil, &engine.InputError{Field: "key", Rule: fmt.Sprintf("must be an unseal key share of %d bytes", shareSize)}
	}
	return b, nil
}

// Unseal adds one share. Once the threshold is reached it combines them,
// opens the root key and unseals; a wrong set of shares resets progress.
// Calling it while unsealed just returns the status.
func (c *Core) Unseal(ctx context.Context, key string) (*api.SealStatus, error) {
	if c.active.Load() != nil {
		return c.SealStatus(ctx)
	}
	share, err := decodeShare(key)
	if err != nil {
		return nil, err
	}
	c.lifecycle.Lock()
	err = c.addShare(ctx, share)
	c.lifecycle.Unlock()
	if err != nil {
		return nil, err
	}
	return c.SealStatus(ctx)
}

func (c *Core) addShare(ctx context.Context, share []byte) error {
	if c.active.Load() != nil {
		return nil
	}
	cfg, err := seal.LoadConfig(ctx, c.physical)
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	if cfg == nil {
		return ErrNotInitialized
	}
	for _, s := range c.unsealing.shares {
		if subtle.ConstantTimeCompare(s, share) == 1 {
			return nil // the same share twice makes no progress
		}
	}
	c.unsealing.add(share)
	if len(c.unsealing.shares) < cfg.SecretThreshold {
		return nil
	}
	defer c.unsealing.reset()

	unsealKey, err := shamir.Combine(c.unsealing.shares)
	if err != nil {
		return engine.BadRequest("unseal failed: the key shares do not combine (%v); progress reset", err)
	}
	defer clear(unsealKey)
	blob, err := seal.LoadRootKey(ctx, c.physical)
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	rootKey, err := seal.NewShamir(unsealKey).Unwrap(ctx, blob)
	if err != nil {
		return engine.BadRequest("unseal failed: invalid key; progress reset")
	}
	defer clear(rootKey)
	return c.unsealWithRootKey(ctx, rootKey)
}

func (c *Core) unsealWithRootKey(ctx context.Context, rootKey []byte) error {
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		if errors.Is(err, barrier.ErrBadKey) {
			return engine.BadRequest("unseal failed: invalid key; progress reset")
		}
		return fmt.Errorf("unseal: %w", err)
	}
	s, err := c.setup(ctx)
	if err != nil {
		c.barrier.Seal()
		return fmt.Errorf("unseal: %w", err)
	}
	c.startBackground(s)
	c.active.Store(s)
	c.log.Info("core: unsealed")
	return nil
}

// ResetUnseal discards the shares given so far.
func (c *Core) ResetUnseal(ctx context.Context) (*api.SealStatus, error) {
	if c.active.Load() != nil {
		return nil, engine.BadRequest("vault is unsealed; there is no unseal progress to reset")
	}
	c.lifecycle.Lock()
	c.unsealing.reset()
	c.lifecycle.Unlock()
	return c.SealStatus(ctx)
}

// Seal drops every key from memory. Requests in flight finish or fail with
// ErrSealed; new ones get ErrSealed.
func (c *Core) Seal() {
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	s := c.active.Swap(nil)
	if s == nil {
		return
	}
	c.teardown(s)
	c.barrier.Seal()
	c.log.Info("core: sealed")
}

// SealStatus answers sys/seal-status.
func (c *Core) SealStatus(ctx context.Context) (*api.SealStatus, error) {
	active := c.active.Load()
	st := &api.SealStatus{
		Type:        "shamir",
		Sealed:      active == nil,
		Version:     api.Version,
		StorageType: c.opts.StorageType,
	}
	cfg, err := seal.LoadConfig(ctx, c.physical)
	if err != nil {
		return nil, fmt.Errorf("seal status: %w", err)
	}
	if cfg != nil {
		st.Initialized = true
		st.T, st.N = cfg.SecretThreshold, cfg.SecretShares
	}
	if !st.Sealed {
		st.ClusterName = c.clusterName()
		st.ClusterID = active.clusterID
	} else {
		st.Progress = int(c.unsealing.count.Load())
	}
	return st, nil
}

// Rotate adds a new barrier key term; new writes use it, old data stays
// readable.
func (c *Core) Rotate(ctx context.Context) error {
	if _, err := c.state(); err != nil {
		return err
	}
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	term, err := c.barrier.Rotate(ctx)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	c.log.Info("core: rotated barrier key", "term", term)
	return nil
}

// KeyStatus reports the active barrier key term.
func (c *Core) KeyStatus() (barrier.Status, error) {
	if _, err := c.state(); err != nil {
		return barrier.Status{}, err
	}
	return c.barrier.KeyStatus(), nil
}

func (c *Core) clusterName() string {
	if c.opts.ClusterName != "" {
		return c.opts.ClusterName
	}
	return "ward-cluster"
}

// loadClusterID reads the cluster's random ID, creating it on first use.
func (c *Core) loadClusterID(ctx context.Context) string {
	v, err := c.barrier.Get(ctx, "core/cluster-id")
	if err == nil {
		return string(v)
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return ""
	}
	id := newUUID(c.opts.Rand)
	if err := c.barrier.Put(ctx, "core/cluster-id", []byte(id)); err != nil {
		return ""
	}
	return id
}
