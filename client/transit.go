package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
