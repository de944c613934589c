package barrier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wardsec/ward/internal/storage"
)

// reserved reports whether key belongs to the barrier or the seal rather
// than to barrier users.
func reserved(key string) bool {
	return key == KeyringPath || strings.HasPrefix(key, reservedPrefix) || strings.HasPrefix(key, HAPrefix)
}

// begin returns the keyring snapshot for one storage operation after the
// checks every keyed operation shares: sealed, cancelled, invalid, reserved.
func (b *Barrier) begin(ctx context.Context, op, key string) (*keyring, error) {
	kr := b.state.Load()
	if kr == nil {
		return nil, ErrSealed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("barrier: %s %q: %w", op, key, err)
	}
	if !storage.ValidKey(key) {
		return nil, fmt.Errorf("barrier: %s %q: invalid key: must be non-empty and not start or end with \"/\"", op, key)
	}
	if reserved(key) {
		return nil, fmt.Errorf("barrier: %s %q: %w", op, key, ErrReservedKey)
	}
	return kr, nil
}

// Get reads and decrypts the value under key. A missing key yields
// storage.ErrNotFound; a value that does not decrypt (tampered, moved from
// another key, unknown term) yields a non-NotFound error.
func (b *Barrier) Get(ctx context.Context, key string) ([]byte, error) {
	kr, err := b.begin(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	value, err := b.physical.Get(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("barrier: get %q: %w", key, err)
	}
	plaintext, err := kr.open(key, value)
	if err != nil {
		return nil, fmt.Errorf("barrier: get %q: %w", key, err)
	}
	return plaintext, nil
}

// Put encrypts value under the active term and stores it under key.
func (b *Barrier) Put(ctx context.Context, key string, value []byte) error {
	kr, err := b.begin(ctx, "put", key)
	if err != nil {
		return err
	}
	ciphertext, err := kr.seal(b.rand, key, value)
	if err != nil {
		return fmt.Errorf("barrier: put %q: %w", key, err)
	}
	if err := b.physical.Put(ctx, key, ciphertext); err != nil {
		return fmt.Errorf("barrier: put %q: %w", key, err)
	}
	return nil
}

// Delete removes key.
func (b *Barrier) Delete(ctx context.Context, key string) error {
	if _, err := b.begin(ctx, "delete", key); err != nil {
		return err
	}
	if err := b.physical.Delete(ctx, key); err != nil {
		return fmt.Errorf("barrier: delete %q: %w", key, err)
	}
	return nil
}

// List returns the direct children of prefix. Keys are not encrypted, so
// this is the physical listing; it includes reserved keys.
func (b *Barrier) List(ctx context.Context, prefix string) ([]string, error) {
	if b.state.Load() == nil {
		return nil, ErrSealed
	}
	keys, err := b.physical.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("barrier: list %q: %w", prefix, err)
	}
	return keys, nil
}

// Encrypt seals plaintext exactly as Put would store it under key, without
// storing it: for values that travel instead of resting (a raft join
// challenge). Only a holder of the same keyring can Decrypt it, and only
// under the same key.
func (b *Barrier) Encrypt(key string, plaintext []byte) ([]byte, error) {
	kr, err := b.begin(context.Background(), "encrypt", key)
	if err != nil {
		return nil, err
	}
	return kr.seal(b.rand, key, plaintext)
}

// Decrypt opens a value made by Encrypt (or stored by Put) under key.
func (b *Barrier) Decrypt(key string, value []byte) ([]byte, error) {
	kr, err := b.begin(context.Background(), "decrypt", key)
	if err != nil {
		return nil, err
	}
	plaintext, err := kr.open(key, value)
	if err != nil {
		return nil, fmt.Errorf("barrier: decrypt %q: %w", key, err)
	}
	return plaintext, nil
}

// Batch encrypts each Put's value under its key and applies the batch to
// the physical backend: atomically when it batches, else in order.
func (b *Barrier) Batch(ctx context.Context, ops []storage.Op) error {
	sealed := make([]storage.Op, len(ops))
	for i, o := range ops {
		kr, err := b.begin(ctx, "batch", o.Key)
		if err != nil {
			return err
		}
		if !o.Delete {
			if o.Value, err = kr.seal(b.rand, o.Key, o.Value); err != nil {
				return fmt.Errorf("barrier: batch: %s: %w", o, err)
			}
		}
		sealed[i] = o
	}
	if err := storage.Batch(ctx, b.physical, sealed); err != nil {
		return fmt.Errorf("barrier: batch: %w", err)
	}
	return nil
}
