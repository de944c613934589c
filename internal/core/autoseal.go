package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/storage"
)

// sealState is what storage says about the seal: the share counts and the
// wrapped root key with the type of the seal that wrapped it.
type sealState struct {
	cfg  *seal.Config
	root *seal.RootKey
}

// loadSealState reads the seal records; nil means not initialized.
func (c *Core) loadSealState(ctx context.Context) (*sealState, error) {
	cfg, err := seal.LoadConfig(ctx, c.local)
	if err != nil || cfg == nil {
		return nil, err
	}
	root, err := seal.LoadRootKey(ctx, c.local)
	if err != nil {
		return nil, err
	}
	return &sealState{cfg: cfg, root: root}, nil
}

// migrating reports whether the root key is protected by another seal than
// the configured one, so that an unseal with migrate must move it.
func (st *sealState) migrating(configured string) bool {
	return st.root.Type != configured
}

// sealType is the configured seal's type: Options.Seal's, or Shamir.
func (c *Core) sealType() string {
	if c.opts.Seal != nil {
		return c.opts.Seal.Type()
	}
	return seal.TypeShamir
}

// sealError turns a seal failure during op into an error for the client:
// the seal's key source is unavailable (503), whatever the cause. The
// message names the remote problem; it never holds key material.
func sealError(op string, s seal.Seal, err error) error {
	return engine.Errorf(engine.ErrUnavailable, "%s: the %s seal could not be used: %v", op, s.Type(), err)
}

// CheckSeal reports, at startup, a configuration that cannot unseal the
// stored root key: it is protected by an auto-unseal seal that the
// configuration neither uses nor names as the disabled seal to migrate
// from. An uninitialized server always passes.
func (c *Core) CheckSeal(ctx context.Context) error {
	st, err := c.loadSealState(ctx)
	if err != nil || st == nil {
		return err
	}
	stored, want := st.root.Type, c.sealType()
	switch {
	case stored == want, stored == seal.TypeShamir:
		return nil
	case c.opts.OldSeal == nil || c.opts.OldSeal.Type() != stored:
		return fmt.Errorf("the root key is protected by the %s seal, but the configuration has no seal %q block; add it back (with disabled = true to migrate to the %s seal)", stored, stored, want)
	}
	return nil
}

// RunAutoUnseal unseals an initialized server with its auto-unseal seal,
// retrying with backoff (up to 5 s apart) while the seal's key source is
// unreachable, and logging why it waits. It returns once the server is
// unsealed, when a seal migration needs an operator, or when ctx ends.
// With the Shamir seal it returns at once.
func (c *Core) RunAutoUnseal(ctx context.Context) {
	if c.opts.Seal == nil {
		return
	}
	const maxWait = 5 * time.Second
	wait := 250 * time.Millisecond
	for {
		done, err := c.autoUnseal(ctx)
		if done || ctx.Err() != nil {
			return
		}
		if err != nil {
			level := "waiting for the seal"
			if errors.Is(err, seal.ErrBadKey) {
				level = "the seal's key does not open this server's root key"
			}
			c.log.Warn("core: auto-unseal: "+level+"; retrying", "seal", c.sealType(), "retry_in", wait.String(), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err != nil {
			wait = min(2*wait, maxWait)
		}
	}
}

// autoUnseal makes one attempt. done means there is nothing more to try:
// the server is unsealed, or a migration waits for an operator. A server
// not yet initialized is not done (init may come), and not an error.
func (c *Core) autoUnseal(ctx context.Context) (done bool, err error) {
	if !c.Sealed() {
		return true, nil
	}
	st, err := c.loadSealState(ctx)
	if err != nil || st == nil {
		return false, err
	}
	if st.migrating(c.sealType()) {
		c.log.Warn("core: seal migration pending: unseal with the old seal's shares and migrate (ward operator unseal -migrate)",
			"from", st.root.Type, "to", c.sealType())
		return true, nil
	}
	// The remote call happens outside the lifecycle lock, so a seal or a
	// shutdown never waits on it.
	rootKey, err := c.opts.Seal.Unwrap(ctx, st.root.Blob)
	if err != nil {
		return false, err
	}
	defer clear(rootKey)
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	if !c.Sealed() {
		return true, nil
	}
	if err := c.unsealedWithRootKey(ctx, st, rootKey); err != nil {
		return false, err
	}
	return true, nil
}

// migrateSeal moves the root key from the stored seal to the configured
// one; key is what the operators' shares combined to (the old unseal key,
// or the recovery key). The barrier is opened with the old seal, the
// recovery key is checked or laid down, the root key is rewrapped and its
// record written, and the seal config last; activate finishes a migration
// cut short between the last two writes. Called with c.lifecycle held.
func (c *Core) migrateSeal(ctx context.Context, st *sealState, key []byte) error {
	from, to := st.root.Type, c.sealType()
	if c.ha != nil && !c.ha.IsLeader() {
		return engine.BadRequest("a seal migration rewrites the root key, so it runs on the raft leader; unseal this node after the leader has migrated")
	}
	var old seal.Seal
	switch {
	case from == seal.TypeShamir:
		old = seal.NewShamir(key)
	case c.opts.OldSeal != nil && c.opts.OldSeal.Type() == from:
		old = c.opts.OldSeal
	default:
		return engine.BadRequest("cannot migrate: the root key is protected by the %s seal and the configuration has no disabled seal %q block", from, from)
	}
	rootKey, err := old.Unwrap(ctx, st.root.Blob)
	switch {
	case errors.Is(err, seal.ErrBadKey):
		return engine.BadRequest("unseal failed: invalid key; progress reset")
	case err != nil:
		return sealError("migrate", old, err)
	}
	defer clear(rootKey)
	if err := c.openBarrier(ctx, rootKey); err != nil {
		return err
	}
	if err := c.rewrapRootKey(ctx, st, from, key, rootKey); err != nil {
		c.barrier.Seal()
		return err
	}
	c.log.Info("core: seal migrated", "from", from, "to", to)
	st, err = c.loadSealState(ctx)
	if err != nil {
		c.barrier.Seal()
		return fmt.Errorf("migrate: %w", err)
	}
	return c.activate(ctx, st, rootKey)
}

// rewrapRootKey is migrateSeal's work once the barrier is open.
func (c *Core) rewrapRootKey(ctx context.Context, st *sealState, from string, key, rootKey []byte) error {
	if from != seal.TypeShamir {
		if err := c.checkRecoveryKey(ctx, key); err != nil {
			return err
		}
	}
	n, t := st.cfg.Shares()
	cfg := &seal.Config{Type: seal.TypeShamir, SecretShares: n, SecretThreshold: t}
	newSeal := seal.NewShamir(key)
	if c.opts.Seal != nil {
		cfg = &seal.Config{Type: c.opts.Seal.Type(), SecretShares: 1, SecretThreshold: 1, RecoveryShares: n, RecoveryThreshold: t}
		newSeal = c.opts.Seal
		// The old unseal key becomes the recovery key, so the operators
		// keep the shares they hold.
		if err := c.barrier.Put(ctx, recoveryKeyPath, key); err != nil {
			return fmt.Errorf("migrate: store recovery key: %w", err)
		}
	}
	blob, err := newSeal.Wrap(ctx, rootKey)
	if err != nil {
		return sealError("migrate", newSeal, err)
	}
	if err := seal.StoreRootKey(ctx, c.physical, newSeal.Type(), blob); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := seal.StoreConfig(ctx, c.physical, cfg); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if c.opts.Seal == nil {
		if err := c.barrier.Delete(ctx, recoveryKeyPath); err != nil && !errors.Is(err, storage.ErrNotFound) {
			c.log.Warn("core: migrate: could not delete the old recovery key", "error", err)
		}
	}
	return nil
}

// finishMigration rewrites the seal config when it disagrees with the
// root key record: a migration that stopped between the two writes. The
// share counts carry over, as migrateSeal would have written them.
func (c *Core) finishMigration(ctx context.Context, st *sealState) error {
	if st.cfg.Type == st.root.Type {
		return nil
	}
	n, t := st.cfg.Shares()
	cfg := &seal.Config{Type: seal.TypeShamir, SecretShares: n, SecretThreshold: t}
	if st.root.Type != seal.TypeShamir {
		cfg = &seal.Config{Type: st.root.Type, SecretShares: 1, SecretThreshold: 1, RecoveryShares: n, RecoveryThreshold: t}
	}
	if err := seal.StoreConfig(ctx, c.physical, cfg); err != nil {
		return err
	}
	c.log.Info("core: finished an interrupted seal migration", "seal", cfg.Type)
	st.cfg = cfg
	return nil
}
