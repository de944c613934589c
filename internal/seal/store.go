package seal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wardsec/ward/internal/storage"
)

// Physical keys of the seal's records. The barrier refuses to read or write
// anything under "core/seal/", so only these helpers touch them.
const (
	ConfigPath  = "core/seal/config"
	RootKeyPath = "core/seal/root-key"
)

// StoreConfig validates c and writes it, as JSON, to ConfigPath in the
// physical backend.
func StoreConfig(ctx context.Context, physical storage.Backend, c *Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("seal: store config: %w", err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("seal: store config: %w", err)
	}
	if err := physical.Put(ctx, ConfigPath, raw); err != nil {
		return fmt.Errorf("seal: store config: %w", err)
	}
	return nil
}

// LoadConfig reads the config written by StoreConfig. It returns nil and no
// error when none is stored (the server is not initialized), and an error
// when the stored config does not parse or validate.
func LoadConfig(ctx context.Context, physical storage.Backend) (*Config, error) {
	raw, err := physical.Get(ctx, ConfigPath)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: load config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("seal: load config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("seal: load config: %w", err)
	}
	return &c, nil
}

// RootKey is the stored root key: wrapped by the seal named Type.
// Recording the type with the blob keeps a seal migration recoverable: if
// the server stops between rewrapping the root key and storing the new
// Config, the record still says which seal opens it.
type RootKey struct {
	Type string `json:"type"`
	Blob []byte `json:"blob"`
}

// StoreRootKey writes a root key wrapped by a seal of type sealType (the
// blob from Seal.Wrap) to RootKeyPath.
func StoreRootKey(ctx context.Context, physical storage.Backend, sealType string, blob []byte) error {
	raw, err := json.Marshal(RootKey{Type: sealType, Blob: blob})
	if err != nil {
		return fmt.Errorf("seal: store root key: %w", err)
	}
	if err := physical.Put(ctx, RootKeyPath, raw); err != nil {
		return fmt.Errorf("seal: store root key: %w", err)
	}
	return nil
}

// LoadRootKey reads the wrapped root key. A missing one yields an error
// wrapping storage.ErrNotFound.
func LoadRootKey(ctx context.Context, physical storage.Backend) (*RootKey, error) {
	raw, err := physical.Get(ctx, RootKeyPath)
	if err != nil {
		return nil, fmt.Errorf("seal: load root key: %w", err)
	}
	var rk RootKey
	if err := json.Unmarshal(raw, &rk); err != nil || rk.Type == "" || len(rk.Blob) == 0 {
		return nil, errors.New("seal: load root key: the stored record is malformed")
	}
	return &rk, nil
}
