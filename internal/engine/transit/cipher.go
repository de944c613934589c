package transit

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// versionPrefix starts every ciphertext, signature and HMAC. "vault:" is
// kept so that Vault's clients and stored ciphertexts keep working.
const versionPrefix = "vault:v"

// maxVersionDigits bounds the version in a ciphertext (no int overflow).
const maxVersionDigits = 9

// Derivation labels: each derived secret has its own, so no two uses of a
// version's key ever share derived material.
const (
	labelEncrypt = "ward transit encryption key"
	labelNonce   = "ward transit convergent nonce"
	labelSign    = "ward transit ed25519 seed"
)

// errUndecryptable is the one answer for a ciphertext that fails
// authentication: no detail that could help an attacker.
var errUndecryptable = fieldErr("ciphertext", "it does not decrypt with this key: it was altered, "+
	"or made with another key, context or associated data")

// formatVersioned renders "vault:v<n>:<data>".
func formatVersioned(n int, data string) string {
	return versionPrefix + strconv.Itoa(n) + ":" + data
}

// parseVersioned splits "vault:v<n>:<data>". The rule it returns names
// what is wrong without echoing the input.
func parseVersioned(s string) (int, string, string) {
	rest, ok := strings.CutPrefix(s, versionPrefix)
	if !ok {
		return 0, "", "must start with \"vault:v\" followed by the key version"
	}
	num, data, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", "missing the \":\" after the key version"
	}
	if num == "" || len(num) > maxVersionDigits || num[0] == '0' || strings.Trim(num, "0123456789") != "" {
		return 0, "", "the key version must be a positive integer"
	}
	n, _ := strconv.Atoi(num)
	return n, data, ""
}

// parseCiphertext reads "vault:v<n>:<base64>" into the version and bytes.
func parseCiphertext(s string) (int, []byte, error) {
	n, data, rule := parseVersioned(s)
	if rule != "" {
		return 0, nil, fieldErr("ciphertext", rule)
	}
	raw, err := decodeCanonical(base64.StdEncoding, data)
	if err != nil || len(raw) == 0 {
		return 0, nil, fieldErr("ciphertext", "the data after the key version must be non-empty base64")
	}
	return n, raw, nil
}

// decodeCanonical decodes s only if it is how enc writes the bytes, so
// that a ciphertext, signature or HMAC has one spelling: Strict refuses
// stray bits in the last character, and line breaks, which every decoder
// skips, are refused here.
func decodeCanonical(enc *base64.Encoding, s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("line break in base64")
	}
	return enc.Strict().DecodeString(s)
}

// formatCiphertext is the inverse of parseCiphertext.
func formatCiphertext(n int, raw []byte) string {
	buf := make([]byte, 0, len(versionPrefix)+maxVersionDigits+1+base64.StdEncoding.EncodedLen(len(raw)))
	buf = strconv.AppendInt(append(buf, versionPrefix...), int64(n), 10)
	return string(base64.StdEncoding.AppendEncode(append(buf, ':'), raw))
}

// derive returns n bytes of HKDF-SHA256 from secret for label and context.
func derive(secret []byte, label string, context []byte, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, label+"\x00"+string(context), n)
}

// cipherInput is what, besides the data, an encryption or decryption takes.
type cipherInput struct {
	context []byte // derivation context
	aad     []byte // associated data (AEAD types)
	padding string // RSA padding: "oaep", the only one (or "")
	// paddingField names the request field padding came from.
	paddingField string
}

// check refuses inputs that do not fit the key's type.
func (in *cipherInput) check(p *policy) error {
	field := in.paddingField
	if field == "" {
		field = "padding_scheme"
	}
	switch {
	case p.Derived && len(in.context) == 0:
		return fieldErr("context", "required: the key is derived, so every request must carry a base64 context")
	case p.Type.rsaBits() > 0 && len(in.aad) > 0:
		return fieldErr("associated_data", "RSA keys take no associated data")
	case p.Type.rsaBits() == 0 && in.padding != "":
		return fieldErr(field, "only RSA keys take a padding scheme")
	case in.padding == "pkcs1v15":
		// Decrypting PKCS #1 v1.5 on request is a padding oracle
		// (Bleichenbacher): whether it fails leaks the plaintext.
		return fieldErr(field, "pkcs1v15 encryption is refused because its decryption is a padding oracle; use oaep")
	case in.padding != "" && in.padding != "oaep":
		return fieldErr(field, "must be oaep")
	}
	return nil
}

// aeadFor returns the AEAD of version m for the input's context.
func (r *ring) aeadFor(m *material, in *cipherInput) (cipher.AEAD, error) {
	if !r.p.Derived {
		return m.aead, nil
	}
	key, err := derive(m.secret, labelEncrypt, in.context, r.p.Type.aeadKeyLen())
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	return newAEAD(r.p.Type, key)
}

// encrypt encrypts pt with version n and returns the wire ciphertext.
func (r *ring) encrypt(rnd io.Reader, n int, m *material, pt []byte, in *cipherInput) (string, error) {
	t := r.p.Type
	if !t.encryption() {
		return "", engineBadType("encrypt", t)
	}
	if err := in.check(r.p); err != nil {
		return "", err
	}
	if t.rsaBits() > 0 {
		pub := &m.signer.(*rsa.PrivateKey).PublicKey
		if len(pt) > pub.Size()-2*sha256.Size-2 {
			return "", fieldErr("plaintext", fmt.Sprintf("too long for a %d-bit RSA key with this padding", t.rsaBits()))
		}
		out, err := rsa.EncryptOAEP(sha256.New(), rnd, pub, pt, nil)
		if err != nil {
			return "", fmt.Errorf("rsa encrypt: %w", err)
		}
		return formatCiphertext(n, out), nil
	}
	a, err := r.aeadFor(m, in)
	if err != nil {
		return "", err
	}
	ns := a.NonceSize()
	out := make([]byte, ns, ns+len(pt)+a.Overhead())
	if r.p.Convergent {
		var nonce []byte
		if nonce, err = convergentNonce(m.secret, in, pt, ns); err == nil {
			copy(out, nonce)
		}
	} else if _, err = io.ReadFull(rnd, out); err != nil {
		err = fmt.Errorf("read randomness: %w", err)
	}
	if err != nil {
		return "", err
	}
	return formatCiphertext(n, a.Seal(out, out, pt, in.aad)), nil
}

// convergentNonce derives the nonce of a convergent encryption: an HMAC of
// the associated data and plaintext under a per-version, per-context
// secret. Equal inputs give equal nonces (and so equal ciphertexts); any
// other input gives an unrelated nonce, so a nonce never repeats with
// different data under one key.
func convergentNonce(secret []byte, in *cipherInput, pt []byte, size int) ([]byte, error) {
	key, err := derive(secret, labelNonce, in.context, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive nonce key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(in.aad)))
	mac.Write(l[:])
	mac.Write(in.aad)
	mac.Write(pt)
	return mac.Sum(nil)[:size], nil
}

// decrypt opens a wire ciphertext; it returns the plaintext and the
// version that encrypted it.
func (r *ring) decrypt(ct string, in *cipherInput) ([]byte, int, error) {
	t := r.p.Type
	if !t.encryption() {
		return nil, 0, engineBadType("decrypt", t)
	}
	if err := in.check(r.p); err != nil {
		return nil, 0, err
	}
	n, raw, err := parseCiphertext(ct)
	if err != nil {
		return nil, 0, err
	}
	m, err := r.openVersion("ciphertext", n)
	if err != nil {
		return nil, 0, err
	}
	if t.rsaBits() > 0 {
		priv := m.signer.(*rsa.PrivateKey)
		pt, err := rsa.DecryptOAEP(sha256.New(), nil, priv, raw, nil)
		if err != nil {
			return nil, 0, errUndecryptable
		}
		return pt, n, nil
	}
	a, err := r.aeadFor(m, in)
	if err != nil {
		return nil, 0, err
	}
	ns := a.NonceSize()
	if len(raw) < ns+a.Overhead() {
		return nil, 0, errUndecryptable
	}
	pt, err := a.Open(nil, raw[:ns], raw[ns:], in.aad)
	if err != nil {
		return nil, 0, errUndecryptable
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, n, nil
}
