package userpass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// Hash algorithms for Config.HashAlgorithm.
const (
	Bcrypt   = "bcrypt"
	Argon2id = "argon2id"
)

// Bounds of the work factors Config accepts, and of the ones a stored or
// imported hash may carry.
const (
	MinBcryptCost     = 4
	MaxBcryptCost     = 16
	MaxArgon2Time     = 32
	MinArgon2Memory   = 64      // KiB
	MaxArgon2Memory   = 1 << 20 // KiB (1 GiB)
	MaxArgon2Threads  = 16
	MaxLockoutCount   = 1_000_000
	minLockoutPeriod  = time.Second
	configStorageKey  = "config"
	defaultBcryptCost = 10
)

// Config is a mount's settings, written at "config". The zero value is not
// valid; start from DefaultConfig.
type Config struct {
	// HashAlgorithm is the algorithm new passwords are hashed with:
	// Bcrypt or Argon2id.
	HashAlgorithm string `json:"hash_algorithm"`
	// BcryptCost is bcrypt's log2 work factor.
	BcryptCost int `json:"bcrypt_cost"`
	// Argon2Time (passes), Argon2Memory (KiB) and Argon2Threads (lanes)
	// are argon2id's parameters.
	Argon2Time    uint32 `json:"argon2_time"`
	Argon2Memory  uint32 `json:"argon2_memory"`
	Argon2Threads uint8  `json:"argon2_threads"`

	// LockoutThreshold failed logins, each within LockoutCounterReset of
	// the previous one, lock a username for LockoutDuration.
	LockoutThreshold    int           `json:"lockout_threshold"`
	LockoutDuration     time.Duration `json:"lockout_duration"`
	LockoutCounterReset time.Duration `json:"lockout_counter_reset"`
	// DisableLockout turns lockout off.
	DisableLockout bool `json:"disable_lockout"`
}

// DefaultConfig returns the settings of a mount that was never configured:
// bcrypt at cost 10 (as Vault), OWASP's argon2id parameters, and Vault's
// user lockout defaults (5 failures, 15 minutes, 15 minutes).
func DefaultConfig() Config {
	return Config{
		HashAlgorithm:       Bcrypt,
		BcryptCost:          defaultBcryptCost,
		Argon2Time:          2,
		Argon2Memory:        19 * 1024,
		Argon2Threads:       1,
		LockoutThreshold:    5,
		LockoutDuration:     15 * time.Minute,
		LockoutCounterReset: 15 * time.Minute,
	}
}

// Validate reports the first setting out of bounds as an
// *engine.InputError naming it.
func (c Config) Validate() error {
	switch c.HashAlgorithm {
	case Bcrypt, Argon2id:
	default:
		return &engine.InputError{Field: "hash_algorithm", Rule: `must be "bcrypt" or "argon2id"`}
	}
	if c.BcryptCost < MinBcryptCost || c.BcryptCost > MaxBcryptCost {
		return &engine.InputError{Field: "bcrypt_cost", Rule: fmt.Sprintf("must be between %d and %d", MinBcryptCost, MaxBcryptCost)}
	}
	if err := c.argon2().validate(); err != nil {
		return err
	}
	if c.LockoutThreshold < 1 || c.LockoutThreshold > MaxLockoutCount {
		return &engine.InputError{Field: "lockout_threshold", Rule: fmt.Sprintf("must be between 1 and %d (use disable_lockout to turn lockout off)", MaxLockoutCount)}
	}
	if c.LockoutDuration < minLockoutPeriod {
		return &engine.InputError{Field: "lockout_duration", Rule: "must be at least 1s"}
	}
	if c.LockoutCounterReset < minLockoutPeriod {
		return &engine.InputError{Field: "lockout_counter_reset", Rule: "must be at least 1s"}
	}
	return nil
}

func (c Config) argon2() argon2Params {
	return argon2Params{Time: c.Argon2Time, Memory: c.Argon2Memory, Threads: c.Argon2Threads}
}

// configInput is a config write; nil fields keep their value.
type configInput struct {
	HashAlgorithm       *string        `json:"hash_algorithm"`
	BcryptCost          *int           `json:"bcrypt_cost"`
	Argon2Time          *uint32        `json:"argon2_time"`
	Argon2Memory        *uint32        `json:"argon2_memory"`
	Argon2Threads       *uint8         `json:"argon2_threads"`
	LockoutThreshold    *int           `json:"lockout_threshold"`
	LockoutDuration     *time.Duration `json:"lockout_duration"`
	LockoutCounterReset *time.Duration `json:"lockout_counter_reset"`
	DisableLockout      *bool          `json:"disable_lockout"`
}

func (in configInput) apply(c *Config) {
	set(&c.HashAlgorithm, in.HashAlgorithm)
	set(&c.BcryptCost, in.BcryptCost)
	set(&c.Argon2Time, in.Argon2Time)
	set(&c.Argon2Memory, in.Argon2Memory)
	set(&c.Argon2Threads, in.Argon2Threads)
	set(&c.LockoutThreshold, in.LockoutThreshold)
	set(&c.LockoutDuration, in.LockoutDuration)
	set(&c.LockoutCounterReset, in.LockoutCounterReset)
	set(&c.DisableLockout, in.DisableLockout)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// config returns the mount's stored settings, or DefaultConfig. It reads
// storage every time, so that every node sees the latest write.
func (b *backend) config(ctx context.Context) (Config, error) {
	raw, err := b.store.Get(ctx, configStorageKey)
	if errors.Is(err, storage.ErrNotFound) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read userpass config: %w", err)
	}
	c := DefaultConfig()
	if err := json.Unmarshal(raw, &c); err != nil {
		return Config{}, fmt.Errorf("read userpass config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("read userpass config: stored config is invalid: %w", err)
	}
	return c, nil
}

func (b *backend) readConfig(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	c, err := b.config(ctx)
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"hash_algorithm":        c.HashAlgorithm,
		"bcrypt_cost":           c.BcryptCost,
		"argon2_time":           c.Argon2Time,
		"argon2_memory":         c.Argon2Memory,
		"argon2_threads":        c.Argon2Threads,
		"lockout_threshold":     c.LockoutThreshold,
		"lockout_duration":      int64(c.LockoutDuration / time.Second),
		"lockout_counter_reset": int64(c.LockoutCounterReset / time.Second),
		"disable_lockout":       c.DisableLockout,
	}), nil
}

func (b *backend) writeConfig(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[configInput](req.Data)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.config(ctx)
	if err != nil {
		return nil, err
	}
	in.apply(&c)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("write userpass config: %w", err)
	}
	if err := b.store.Put(ctx, configStorageKey, raw); err != nil {
		return nil, fmt.Errorf("write userpass config: %w", err)
	}
	return warningsOnly(warnings), nil
}

// warningsOnly answers a write: nothing (204), or the warnings (200).
func warningsOnly(warnings []string) *engine.Response {
	if len(warnings) == 0 {
		return nil
	}
	return &engine.Response{Warnings: warnings}
}
