package client

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wardsec/ward/api"
)

// TransitKeyOptions are the settings of a new key; zero fields take the
// server's defaults (type aes256-gcm96).
type TransitKeyOptions struct {
	// Type is aes256-gcm96, aes128-gcm96, chacha20-poly1305, ed25519,
	// ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096 or
	// hmac.
	Type                 string `json:"type,omitempty"`
	Derived              bool   `json:"derived,omitempty"`
	ConvergentEncryption bool   `json:"convergent_encryption,omitempty"`
	Exportable           bool   `json:"exportable,omitempty"`
	AllowPlaintextBackup bool   `json:"allow_plaintext_backup,omitempty"`
	// AutoRotatePeriod is a duration ("720h"); at least an hour.
	AutoRotatePeriod string `json:"auto_rotate_period,omitempty"`
	// KeySize is the size in bytes of an hmac key.
	KeySize int `json:"key_size,omitempty"`
}

// TransitKeyConfig changes a key's settings; nil and empty fields are left
// as they are. Exportable and AllowPlaintextBackup cannot be turned off.
type TransitKeyConfig struct {
	MinDecryptionVersion *int   `json:"min_decryption_version,omitempty"`
	MinEncryptionVersion *int   `json:"min_encryption_version,omitempty"`
	DeletionAllowed      *bool  `json:"deletion_allowed,omitempty"`
	Exportable           *bool  `json:"exportable,omitempty"`
	AllowPlaintextBackup *bool  `json:"allow_plaintext_backup,omitempty"`
	AutoRotatePeriod     string `json:"auto_rotate_period,omitempty"`
}

// TransitKey describes a key as the server reports it; the key material
// itself is never part of it.
type TransitKey struct {
	Name                 string
	Type                 string
	LatestVersion        int
	MinAvailableVersion  int
	MinDecryptionVersion int
	MinEncryptionVersion int
	DeletionAllowed      bool
	Derived              bool
	Exportable           bool
	AllowPlaintextBackup bool
	SupportsEncryption   bool
	SupportsDecryption   bool
	SupportsDerivation   bool
	SupportsSigning      bool
	AutoRotatePeriod     time.Duration
	// Versions maps each live key version to its details.
	Versions map[int]TransitKeyVersion
	// Raw is the response as received.
	Raw *api.Secret
}

// TransitKeyVersion is one version of a key.
type TransitKeyVersion struct {
	Created time.Time
	// PublicKey is set for asymmetric keys: PEM (PKIX) for ECDSA and RSA,
	// base64 of the 32 raw bytes for ed25519. ParsePublicKey decodes it.
	PublicKey string
	Name      string
}

// ParsePublicKey decodes PublicKey into an ed25519.PublicKey,
// *ecdsa.PublicKey or *rsa.PublicKey, for checking signatures without
// asking the server.
func (v TransitKeyVersion) ParsePublicKey() (crypto.PublicKey, error) {
	if v.PublicKey == "" {
		return nil, errors.New("parse public key: the key version has none (a symmetric key?)")
	}
	if blk, _ := pem.Decode([]byte(v.PublicKey)); blk != nil {
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(v.PublicKey)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("parse public key: neither PEM nor a base64 ed25519 key")
	}
	return ed25519.PublicKey(raw), nil
}

// CreateKey creates the named key. Creating a key that exists changes
// nothing.
func (t *Transit) CreateKey(ctx context.Context, name string, opts *TransitKeyOptions) error {
	if err := checkName("create key", name); err != nil {
		return err
	}
	if opts == nil {
		opts = &TransitKeyOptions{}
	}
	p := t.path("keys", name)
	if _, err := t.c.call(ctx, &request{method: http.MethodPut, path: p, body: opts}); err != nil {
		return fmt.Errorf("transit create key %s: %w", p, err)
	}
	return nil
}

// ReadKey returns the named key's description; a missing key is an error
// wrapping ErrNotFound.
func (t *Transit) ReadKey(ctx context.Context, name string) (*TransitKey, error) {
	if err := checkName("read key", name); err != nil {
		return nil, err
	}
	p := t.path("keys", name)
	sec, err := t.c.Read(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("transit read key %s: %w", p, err)
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("transit read key %s: %w", p, ErrNotFound)
	}
	k, err := decodeTransitKey(sec)
	if err != nil {
		return nil, fmt.Errorf("transit read key %s: %w", p, err)
	}
	return k, nil
}

func decodeTransitKey(sec *api.Secret) (*TransitKey, error) {
	var w struct {
		Name                 string                     `json:"name"`
		Type                 string                     `json:"type"`
		LatestVersion        int                        `json:"latest_version"`
		MinAvailableVersion  int                        `json:"min_available_version"`
		MinDecryptionVersion int                        `json:"min_decryption_version"`
		MinEncryptionVersion int                        `json:"min_encryption_version"`
		DeletionAllowed      bool                       `json:"deletion_allowed"`
		Derived              bool                       `json:"derived"`
		Exportable           bool                       `json:"exportable"`
		AllowPlaintextBackup bool                       `json:"allow_plaintext_backup"`
		SupportsEncryption   bool                       `json:"supports_encryption"`
		SupportsDecryption   bool                       `json:"supports_decryption"`
		SupportsDerivation   bool                       `json:"supports_derivation"`
		SupportsSigning      bool                       `json:"supports_signing"`
		AutoRotatePeriod     any                        `json:"auto_rotate_period"`
		Keys                 map[string]json.RawMessage `json:"keys"`
	}
	if err := DecodeData(sec, &w); err != nil {
		return nil, err
	}
	k := &TransitKey{
		Name: w.Name, Type: w.Type, LatestVersion: w.LatestVersion,
		MinAvailableVersion: w.MinAvailableVersion, MinDecryptionVersion: w.MinDecryptionVersion,
		MinEncryptionVersion: w.MinEncryptionVersion, DeletionAllowed: w.DeletionAllowed,
		Derived: w.Derived, Exportable: w.Exportable, AllowPlaintextBackup: w.AllowPlaintextBackup,
		SupportsEncryption: w.SupportsEncryption, SupportsDecryption: w.SupportsDecryption,
		SupportsDerivation: w.SupportsDerivation, SupportsSigning: w.SupportsSigning,
		Versions: make(map[int]TransitKeyVersion, len(w.Keys)), Raw: sec,
	}
	var err error
	if k.AutoRotatePeriod, err = wireDuration(w.AutoRotatePeriod); err != nil {
		return nil, fmt.Errorf("auto_rotate_period: %w", err)
	}
	for ver, raw := range w.Keys {
		n, err := strconv.Atoi(ver)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("key version %q is not a positive integer", ver)
		}
		v, err := decodeKeyVersion(raw)
		if err != nil {
			return nil, fmt.Errorf("key version %d: %w", n, err)
		}
		k.Versions[n] = v
	}
	return k, nil
}

// decodeKeyVersion reads a version entry: a Unix time for symmetric keys,
// an object with public_key and creation_time for asymmetric ones.
func decodeKeyVersion(raw json.RawMessage) (TransitKeyVersion, error) {
	var unix json.Number
	if err := decodeJSON(raw, &unix); err == nil {
		secs, err := unix.Int64()
		if err != nil {
			return TransitKeyVersion{}, fmt.Errorf("creation time %s: %w", unix, err)
		}
		return TransitKeyVersion{Created: time.Unix(secs, 0).UTC()}, nil
	}
	var obj struct {
		PublicKey    string `json:"public_key"`
		Name         string `json:"name"`
		CreationTime string `json:"creation_time"`
	}
	if err := decodeJSON(raw, &obj); err != nil {
		return TransitKeyVersion{}, err
	}
	v := TransitKeyVersion{PublicKey: obj.PublicKey, Name: obj.Name}
	if obj.CreationTime != "" {
		ts, err := time.Parse(time.RFC3339Nano, obj.CreationTime)
		if err != nil {
			return TransitKeyVersion{}, fmt.Errorf("creation_time: %w", err)
		}
		v.Created = ts
	}
	return v, nil
}

// wireDuration accepts a number of seconds or a Go duration string.
func wireDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		f, err := x.Float64()
		return time.Duration(f * float64(time.Second)), err
	case string:
		if x == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.Duration(n) * time.Second, nil
		}
		return time.ParseDuration(x)
	}
	return 0, fmt.Errorf("unexpected %T", v)
}

// ListKeys returns the names of the mount's keys (none: an empty list).
func (t *Transit) ListKeys(ctx context.Context) ([]string, error) {
	p := t.path("keys")
	sec, err := t.c.List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("transit list keys %s: %w", p, err)
	}
	return Keys(sec)
}

// RotateKey adds a new version to the named key; new encryptions use it,
// old ciphertexts still decrypt (see Rewrap).
func (t *Transit) RotateKey(ctx context.Context, name string) error {
	return t.keyOp(ctx, "rotate key", name, "rotate", nil)
}

// ConfigureKey changes the named key's settings.
func (t *Transit) ConfigureKey(ctx context.Context, name string, cfg *TransitKeyConfig) error {
	if cfg == nil {
		cfg = &TransitKeyConfig{}
	}
	return t.keyOp(ctx, "configure key", name, "config", cfg)
}

func (t *Transit) keyOp(ctx context.Context, what, name, op string, body any) error {
	if err := checkName(what, name); err != nil {
		return err
	}
	p := t.path("keys", name, op)
	if _, err := t.c.call(ctx, &request{method: http.MethodPut, path: p, body: body}); err != nil {
		return fmt.Errorf("transit %s %s: %w", what, p, err)
	}
	return nil
}

// DeleteKey deletes the named key and, with it, every way to decrypt what
// it encrypted. The server refuses unless the key's config has
// DeletionAllowed.
func (t *Transit) DeleteKey(ctx context.Context, name string) error {
	if err := checkName("delete key", name); err != nil {
		return err
	}
	p := t.path("keys", name)
	if _, err := t.c.call(ctx, &request{method: http.MethodDelete, path: p}); err != nil {
		return fmt.Errorf("transit delete key %s: %w", p, err)
	}
	return nil
}
