package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
)

const (
	// KeySize is the size of an unseal key and of the root key.
	KeySize = 32

	blobVersion = 1
	nonceSize   = 12
	tagSize     = 16
)

// GenerateKey returns a new random unseal key of KeySize bytes read from r
// (crypto/rand.Reader if r is nil).
func GenerateKey(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("seal: generate key: %w", err)
	}
	return k, nil
}

// shamirSeal wraps the root key with AES-256-GCM under the unseal key.
type shamirSeal struct {
	key []byte
}

// NewShamir returns the Shamir seal for an unseal key (normally KeySize
// bytes combined from shares). It copies unsealKey, so the caller may zero
// its slice at once. A key of the wrong size makes Wrap fail and Unwrap
// return ErrBadKey, which is what shares that combine to garbage look like.
func NewShamir(unsealKey []byte) Seal {
	return &shamirSeal{key: slices.Clone(unsealKey)}
}

// String redacts the key.
func (s *shamirSeal) String() string { return "seal.Shamir{key: REDACTED}" }

func (s *shamirSeal) Type() string { return TypeShamir }

func (s *shamirSeal) aead() (cipher.AEAD, error) {
	if len(s.key) != KeySize {
		return nil, fmt.Errorf("unseal key has %d bytes, want %d", len(s.key), KeySize)
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Wrap encrypts rootKey; see the package documentation for the format.
func (s *shamirSeal) Wrap(_ context.Context, rootKey []byte) ([]byte, error) {
	aead, err := s.aead()
	if err != nil {
		return nil, fmt.Errorf("seal: wrap: %w", err)
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(rootKey)+tagSize)
	out[0] = blobVersion
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, fmt.Errorf("seal: wrap: read random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], rootKey, []byte(RootKeyPath)), nil
}

// Unwrap decrypts a blob made by Wrap.
func (s *shamirSeal) Unwrap(_ context.Context, blob []byte) ([]byte, error) {
	if len(blob) < 1+nonceSize+tagSize {
		return nil, errors.New("seal: unwrap: wrapped root key is too short")
	}
	if blob[0] != blobVersion {
		return nil, fmt.Errorf("seal: unwrap: wrapped root key has unknown version %d", blob[0])
	}
	aead, err := s.aead()
	if err != nil {
		return nil, ErrBadKey
	}
	rootKey, err := aead.Open(nil, blob[1:1+nonceSize], blob[1+nonceSize:], []byte(RootKeyPath))
	if err != nil {
		return nil, ErrBadKey
	}
	return rootKey, nil
}
