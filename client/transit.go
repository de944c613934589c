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
	"strings"
	"time"

	"github.com/wardsec/ward/api"
)

// Transit uses a transit mount: encryption as a service. Keys never leave
// the server; callers send bytes and get back "vault:v<N>:…" ciphertexts,
// signatures and HMACs. Every byte slice here is raw: the helpers do the
// base64 encoding the wire format needs.
type Transit struct {
	c     *Client
	mount string
}

// Transit returns helpers for the transit mount at mount ("transit").
func (c *Client) Transit(mount string) *Transit {
	return &Transit{c: c, mount: strings.Trim(mount, "/")}
}

// TransitOptions are the optional inputs of Encrypt, Decrypt, Rewrap and
// the data key calls. A nil *TransitOptions means none.
type TransitOptions struct {
	// Context is the key derivation context; required by derived keys.
	Context []byte
	// KeyVersion picks the key version to encrypt with (0: the latest).
	// Decrypt ignores it: the version is inside the ciphertext.
	KeyVersion int
	// Nonce is only for convergent keys made by very old servers.
	Nonce []byte
	// AssociatedData is authenticated but not encrypted (AEAD key types);
	// decryption must present the same bytes.
	AssociatedData []byte
}

func (o *TransitOptions) body(b map[string]any) map[string]any {
	if o == nil {
		return b
	}
	putB64(b, "context", o.Context)
	putB64(b, "nonce", o.Nonce)
	putB64(b, "associated_data", o.AssociatedData)
	if o.KeyVersion > 0 {
		b["key_version"] = o.KeyVersion
	}
	return b
}

func putB64(b map[string]any, k string, v []byte) {
	if len(v) > 0 {
		b[k] = base64.StdEncoding.EncodeToString(v)
	}
}

// path joins the mount and the non-empty parts.
func (t *Transit) path(parts ...string) string {
	p := t.mount
	for _, s := range parts {
		if s != "" {
			p += "/" + s
		}
	}
	return p
}

// str sends body to path and returns the string data field named field;
// what names the operation in errors. A reply without it is an error.
func (t *Transit) str(ctx context.Context, what, path string, body any, field string) (string, error) {
	sec, err := t.c.call(ctx, &request{method: http.MethodPut, path: path, body: body})
	if err != nil {
		return "", fmt.Errorf("transit %s %s: %w", what, path, err)
	}
	var v string
	ok := sec != nil
	if ok {
		v, ok = sec.Data[field].(string)
	}
	if !ok {
		return "", fmt.Errorf("transit %s %s: server returned no %s", what, path, field)
	}
	return v, nil
}

// b64 is str for a base64 field, decoded.
func (t *Transit) b64(ctx context.Context, what, path string, body any, field string) ([]byte, error) {
	s, err := t.str(ctx, what, path, body, field)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("transit %s %s: %s is not base64: %w", what, path, field, err)
	}
	return b, nil
}

func checkName(what, name string) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("transit %s: invalid key name %q", what, name)
	}
	return nil
}

// Encrypt encrypts plaintext with key and returns the ciphertext
// ("vault:v<N>:<base64>"). The version it names is the key version used.
func (t *Transit) Encrypt(ctx context.Context, key string, plaintext []byte, opts *TransitOptions) (string, error) {
	if err := checkName("encrypt", key); err != nil {
		return "", err
	}
	body := opts.body(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plaintext)})
	return t.str(ctx, "encrypt", t.path("encrypt", key), body, "ciphertext")
}

// Decrypt decrypts a ciphertext made by Encrypt (or Rewrap) with key. A
// ciphertext that was altered, or made with another key or context, is
// refused with a 400 *ResponseError.
func (t *Transit) Decrypt(ctx context.Context, key, ciphertext string, opts *TransitOptions) ([]byte, error) {
	if err := checkName("decrypt", key); err != nil {
		return nil, err
	}
	if opts != nil {
		o := *opts
		o.KeyVersion = 0
		opts = &o
	}
	body := opts.body(map[string]any{"ciphertext": ciphertext})
	return t.b64(ctx, "decrypt", t.path("decrypt", key), body, "plaintext")
}

// Rewrap re-encrypts ciphertext under the latest version of key (or
// opts.KeyVersion) without revealing the plaintext to anyone.
func (t *Transit) Rewrap(ctx context.Context, key, ciphertext string, opts *TransitOptions) (string, error) {
	if err := checkName("rewrap", key); err != nil {
		return "", err
	}
	body := opts.body(map[string]any{"ciphertext": ciphertext})
	return t.str(ctx, "rewrap", t.path("rewrap", key), body, "ciphertext")
}

// CiphertextVersion returns the key version named by a "vault:v<N>:…"
// ciphertext, signature or HMAC.
func CiphertextVersion(s string) (int, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	v, _, ok2 := strings.Cut(rest, ":")
	n, err := strconv.Atoi(v)
	if !ok || !ok2 || err != nil || n <= 0 || v[0] < '1' || v[0] > '9' {
		return 0, errors.New("parse ciphertext: not of the form vault:v<N>:<data>")
	}
	return n, nil
}

// TransitItem is one input of a batch call: Plaintext for EncryptBatch,
// Ciphertext for DecryptBatch. Reference is echoed back in the result.
type TransitItem struct {
	Plaintext  []byte
	Ciphertext string
	Context    []byte
	Nonce      []byte
	KeyVersion int
	Reference  string
}

// String describes the item without its plaintext.
func (i TransitItem) String() string {
	return fmt.Sprintf("client.TransitItem{Plaintext:<%d bytes redacted> Ciphertext:%q Reference:%q}",
		len(i.Plaintext), i.Ciphertext, i.Reference)
}

// TransitResult is the outcome of one batch item. Err holds the server's
// message when that item alone failed; the other fields are then empty.
type TransitResult struct {
	Ciphertext string
	Plaintext  []byte
	KeyVersion int
	Reference  string
	Err        error
}

// String describes the result without its plaintext.
func (r TransitResult) String() string {
	return fmt.Sprintf("client.TransitResult{Ciphertext:%q Plaintext:<%d bytes redacted> KeyVersion:%d Reference:%q Err:%v}",
		r.Ciphertext, len(r.Plaintext), r.KeyVersion, r.Reference, r.Err)
}

// EncryptBatch encrypts many plaintexts with key in one request. A bad
// item fails alone: its result's Err is set and the others succeed. The
// error return is for a request that failed as a whole.
func (t *Transit) EncryptBatch(ctx context.Context, key string, items []TransitItem) ([]TransitResult, error) {
	in := make([]map[string]any, len(items))
	for i, it := range items {
		in[i] = it.wire(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(it.Plaintext)})
	}
	return t.batch(ctx, "encrypt", key, in)
}

// DecryptBatch decrypts many ciphertexts with key in one request; a bad
// item fails alone, as in EncryptBatch.
func (t *Transit) DecryptBatch(ctx context.Context, key string, items []TransitItem) ([]TransitResult, error) {
	in := make([]map[string]any, len(items))
	for i, it := range items {
		it.KeyVersion = 0
		in[i] = it.wire(map[string]any{"ciphertext": it.Ciphertext})
	}
	return t.batch(ctx, "decrypt", key, in)
}

func (it TransitItem) wire(b map[string]any) map[string]any {
	putB64(b, "context", it.Context)
	putB64(b, "nonce", it.Nonce)
	if it.KeyVersion > 0 {
		b["key_version"] = it.KeyVersion
	}
	if it.Reference != "" {
		b["reference"] = it.Reference
	}
	return b
}

// batch sends a batch_input. Servers answer a partial failure with 400
// and the per-item results in the body, so a 400 that carries
// batch_results is not an error here.
func (t *Transit) batch(ctx context.Context, op, key string, in []map[string]any) ([]TransitResult, error) {
	if err := checkName(op+" batch", key); err != nil {
		return nil, err
	}
	p := t.path(op, key)
	if len(in) == 0 {
		return nil, fmt.Errorf("transit %s batch %s: no items", op, p)
	}
	resp, hreq, err := t.c.do(ctx, &request{method: http.MethodPut, path: p, body: map[string]any{"batch_input": in}})
	if err != nil {
		return nil, fmt.Errorf("transit %s batch %s: %w", op, p, err)
	}
	var d struct {
		Results []struct {
			Ciphertext string      `json:"ciphertext"`
			Plaintext  *string     `json:"plaintext"`
			KeyVersion json.Number `json:"key_version"`
			Reference  string      `json:"reference"`
			Error      string      `json:"error"`
		} `json:"batch_results"`
	}
	sec, perr := ParseSecret(resp.body)
	if perr == nil {
		perr = DecodeData(sec, &d)
	}
	if resp.status >= 400 && (perr != nil || d.Results == nil || resp.status != http.StatusBadRequest) {
		return nil, fmt.Errorf("transit %s batch %s: %w", op, p, t.c.responseError(hreq, resp.status, resp.body))
	}
	if perr != nil {
		return nil, fmt.Errorf("transit %s batch %s: %w", op, p, perr)
	}
	if len(d.Results) != len(in) {
		return nil, fmt.Errorf("transit %s batch %s: %d results for %d items", op, p, len(d.Results), len(in))
	}
	out := make([]TransitResult, len(d.Results))
	for i, r := range d.Results {
		res := TransitResult{Ciphertext: r.Ciphertext, Reference: r.Reference}
		if r.Error != "" {
			res = TransitResult{Reference: r.Reference, Err: fmt.Errorf("transit %s batch item %d: %s", op, i, r.Error)}
		}
		if v, err := r.KeyVersion.Int64(); err == nil {
			res.KeyVersion = int(v)
		}
		if r.Plaintext != nil && r.Error == "" {
			if res.Plaintext, err = base64.StdEncoding.DecodeString(*r.Plaintext); err != nil {
				res.Err = fmt.Errorf("transit %s batch item %d: plaintext is not base64: %w", op, i, err)
			}
		}
		out[i] = res
	}
	return out, nil
}

// DataKey is a fresh random key and its encryption under a transit key.
// Store Ciphertext beside the data; Decrypt gives the key back.
type DataKey struct {
	// Plaintext is the key itself; nil from GenerateWrappedDataKey.
	Plaintext  []byte
	Ciphertext string
	KeyVersion int
}

// String describes the data key without its plaintext.
func (k *DataKey) String() string {
	return fmt.Sprintf("client.DataKey{Plaintext:<redacted> Ciphertext:%q KeyVersion:%d}", k.Ciphertext, k.KeyVersion)
}

// GenerateDataKey returns a new random key of bits (128, 256 or 512; 0
// means 256) in plaintext and encrypted with key.
func (t *Transit) GenerateDataKey(ctx context.Context, key string, bits int, opts *TransitOptions) (*DataKey, error) {
	return t.dataKey(ctx, "plaintext", key, bits, opts)
}

// GenerateWrappedDataKey is GenerateDataKey without the plaintext: only
// whoever may decrypt with key can learn the new key.
func (t *Transit) GenerateWrappedDataKey(ctx context.Context, key string, bits int, opts *TransitOptions) (*DataKey, error) {
	return t.dataKey(ctx, "wrapped", key, bits, opts)
}

func (t *Transit) dataKey(ctx context.Context, kind, key string, bits int, opts *TransitOptions) (*DataKey, error) {
	if err := checkName("datakey", key); err != nil {
		return nil, err
	}
	body := opts.body(map[string]any{})
	if bits > 0 {
		body["bits"] = bits
	}
	p := t.path("datakey", kind, key)
	sec, err := t.c.call(ctx, &request{method: http.MethodPut, path: p, body: body})
	if err != nil {
		return nil, fmt.Errorf("transit datakey %s: %w", p, err)
	}
	var d struct {
		Plaintext  *string     `json:"plaintext"`
		Ciphertext string      `json:"ciphertext"`
		KeyVersion json.Number `json:"key_version"`
	}
	if err := DecodeData(sec, &d); err != nil {
		return nil, fmt.Errorf("transit datakey %s: %w", p, err)
	}
	if d.Ciphertext == "" || (kind == "plaintext") != (d.Plaintext != nil) {
		return nil, fmt.Errorf("transit datakey %s: server returned no ciphertext, or plaintext for a wrapped key or none for a plaintext one", p)
	}
	out := &DataKey{Ciphertext: d.Ciphertext}
	if v, err := d.KeyVersion.Int64(); err == nil {
		out.KeyVersion = int(v)
	}
	if d.Plaintext != nil {
		if out.Plaintext, err = base64.StdEncoding.DecodeString(*d.Plaintext); err != nil {
			return nil, fmt.Errorf("transit datakey %s: plaintext is not base64: %w", p, err)
		}
	}
	return out, nil
}

// SignOptions tune Sign and Verify. A nil *SignOptions means the
// server's defaults: sha2-256, PSS for RSA, ASN.1 for ECDSA.
type SignOptions struct {
	// HashAlgorithm is "sha2-256", "sha2-384", "sha2-512", … (not used
	// by ed25519). It travels in the URL, which every server accepts.
	HashAlgorithm string
	// SignatureAlgorithm is "pss" or "pkcs1v15" (RSA keys).
	SignatureAlgorithm string
	// MarshalingAlgorithm is "asn1" or "jws" (ECDSA keys).
	MarshalingAlgorithm string
	// Prehashed says the input is already a digest.
	Prehashed bool
	// KeyVersion picks the version to sign with (0: the latest).
	KeyVersion int
	// Context is the derivation context of derived ed25519 keys.
	Context []byte
}

// apply adds the options to b and returns the request path.
func (o *SignOptions) apply(t *Transit, op, key string, b map[string]any) string {
	if o == nil {
		return t.path(op, key)
	}
	putB64(b, "context", o.Context)
	for k, v := range map[string]string{"signature_algorithm": o.SignatureAlgorithm, "marshaling_algorithm": o.MarshalingAlgorithm} {
		if v != "" {
			b[k] = v
		}
	}
	if o.Prehashed {
		b["prehashed"] = true
	}
	if o.KeyVersion > 0 && op == "sign" {
		b["key_version"] = o.KeyVersion
	}
	if o.HashAlgorithm != "" {
		return t.path(op, key, o.HashAlgorithm)
	}
	return t.path(op, key)
}

// Sign signs input with an asymmetric key and returns the signature
// ("vault:v<N>:<base64>").
func (t *Transit) Sign(ctx context.Context, key string, input []byte, opts *SignOptions) (string, error) {
	if err := checkName("sign", key); err != nil {
		return "", err
	}
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input)}
	return t.str(ctx, "sign", opts.apply(t, "sign", key, body), body, "signature")
}

// Verify reports whether signature is a valid signature of input by key.
// A signature that does not verify is (false, nil), not an error.
func (t *Transit) Verify(ctx context.Context, key string, input []byte, signature string, opts *SignOptions) (bool, error) {
	if err := checkName("verify", key); err != nil {
		return false, err
	}
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input), "signature": signature}
	return t.verify(ctx, opts.apply(t, "verify", key, body), body)
}

func (t *Transit) verify(ctx context.Context, p string, body map[string]any) (bool, error) {
	sec, err := t.c.call(ctx, &request{method: http.MethodPut, path: p, body: body})
	if err != nil {
		return false, fmt.Errorf("transit verify %s: %w", p, err)
	}
	var d struct {
		Valid *bool `json:"valid"`
	}
	if err := DecodeData(sec, &d); err != nil || d.Valid == nil {
		return false, fmt.Errorf("transit verify %s: server returned no verdict", p)
	}
	return *d.Valid, nil
}

// HMAC returns the HMAC of input under key ("vault:v<N>:<base64>") using
// algorithm ("sha2-256" when empty).
func (t *Transit) HMAC(ctx context.Context, key, algorithm string, input []byte) (string, error) {
	if err := checkName("hmac", key); err != nil {
		return "", err
	}
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input)}
	return t.str(ctx, "hmac", t.path("hmac", key, algorithm), body, "hmac")
}

// VerifyHMAC reports whether mac (from HMAC) matches input under key.
func (t *Transit) VerifyHMAC(ctx context.Context, key, algorithm string, input []byte, mac string) (bool, error) {
	if err := checkName("verify", key); err != nil {
		return false, err
	}
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input), "hmac": mac}
	return t.verify(ctx, t.path("verify", key, algorithm), body)
}

// Random returns n random bytes from the server (n of 0 means 32).
func (t *Transit) Random(ctx context.Context, n int) ([]byte, error) {
	body := map[string]any{"format": "base64"}
	if n > 0 {
		body["bytes"] = n
	}
	return t.b64(ctx, "random", t.path("random"), body, "random_bytes")
}

// Hash returns the digest of input with algorithm ("sha2-256" when
// empty; also sha2-224/384/512 and sha3-224/256/384/512).
func (t *Transit) Hash(ctx context.Context, algorithm string, input []byte) ([]byte, error) {
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input), "format": "base64"}
	return t.b64(ctx, "hash", t.path("hash", algorithm), body, "sum")
}

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
