package transit

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/wardsec/ward/internal/engine"
)

// ring is a policy with every version's material decoded and ready to
// use. A ring is immutable once built, so requests share it without
// locks; a change to the key builds a new ring.
type ring struct {
	p        *policy
	versions map[int]*material
}

// material is one version, decoded.
type material struct {
	created time.Time
	// secret is the AEAD key or ed25519 seed: the input of derivation.
	secret []byte
	// aead is ready for non-derived AEAD keys (nil otherwise). Sealing and
	// opening with a cipher.AEAD keep no state, so requests share it.
	aead    cipher.AEAD
	signer  crypto.Signer // ed25519.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey
	hmacKey []byte
	// public is the public key as a key read shows it (PEM, or base64 for
	// ed25519); pubName is its "name" there.
	public  string
	pubName string
}

// String names the key without its material.
func (r *ring) String() string { return r.p.String() }

// LogValue keeps key material out of logs.
func (r *ring) LogValue() slog.Value { return r.p.LogValue() }

// String hides the material.
func (m *material) String() string { return "transit key version (material redacted)" }

// LogValue keeps key material out of logs.
func (m *material) LogValue() slog.Value { return slog.StringValue(m.String()) }

// newRing decodes p. Versions whose stored material equals prev's are
// reused rather than parsed again (RSA keys are slow to parse).
func newRing(p *policy, prev *ring) (*ring, error) {
	r := &ring{p: p, versions: make(map[int]*material, len(p.Versions))}
	for n, v := range p.Versions {
		if prev != nil && prev.p.Type == p.Type && prev.p.Derived == p.Derived {
			if old := prev.p.Versions[n]; old != nil && bytes.Equal(old.Key, v.Key) &&
				bytes.Equal(old.HMACKey, v.HMACKey) && old.Created.Equal(v.Created) {
				r.versions[n] = prev.versions[n]
				continue
			}
		}
		m, err := decodeMaterial(p.Type, p.Derived, v)
		if err != nil {
			return nil, fmt.Errorf("key %q version %d: %w", p.Name, n, err)
		}
		r.versions[n] = m
	}
	return r, nil
}

func decodeMaterial(t keyType, derived bool, v *keyVersion) (*material, error) {
	m := &material{created: v.Created, hmacKey: v.HMACKey}
	switch {
	case t == typeHMAC:
		if len(v.Key) != 0 {
			return nil, fmt.Errorf("an hmac key holds no other material")
		}
	case t.aead():
		if len(v.Key) != t.aeadKeyLen() {
			return nil, fmt.Errorf("key is %d bytes, want %d", len(v.Key), t.aeadKeyLen())
		}
		m.secret = v.Key
		if !derived {
			a, err := newAEAD(t, v.Key)
			if err != nil {
				return nil, err
			}
			m.aead = a
		}
	case t == typeEd25519:
		if len(v.Key) != ed25519.SeedSize {
			return nil, fmt.Errorf("seed is %d bytes, want %d", len(v.Key), ed25519.SeedSize)
		}
		m.secret = v.Key
		k := ed25519.NewKeyFromSeed(v.Key)
		m.signer, m.pubName = k, "ed25519"
		if !derived {
			m.public = base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
		}
	default:
		if err := decodeAsymmetric(t, v.Key, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// decodeAsymmetric parses an ECDSA or RSA private key of type t.
func decodeAsymmetric(t keyType, der []byte, m *material) error {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return fmt.Errorf("parse private key: %w", err)
	}
	var pub any
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if t.curve() == nil || k.Curve != t.curve() {
			return fmt.Errorf("an ECDSA key does not fit type %s", t)
		}
		m.signer, pub, m.pubName = k, &k.PublicKey, k.Curve.Params().Name
	case *rsa.PrivateKey:
		if t.rsaBits() == 0 || k.N.BitLen() != t.rsaBits() {
			return fmt.Errorf("an RSA key of %d bits does not fit type %s", k.N.BitLen(), t)
		}
		m.signer, pub, m.pubName = k, &k.PublicKey, string(t)
	default:
		return fmt.Errorf("a %T does not fit type %s", k, t)
	}
	der, err = x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode public key: %w", err)
	}
	m.public = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return nil
}

func newAEAD(t keyType, key []byte) (cipher.AEAD, error) {
	if t == typeChaCha {
		return chacha20poly1305.New(key)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// useVersion picks the version to encrypt, sign or HMAC with: requested,
// or the latest when it is 0. It must be at least min_encryption_version
// and min_decryption_version: a version that may no longer decrypt must
// not make ciphertexts, signatures or HMACs either.
func (r *ring) useVersion(requested int) (int, *material, error) {
	p := r.p
	switch {
	case requested < 0:
		return 0, nil, fieldErr("key_version", "must not be negative")
	case requested == 0:
		requested = p.LatestVersion
	case requested > p.LatestVersion:
		return 0, nil, fieldErr("key_version", fmt.Sprintf("version %d does not exist: the latest is %d", requested, p.LatestVersion))
	case p.MinEncryptionVersion > 0 && requested < p.MinEncryptionVersion:
		return 0, nil, fieldErr("key_version", fmt.Sprintf("version %d is below the key's min_encryption_version (%d)", requested, p.MinEncryptionVersion))
	case requested < p.MinDecryptionVersion:
		return 0, nil, fieldErr("key_version", fmt.Sprintf("version %d is below the key's min_decryption_version (%d): it is retired", requested, p.MinDecryptionVersion))
	}
	m := r.versions[requested]
	if m == nil {
		return 0, nil, fieldErr("key_version", fmt.Sprintf("version %d was trimmed", requested))
	}
	return requested, m, nil
}

// openVersion returns version n for decrypting or verifying: it must be
// at least min_decryption_version and still held. field names the input
// that carried n.
func (r *ring) openVersion(field string, n int) (*material, error) {
	p := r.p
	switch {
	case n > p.LatestVersion:
		return nil, fieldErr(field, fmt.Sprintf("key version %d does not exist: the latest is %d", n, p.LatestVersion))
	case n < p.MinDecryptionVersion:
		return nil, fieldErr(field, fmt.Sprintf("key version %d is below the key's min_decryption_version (%d)", n, p.MinDecryptionVersion))
	}
	m := r.versions[n]
	if m == nil {
		return nil, fieldErr(field, fmt.Sprintf("key version %d was trimmed", n))
	}
	return m, nil
}

// fieldErr is the 400 for a field that broke a rule.
func fieldErr(field, rule string) error { return &engine.InputError{Field: field, Rule: rule} }
