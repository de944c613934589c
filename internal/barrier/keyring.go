package barrier

import (
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"
)

const (
	keySize     = 32 // AES-256
	termSize    = 4
	versionSize = 1
	nonceSize   = 12
	tagSize     = 16

	// valueVersion is the version byte of the value format in doc.go.
	valueVersion = 1
	// keyringVersion is the version byte of the encrypted keyring blob and
	// the "version" field of its JSON plaintext.
	keyringVersion = 1

	valueHeader = termSize + versionSize + nonceSize
)

// termKey is one term's key. It is immutable once built, except that Seal
// zeroes key.
type termKey struct {
	term      uint32
	key       []byte
	installed time.Time
	aead      cipher.AEAD
}

func newTermKey(term uint32, key []byte, installed time.Time) (*termKey, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("key term %d has %d bytes, want %d", term, len(key), keySize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &termKey{term: term, key: key, installed: installed, aead: aead}, nil
}

// String redacts the key.
func (k *termKey) String() string {
	return fmt.Sprintf("barrier.termKey{term: %d, key: REDACTED}", k.term)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// keyring is an immutable snapshot of the unsealed barrier's keys. Rotate
// builds a new one; a snapshot is never changed in place except that Seal
// zeroes its key bytes.
type keyring struct {
	rootKey     []byte
	active      *termKey
	terms       map[uint32]*termKey
	encryptions *atomic.Uint64 // values sealed under active since unseal or rotation
}

// String redacts the keys.
func (kr *keyring) String() string {
	return fmt.Sprintf("barrier.keyring{active term: %d, terms: %d, keys: REDACTED}", kr.active.term, len(kr.terms))
}

// zero overwrites every key byte the snapshot holds. The AEADs keep their
// own expanded keys, which Go gives no way to clear.
func (kr *keyring) zero() {
	clear(kr.rootKey)
	for _, k := range kr.terms {
		clear(k.key)
	}
}

// withTerm returns a copy of kr with k added and made active.
func (kr *keyring) withTerm(k *termKey) *keyring {
	terms := make(map[uint32]*termKey, len(kr.terms)+1)
	for t, v := range kr.terms {
		terms[t] = v
	}
	terms[k.term] = k
	return &keyring{rootKey: kr.rootKey, active: k, terms: terms, encryptions: new(atomic.Uint64)}
}

// maxTerm returns the highest term in the keyring.
func (kr *keyring) maxTerm() uint32 {
	var m uint32
	for t := range kr.terms {
		m = max(m, t)
	}
	return m
}

// seal encrypts plaintext for storage key under the active term.
func (kr *keyring) seal(rand io.Reader, key string, plaintext []byte) ([]byte, error) {
	k := kr.active
	out := make([]byte, valueHeader, valueHeader+len(plaintext)+tagSize)
	binary.BigEndian.PutUint32(out, k.term)
	out[termSize] = valueVersion
	nonce := out[termSize+versionSize : valueHeader]
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	out = k.aead.Seal(out, nonce, plaintext, []byte(key))
	kr.encryptions.Add(1)
	return out, nil
}

var (
	errShortValue     = errors.New("value is too short to be barrier ciphertext")
	errValueVersion   = errors.New("value has an unknown format version")
	errUnknownTerm    = errors.New("value was sealed under a key term this keyring does not hold")
	errAuthentication = errors.New("value failed authentication (tampered, corrupt, or stored under another key)")
)

// open decrypts a value stored under storage key. On error the plaintext is
// nil. An empty value opens to a non-nil empty slice.
func (kr *keyring) open(key string, value []byte) ([]byte, error) {
	if len(value) < valueHeader+tagSize {
		return nil, errShortValue
	}
	if value[termSize] != valueVersion {
		return nil, errValueVersion
	}
	k, ok := kr.terms[binary.BigEndian.Uint32(value)]
	if !ok {
		return nil, errUnknownTerm
	}
	nonce := value[termSize+versionSize : valueHeader]
	pt, err := k.aead.Open(nil, nonce, value[valueHeader:], []byte(key))
	if err != nil {
		return nil, errAuthentication
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// storedKeyring is the JSON plaintext of the keyring blob.
type storedKeyring struct {
	Version    int         `json:"version"`
	ActiveTerm uint32      `json:"active_term"`
	Terms      []storedKey `json:"terms"`
}

type storedKey struct {
	Term        uint32    `json:"term"`
	Key         []byte    `json:"key"`
	InstallTime time.Time `json:"install_time"`
}

// encode serializes kr and encrypts it under its root key:
// version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM(JSON, AAD "core/keyring").
func (kr *keyring) encode(rand io.Reader) ([]byte, error) {
	s := storedKeyring{Version: keyringVersion, ActiveTerm: kr.active.term}
	for _, k := range kr.terms {
		s.Terms = append(s.Terms, storedKey{Term: k.term, Key: k.key, InstallTime: k.installed})
	}
	slices.SortFunc(s.Terms, func(a, b storedKey) int { return cmp.Compare(a.Term, b.Term) })
	plaintext, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode keyring: %w", err)
	}
	defer clear(plaintext)
	return sealWithRoot(rand, kr.rootKey, plaintext)
}

func sealWithRoot(rand io.Reader, rootKey, plaintext []byte) ([]byte, error) {
	aead, err := newGCM(rootKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt keyring: %w", err)
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = keyringVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("encrypt keyring: read random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, []byte(KeyringPath)), nil
}

// decodeKeyring decrypts and parses a keyring blob. A blob that fails
// authentication yields ErrBadKey; one that authenticates but does not parse
// is corrupt, which is a different error. rootKey is copied.
func decodeKeyring(rootKey, blob []byte) (_ *keyring, err error) {
	if len(blob) < 1+nonceSize+tagSize || blob[0] != keyringVersion {
		return nil, errors.New("decode keyring: stored keyring is malformed")
	}
	aead, err := newGCM(rootKey)
	if err != nil {
		return nil, fmt.Errorf("decode keyring: %w", err)
	}
	plaintext, openErr := aead.Open(nil, blob[1:1+nonceSize], blob[1+nonceSize:], []byte(KeyringPath))
	if openErr != nil {
		return nil, ErrBadKey
	}
	defer clear(plaintext)
	var s storedKeyring
	rootCopy := slices.Clone(rootKey)
	defer func() {
		// On failure drop every key byte decoded so far.
		if err != nil {
			clear(rootCopy)
			for _, sk := range s.Terms {
				clear(sk.Key)
			}
		}
	}()
	if err := json.Unmarshal(plaintext, &s); err != nil {
		// json errors can quote the input, which holds keys: drop the detail.
		return nil, errors.New("decode keyring: decrypted keyring does not parse")
	}
	if s.Version != keyringVersion {
		return nil, fmt.Errorf("decode keyring: unknown keyring version %d", s.Version)
	}
	kr := &keyring{
		rootKey:     rootCopy,
		terms:       make(map[uint32]*termKey, len(s.Terms)),
		encryptions: new(atomic.Uint64),
	}
	for _, sk := range s.Terms {
		if sk.Term == 0 {
			return nil, errors.New("decode keyring: key term 0 is invalid")
		}
		if _, dup := kr.terms[sk.Term]; dup {
			return nil, fmt.Errorf("decode keyring: key term %d appears twice", sk.Term)
		}
		k, err := newTermKey(sk.Term, sk.Key, sk.InstallTime)
		if err != nil {
			return nil, fmt.Errorf("decode keyring: %w", err)
		}
		kr.terms[sk.Term] = k
	}
	kr.active = kr.terms[s.ActiveTerm]
	if kr.active == nil {
		return nil, fmt.Errorf("decode keyring: active term %d has no key", s.ActiveTerm)
	}
	return kr, nil
}
