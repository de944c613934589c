package core

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/shamir"
)

// errBadShares is the answer to a set of key shares that does not combine
// to the key they should guard.
var errBadShares = engine.BadRequest("the key shares do not combine to this server's key; progress reset")

// keyShareConfig returns how many key shares operators hold and how many
// unlock an operation guarded by them (generate-root, seal migration):
// the unseal shares with a Shamir seal, the recovery shares with an
// auto-unseal seal.
func (c *Core) keyShareConfig(ctx context.Context) (shares, threshold int, err error) {
	cfg, err := seal.LoadConfig(ctx, c.local)
	if err != nil {
		return 0, 0, err
	}
	if cfg == nil {
		return 0, 0, ErrNotInitialized
	}
	shares, threshold = cfg.Shares()
	return shares, threshold, nil
}

// checkKeyShares combines shares (each decoded by decodeShare) and reports
// whether they form the key operators' shares guard: the unseal key with a
// Shamir seal, the recovery key with an auto-unseal seal. It returns
// errBadShares (a 400) when they do not. The recovery key lives in the
// barrier, so an auto-unseal server must be unsealed.
func (c *Core) checkKeyShares(ctx context.Context, shares [][]byte) error {
	key, err := shamir.Combine(shares)
	if err != nil {
		return errBadShares
	}
	defer clear(key)
	st, err := c.loadSealState(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		return ErrNotInitialized
	}
	if st.root.Type != seal.TypeShamir {
		if _, err := c.state(); err != nil {
			return err
		}
		return c.checkRecoveryKey(ctx, key)
	}
	root, err := seal.NewShamir(key).Unwrap(ctx, st.root.Blob)
	if err != nil {
		return errBadShares
	}
	clear(root)
	return nil
}

// recoveryKeyPath is where an auto-unseal server keeps its recovery key,
// inside the barrier.
const recoveryKeyPath = "core/recovery-key"

// checkRecoveryKey compares key with the stored recovery key in constant
// time; a mismatch is errBadShares. The barrier must be open.
func (c *Core) checkRecoveryKey(ctx context.Context, key []byte) error {
	stored, err := c.barrier.Get(ctx, recoveryKeyPath)
	if err != nil {
		return fmt.Errorf("core: read recovery key: %w", err)
	}
	defer clear(stored)
	if subtle.ConstantTimeCompare(stored, key) != 1 {
		return errBadShares
	}
	return nil
}
