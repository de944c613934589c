package transit

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"
)

// keyType is a key algorithm, spelled as Vault spells it.
type keyType string

const (
	typeAES128   keyType = "aes128-gcm96"
	typeAES256   keyType = "aes256-gcm96"
	typeChaCha   keyType = "chacha20-poly1305"
	typeEd25519  keyType = "ed25519"
	typeECDSA256 keyType = "ecdsa-p256"
	typeECDSA384 keyType = "ecdsa-p384"
	typeECDSA521 keyType = "ecdsa-p521"
	typeRSA2048  keyType = "rsa-2048"
	typeRSA3072  keyType = "rsa-3072"
	typeRSA4096  keyType = "rsa-4096"
	typeHMAC     keyType = "hmac"
)

// typeNames lists the key types in the order error messages show them.
const typeNames = "aes128-gcm96, aes256-gcm96, chacha20-poly1305, ed25519, ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, hmac"

// HMAC key sizes, in bytes: every version's HMAC key, and the bounds of an
// hmac key's key_size.
const (
	hmacKeyLen     = 32
	minHMACKeySize = 32
	maxHMACKeySize = 512
)

func (t keyType) known() bool {
	switch t {
	case typeAES128, typeAES256, typeChaCha, typeEd25519, typeECDSA256, typeECDSA384,
		typeECDSA521, typeRSA2048, typeRSA3072, typeRSA4096, typeHMAC:
		return true
	}
	return false
}

// aeadKeyLen is the key length of an AEAD type, 0 for the others.
func (t keyType) aeadKeyLen() int {
	switch t {
	case typeAES128:
		return 16
	case typeAES256, typeChaCha:
		return 32
	}
	return 0
}

func (t keyType) aead() bool { return t.aeadKeyLen() > 0 }

func (t keyType) curve() elliptic.Curve {
	switch t {
	case typeECDSA256:
		return elliptic.P256()
	case typeECDSA384:
		return elliptic.P384()
	case typeECDSA521:
		return elliptic.P521()
	}
	return nil
}

func (t keyType) rsaBits() int {
	switch t {
	case typeRSA2048:
		return 2048
	case typeRSA3072:
		return 3072
	case typeRSA4096:
		return 4096
	}
	return 0
}

func (t keyType) encryption() bool { return t.aead() || t.rsaBits() > 0 }
func (t keyType) signing() bool    { return t == typeEd25519 || t.curve() != nil || t.rsaBits() > 0 }
func (t keyType) derivation() bool { return t.aead() || t == typeEd25519 }
func (t keyType) asymmetric() bool { return t.signing() }

// policy is a named key as stored: its settings and every live version's
// material. Handlers never change a policy that a ring holds; changes go
// through keyStore.change, which works on a fresh copy from storage.
type policy struct {
	Name                 string        `json:"name"`
	Type                 keyType       `json:"type"`
	Derived              bool          `json:"derived,omitempty"`
	Convergent           bool          `json:"convergent_encryption,omitempty"`
	Exportable           bool          `json:"exportable,omitempty"`
	AllowPlaintextBackup bool          `json:"allow_plaintext_backup,omitempty"`
	DeletionAllowed      bool          `json:"deletion_allowed,omitempty"`
	KeySize              int           `json:"key_size,omitempty"`
	AutoRotatePeriod     time.Duration `json:"auto_rotate_period,omitempty"`
	LatestVersion        int           `json:"latest_version"`
	MinDecryptionVersion int           `json:"min_decryption_version"`
	MinEncryptionVersion int           `json:"min_encryption_version"`
	MinAvailableVersion  int           `json:"min_available_version"`
	// Versions holds versions max(1, MinAvailableVersion) to LatestVersion.
	Versions map[int]*keyVersion `json:"versions"`
}

// keyVersion is one version's material.
type keyVersion struct {
	Created time.Time `json:"created"`
	// Key is the AEAD key, the ed25519 seed, or the PKCS #8 DER of an
	// ECDSA or RSA private key; empty for hmac keys.
	Key []byte `json:"key,omitempty"`
	// HMACKey serves the hmac endpoint and HMAC verification; for hmac
	// keys it is the whole key.
	HMACKey []byte `json:"hmac_key"`
}

// String names the key without its material.
func (p *policy) String() string {
	return fmt.Sprintf("transit key %q (%s, latest version %d, material redacted)", p.Name, p.Type, p.LatestVersion)
}

// LogValue keeps key material out of logs.
func (p *policy) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("type", string(p.Type)),
		slog.Int("latest_version", p.LatestVersion))
}

// String hides the material.
func (v *keyVersion) String() string {
	return fmt.Sprintf("key version created %s (material redacted)", v.Created.UTC().Format(time.RFC3339))
}

// LogValue keeps key material out of logs.
func (v *keyVersion) LogValue() slog.Value { return slog.StringValue(v.String()) }

// firstVersion is the oldest version a policy keeps.
func (p *policy) firstVersion() int { return max(1, p.MinAvailableVersion) }

// rotationDue reports whether auto-rotation should add a version at now.
func (p *policy) rotationDue(now time.Time) bool {
	if p.AutoRotatePeriod <= 0 {
		return false
	}
	v := p.Versions[p.LatestVersion]
	return v != nil && !now.Before(v.Created.Add(p.AutoRotatePeriod))
}

// maxKeyVersion is the highest key version: a ciphertext's version has
// at most maxVersionDigits digits.
const maxKeyVersion = 999_999_999

// rotate adds a new latest version made with rnd at now.
func (p *policy) rotate(rnd io.Reader, now time.Time) error {
	if p.LatestVersion >= maxKeyVersion {
		return fmt.Errorf("key %q has reached the last version number", p.Name)
	}
	v, err := newVersion(p.Type, p.KeySize, rnd, now)
	if err != nil {
		return err
	}
	p.LatestVersion++
	p.Versions[p.LatestVersion] = v
	return nil
}

// newVersion makes fresh material for a version of type t.
func newVersion(t keyType, keySize int, rnd io.Reader, now time.Time) (*keyVersion, error) {
	v := &keyVersion{Created: now.UTC()}
	var err error
	if t == typeHMAC {
		v.HMACKey, err = randomBytes(rnd, keySize)
		return v, err
	}
	if v.HMACKey, err = randomBytes(rnd, hmacKeyLen); err != nil {
		return nil, err
	}
	switch {
	case t.aead():
		v.Key, err = randomBytes(rnd, t.aeadKeyLen())
	case t == typeEd25519:
		v.Key, err = randomBytes(rnd, ed25519.SeedSize)
	case t.curve() != nil:
		var k *ecdsa.PrivateKey
		if k, err = ecdsa.GenerateKey(t.curve(), rnd); err == nil {
			v.Key, err = x509.MarshalPKCS8PrivateKey(k)
		}
	case t.rsaBits() > 0:
		var k *rsa.PrivateKey
		if k, err = rsa.GenerateKey(rnd, t.rsaBits()); err == nil {
			v.Key, err = x509.MarshalPKCS8PrivateKey(k)
		}
	default:
		err = fmt.Errorf("unknown key type %q", t)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", t, err)
	}
	return v, nil
}

func randomBytes(rnd io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, fmt.Errorf("read randomness: %w", err)
	}
	return b, nil
}

// nameRE is the key name rule: Vault's (word characters, with "-" and "."
// inside).
var nameRE = regexp.MustCompile(`^\w([\w.-]*\w)?$`)

// maxNameLen bounds key names, in bytes.
const maxNameLen = 256

// validateName checks a key name taken from the path.
func validateName(field, name string) error {
	switch {
	case name == "":
		return fieldErr(field, "a key name is required")
	case len(name) > maxNameLen:
		return fieldErr(field, fmt.Sprintf("longer than %d bytes", maxNameLen))
	case !nameRE.MatchString(name):
		return fieldErr(field, "use letters, digits and _, with - and . allowed inside")
	}
	return nil
}

// check verifies every invariant of a policy. Keys read from storage and
// restored from backups pass through it, so a corrupt or hand-made policy
// is refused rather than half-used. Material is checked by decoding it
// (newRing); check covers the rest.
func (p *policy) check() error {
	if err := validateName("name", p.Name); err != nil {
		return err
	}
	t := p.Type
	switch {
	case !t.known():
		return fmt.Errorf("unknown key type %q", t)
	case p.Derived && !t.derivation():
		return fmt.Errorf("key type %s does not support derivation", t)
	case p.Convergent && (!p.Derived || !t.aead()):
		return fmt.Errorf("convergent encryption needs a derived AEAD key")
	case t == typeHMAC && (p.KeySize < minHMACKeySize || p.KeySize > maxHMACKeySize):
		return fmt.Errorf("hmac key size %d is outside %d..%d", p.KeySize, minHMACKeySize, maxHMACKeySize)
	case t != typeHMAC && p.KeySize != 0:
		return fmt.Errorf("key size is only for hmac keys")
	case p.AutoRotatePeriod != 0 && p.AutoRotatePeriod < time.Hour:
		return fmt.Errorf("auto rotate period below an hour")
	case p.LatestVersion < 1 || p.LatestVersion > maxKeyVersion:
		return fmt.Errorf("latest version %d is outside 1..%d", p.LatestVersion, maxKeyVersion)
	case p.MinDecryptionVersion < 1 || p.MinDecryptionVersion > p.LatestVersion:
		return fmt.Errorf("min decryption version %d is outside 1..%d", p.MinDecryptionVersion, p.LatestVersion)
	case p.MinEncryptionVersion < 0 || p.MinEncryptionVersion > p.LatestVersion:
		return fmt.Errorf("min encryption version %d is outside 0..%d", p.MinEncryptionVersion, p.LatestVersion)
	case p.MinEncryptionVersion != 0 && p.MinEncryptionVersion < p.MinDecryptionVersion:
		return fmt.Errorf("min encryption version is below min decryption version")
	case p.MinAvailableVersion < 0 || p.MinAvailableVersion > p.MinDecryptionVersion:
		return fmt.Errorf("min available version %d is outside 0..%d", p.MinAvailableVersion, p.MinDecryptionVersion)
	case len(p.Versions) != p.LatestVersion-p.firstVersion()+1:
		return fmt.Errorf("holds %d versions, want versions %d..%d", len(p.Versions), p.firstVersion(), p.LatestVersion)
	}
	for n := p.firstVersion(); n <= p.LatestVersion; n++ {
		v := p.Versions[n]
		if v == nil {
			return fmt.Errorf("version %d is missing", n)
		}
		want := hmacKeyLen
		if t == typeHMAC {
			want = p.KeySize
		}
		if len(v.HMACKey) != want {
			return fmt.Errorf("version %d: hmac key is %d bytes, want %d", n, len(v.HMACKey), want)
		}
	}
	return nil
}

// decodePolicy parses and checks a stored policy.
func decodePolicy(raw []byte) (*policy, error) {
	var p policy
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	return &p, nil
}
