package seal

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardsec/ward/internal/shamir"
)

// TypeShamir is the Config.Type of the Shamir seal, as Vault names it.
const TypeShamir = "shamir"

// ErrBadKey is returned by Unwrap when the seal's key does not open the
// blob: for the Shamir seal, the shares combined to the wrong unseal key.
var ErrBadKey = errors.New("seal: key does not open the root key")

// Seal wraps and unwraps the barrier's root key.
//
// Implementations are safe for concurrent use. Neither method keeps or logs
// the root key.
type Seal interface {
	// Type names the seal kind ("shamir", later "transit"); it is reported
	// by sys/seal-status.
	Type() string

	// Wrap encrypts rootKey for storage. Called once at init and again
	// whenever the seal's own key changes (rekey). The result is opaque and
	// safe to store in the clear.
	Wrap(ctx context.Context, rootKey []byte) ([]byte, error)

	// Unwrap decrypts a blob made by Wrap. It returns ErrBadKey (possibly
	// wrapped) when the seal's key is not the one that wrapped blob, and
	// another error when blob is malformed or the key source is
	// unreachable. On error the result is nil.
	Unwrap(ctx context.Context, blob []byte) ([]byte, error)
}

// Config is the seal's stored configuration: its kind and, for Shamir, the
// share counts reported as "n" and "t" by sys/seal-status.
type Config struct {
	Type            string `json:"type"`
	SecretShares    int    `json:"secret_shares"`
	SecretThreshold int    `json:"secret_threshold"`
	// RecoveryShares and RecoveryThreshold are an auto-unseal seal's
	// recovery share counts; zero for Shamir.
	RecoveryShares    int `json:"recovery_shares,omitempty"`
	RecoveryThreshold int `json:"recovery_threshold,omitempty"`
}

// Validate checks c. A Shamir config needs 1 <= secret_threshold <=
// secret_shares <= 255, and a threshold of at least 2 when there is more
// than one share.
func (c *Config) Validate() error {
	switch c.Type {
	case TypeShamir:
	case "":
		return errors.New("seal config: type is empty")
	default:
		return fmt.Errorf("seal config: type %q is not supported", c.Type)
	}
	switch {
	case c.SecretShares < 1 || c.SecretShares > shamir.MaxParts:
		return fmt.Errorf("seal config: secret_shares is %d; must be between 1 and %d", c.SecretShares, shamir.MaxParts)
	case c.SecretThreshold < 1 || c.SecretThreshold > c.SecretShares:
		return fmt.Errorf("seal config: secret_threshold is %d; must be between 1 and secret_shares (%d)", c.SecretThreshold, c.SecretShares)
	case c.SecretShares > 1 && c.SecretThreshold == 1:
		return errors.New("seal config: secret_threshold must be greater than one for multiple shares")
	}
	return nil
}

// SplitKey splits an unseal key into c.SecretShares shares, any
// c.SecretThreshold of which recover it with CombineKey.
func SplitKey(unsealKey []byte, c *Config) ([][]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("seal: split key: %w", err)
	}
	shares, err := shamir.Split(unsealKey, c.SecretShares, c.SecretThreshold)
	if err != nil {
		return nil, fmt.Errorf("seal: split key: %w", err)
	}
	return shares, nil
}

// CombineKey recovers an unseal key from shares. Too few or wrong shares
// give a wrong key without error; Unwrap then fails with ErrBadKey.
func CombineKey(shares [][]byte) ([]byte, error) {
	key, err := shamir.Combine(shares)
	if err != nil {
		return nil, fmt.Errorf("seal: combine key: %w", err)
	}
	return key, nil
}
