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
	cfg, err := seal.LoadConfig(ctx, c.local)
	return cfg != nil, err
}

// Init initializes a new server: it creates the root key and the barrier's
// keyring, protects the root key with the seal, and issues the first root
// token. With the Shamir seal it splits an unseal key into shares and the
// server stays sealed, as Vault's does. With an auto-unseal seal the shares
// are recovery shares, and the server is unsealed when Init returns.
func (c *Core) Init(ctx context.Context, req api.InitRequest) (*api.InitResponse, error) {
	auto := c.opts.Seal
	if err := validateInit(req, auto); err != nil {
		return nil, err
	}
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	if ok, err := c.Initialized(ctx); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	} else if ok {
		return nil, ErrAlreadyInitialized
	}
	if err := c.leadForInit(ctx); err != nil {
		return nil, err
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
	// sharedKey is what the operators' shares combine to: the unseal key
	// with Shamir, the recovery key with an auto-unseal seal.
	sharedKey, err := c.randomKey()
	if err != nil {
		return nil, err
	}
	defer clear(sharedKey)
	cfg := &seal.Config{Type: seal.TypeShamir, SecretShares: req.SecretShares, SecretThreshold: req.SecretThreshold}
	sealer := seal.NewShamir(sharedKey)
	if auto != nil {
		cfg = &seal.Config{Type: auto.Type(), SecretShares: 1, SecretThreshold: 1,
			RecoveryShares: req.RecoveryShares, RecoveryThreshold: req.RecoveryThreshold}
		sealer = auto
	}
	n, t := cfg.Shares()
	shares, err := shamir.Split(sharedKey, n, t)
	if err != nil {
		return nil, fmt.Errorf("init: split key: %w", err)
	}
	defer func() {
		for _, sh := range shares {
			clear(sh)
		}
	}()

	// Wrap first: an unreachable auto-unseal seal then leaves storage empty
	// and init can simply be retried.
	blob, err := sealer.Wrap(ctx, rootKey)
	if err != nil {
		return nil, sealError("init", sealer, err)
	}
	if err := c.barrier.Initialize(ctx, rootKey); err != nil {
		return nil, fmt.Errorf("init: barrier: %w", err)
	}
	if err := seal.StoreRootKey(ctx, c.physical, sealer.Type(), blob); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}

	// Unseal to lay down the default mounts and policies and issue the root
	// token. A Shamir server seals again; an auto-unseal one stays open.
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	s, err := c.setup(ctx)
	if err != nil {
		c.barrier.Seal()
		return nil, fmt.Errorf("init: %w", err)
	}
	if auto != nil {
		err = c.barrier.Put(ctx, recoveryKeyPath, sharedKey)
	}
	var root string
	if err == nil {
		root, err = s.tokens.CreateRoot(ctx)
	}
	if err == nil {
		// The seal config is written last: it marks a complete initialization.
		err = seal.StoreConfig(ctx, c.physical, cfg)
	}
	if err != nil || auto == nil {
		c.teardown(s)
		c.barrier.Seal()
	}
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if auto != nil {
		c.startBackground(s)
		c.active.Store(s)
		c.activated(ctx, rootKey)
	}

	resp := &api.InitResponse{RootToken: root, Keys: []string{}, KeysBase64: []string{}}
	for _, sh := range shares {
		h, b := hex.EncodeToString(sh), base64.StdEncoding.EncodeToString(sh)
		if auto != nil {
			resp.RecoveryKeys = append(resp.RecoveryKeys, h)
			resp.RecoveryKeysBase64 = append(resp.RecoveryKeysBase64, b)
		} else {
			resp.Keys = append(resp.Keys, h)
			resp.KeysBase64 = append(resp.KeysBase64, b)
		}
	}
	c.log.Info("core: initialized", "seal", cfg.Type, "shares", n, "threshold", t)
	return resp, nil
}

// validateInit checks an init request against the seal: unseal share
// counts for Shamir, recovery share counts for an auto-unseal seal.
func validateInit(req api.InitRequest, auto seal.Seal) error {
	if len(req.PGPKeys) > 0 || req.RootTokenPGPKey != "" || len(req.RecoveryPGPKeys) > 0 {
		return engine.BadRequest("pgp_keys, recovery_pgp_keys and root_token_pgp_key are not supported")
	}
	if auto == nil {
		if req.RecoveryShares != 0 || req.RecoveryThreshold != 0 {
			return engine.BadRequest("recovery_shares and recovery_threshold are only valid with an auto-unseal seal; this server uses a shamir seal")
		}
		return checkShareCounts("secret", req.SecretShares, req.SecretThreshold)
	}
	if req.SecretShares > 1 || req.SecretThreshold > 1 {
		return engine.BadRequest("secret_shares and secret_threshold are not used with the %s seal, which holds the root key; set recovery_shares and recovery_threshold", auto.Type())
	}
	return checkShareCounts("recovery", req.RecoveryShares, req.RecoveryThreshold)
}

func checkShareCounts(kind string, shares, threshold int) error {
	switch {
	case shares < 1 || shares > 255:
		return &engine.InputError{Field: kind + "_shares", Rule: "must be between 1 and 255"}
	case threshold < 1 || threshold > shares:
		return &engine.InputError{Field: kind + "_threshold", Rule: "must be between 1 and " + kind + "_shares"}
	case shares > 1 && threshold == 1:
		return &engine.InputError{Field: kind + "_threshold", Rule: "must be greater than one for multiple shares"}
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

// Unseal adds one unseal key share. Once the threshold is reached it
// combines them, opens the root key and unseals; a wrong set of shares
// resets progress. Calling it while unsealed just returns the status.
func (c *Core) Unseal(ctx context.Context, key string) (*api.SealStatus, error) {
	return c.unseal(ctx, key, false)
}

// MigrateUnseal is Unseal for a server whose configuration names a
// different seal than the one protecting its root key (sys/unseal with
// migrate=true). The shares are the old seal's: unseal shares when leaving
// Shamir, recovery shares when leaving an auto-unseal seal. At the
// threshold the root key is rewrapped by the new seal and the server
// unseals.
func (c *Core) MigrateUnseal(ctx context.Context, key string) (*api.SealStatus, error) {
	return c.unseal(ctx, key, true)
}

func (c *Core) unseal(ctx context.Context, key string, migrate bool) (*api.SealStatus, error) {
	if !c.Sealed() {
		return c.SealStatus(ctx)
	}
	share, err := decodeShare(key)
	if err != nil {
		return nil, err
	}
	c.awaitLocalState(ctx)
	c.lifecycle.Lock()
	err = c.addShare(ctx, share, migrate)
	c.lifecycle.Unlock()
	if err != nil {
		return nil, err
	}
	return c.SealStatus(ctx)
}

func (c *Core) addShare(ctx context.Context, share []byte, migrate bool) error {
	if !c.Sealed() {
		return nil
	}
	st, err := c.loadSealState(ctx)
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	join := c.hastate.join.Load()
	if st == nil && join != nil {
		st = join.st
	}
	if st == nil {
		return ErrNotInitialized
	}
	pending := st.migrating(c.sealType())
	switch {
	case pending && !migrate:
		return engine.BadRequest("seal migration is pending: the root key is protected by the %s seal and the configuration names the %s seal; unseal with migrate=true (ward operator unseal -migrate)", st.root.Type, c.sealType())
	case !pending && migrate:
		return engine.BadRequest("no seal migration is pending; unseal without migrate")
	case !pending && c.opts.Seal != nil:
		return engine.BadRequest("this server unseals itself with its %s seal; key shares are needed only to migrate seals", c.sealType())
	}
	for _, s := range c.unsealing.shares {
		if subtle.ConstantTimeCompare(s, share) == 1 {
			return nil // the same share twice makes no progress
		}
	}
	c.unsealing.add(share)
	if _, t := st.cfg.Shares(); len(c.unsealing.shares) < t {
		return nil
	}
	defer c.unsealing.reset()

	key, err := shamir.Combine(c.unsealing.shares)
	if err != nil {
		return engine.BadRequest("unseal failed: the key shares do not combine (%v); progress reset", err)
	}
	defer clear(key)
	if pending {
		return c.migrateSeal(ctx, st, key)
	}
	rootKey, err := seal.NewShamir(key).Unwrap(ctx, st.root.Blob)
	if err != nil {
		return engine.BadRequest("unseal failed: invalid key; progress reset")
	}
	defer clear(rootKey)
	if join != nil && st == join.st {
		return c.completeJoin(ctx, rootKey)
	}
	return c.unsealedWithRootKey(ctx, st, rootKey)
}

// openBarrier unseals the barrier with rootKey.
func (c *Core) openBarrier(ctx context.Context, rootKey []byte) error {
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		if errors.Is(err, barrier.ErrBadKey) {
			return engine.BadRequest("unseal failed: invalid key; progress reset")
		}
		return fmt.Errorf("unseal: %w", err)
	}
	return nil
}

// activate builds the unsealed state over an open barrier (opened with
// rootKey) and starts serving. It first finishes a seal migration that
// stopped after the root key was rewrapped but before the seal config was
// rewritten.
func (c *Core) activate(ctx context.Context, st *sealState, rootKey []byte) error {
	if err := c.finishMigration(ctx, st); err != nil {
		c.barrier.Seal()
		return fmt.Errorf("unseal: %w", err)
	}
	s, err := c.setup(ctx)
	if err != nil {
		c.barrier.Seal()
		return fmt.Errorf("unseal: %w", err)
	}
	c.startBackground(s)
	c.active.Store(s)
	c.log.Info("core: unsealed", "seal", st.root.Type)
	c.activated(ctx, rootKey)
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
	wasStandby := c.hastate.standby.Load()
	c.forgetRootKey()
	s := c.active.Swap(nil)
	if s == nil {
		if wasStandby {
			c.log.Info("core: sealed")
		}
		return
	}
	c.teardown(s)
	c.barrier.Seal()
	c.log.Info("core: sealed")
}

// SealStatus answers sys/seal-status. Type is the configured seal; on an
// auto-unseal server t and n count the recovery shares.
func (c *Core) SealStatus(ctx context.Context) (*api.SealStatus, error) {
	active := c.active.Load()
	st := &api.SealStatus{
		Type:         c.sealType(),
		Sealed:       c.Sealed(),
		Version:      api.Version,
		StorageType:  c.opts.StorageType,
		RecoverySeal: c.opts.Seal != nil,
	}
	if st.RecoverySeal {
		st.RecoverySealType = seal.TypeShamir
	}
	ss, err := c.loadSealState(ctx)
	if err != nil {
		return nil, fmt.Errorf("seal status: %w", err)
	}
	if j := c.hastate.join.Load(); ss == nil && j != nil {
		ss = j.st
	}
	// A cluster member whose local copy is still catching up after a
	// restart is initialized all the same.
	st.Initialized = ss == nil && c.ha != nil && c.ha.Joined()
	if ss != nil {
		st.Initialized = true
		st.N, st.T = ss.cfg.Shares()
		st.Migration = ss.migrating(st.Type)
	}
	if active != nil {
		st.ClusterName = c.clusterName()
		st.ClusterID = active.clusterID
	} else if st.Sealed {
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
