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
	// Type names the seal kind ("shamir", "transit"); it is reported by
	// sys/seal-status and recorded with the wrapped root key.
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
// than one share; a transit config has one (stored) share and recovery
// share counts under the same rules.
func (c *Config) Validate() error {
	switch c.Type {
	case TypeShamir:
		if c.RecoveryShares != 0 || c.RecoveryThreshold != 0 {
			return errors.New("seal config: a shamir seal has no recovery shares")
		}
		return checkShares("secret", c.SecretShares, c.SecretThreshold)
	case TypeTransit:
		if c.SecretShares != 1 || c.SecretThreshold != 1 {
			return errors.New("seal config: an auto-unseal seal has secret_shares and secret_threshold 1")
		}
		return checkShares("recovery", c.RecoveryShares, c.RecoveryThreshold)
	case "":
		return errors.New("seal config: type is empty")
	default:
		return fmt.Errorf("seal config: type %q is not supported", c.Type)
	}
}

func checkShares(kind string, shares, threshold int) error {
	switch {
	case shares < 1 || shares > shamir.MaxParts:
		return fmt.Errorf("seal config: %s_shares is %d; must be between 1 and %d", kind, shares, shamir.MaxParts)
	case threshold < 1 || threshold > shares:
		return fmt.Errorf("seal config: %s_threshold is %d; must be between 1 and %s_shares (%d)", kind, threshold, kind, shares)
	case shares > 1 && threshold == 1:
		return fmt.Errorf("seal config: %s_threshold must be greater than one for multiple shares", kind)
	}
	return nil
}

// Shares returns the counts of the shares operators hold: the unseal
// shares of a Shamir seal, the recovery shares of an auto-unseal seal.
func (c *Config) Shares() (shares, threshold int) {
	if c.Type == TypeShamir {
		return c.SecretShares, c.SecretThreshold
	}
	return c.RecoveryShares, c.RecoveryThreshold
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
