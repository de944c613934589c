package transit

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"

	"github.com/wardsec/ward/internal/engine"
)

// hashAlg is a hash algorithm as Vault names it.
type hashAlg struct {
	name string
	id   crypto.Hash // 0 for "none"
	new  func() hash.Hash
}

// hashAlgs are the algorithms of hash, hmac, sign and verify. sha1 and
// none are for signatures only (legacy verification and raw PKCS #1 v1.5).
var hashAlgs = map[string]hashAlg{
	"sha1":     {"sha1", crypto.SHA1, sha1.New},
	"sha2-224": {"sha2-224", crypto.SHA224, sha256.New224},
	"sha2-256": {"sha2-256", crypto.SHA256, sha256.New},
	"sha2-384": {"sha2-384", crypto.SHA384, sha512.New384},
	"sha2-512": {"sha2-512", crypto.SHA512, sha512.New},
	"sha3-224": {"sha3-224", crypto.SHA3_224, func() hash.Hash { return sha3.New224() }},
	"sha3-256": {"sha3-256", crypto.SHA3_256, func() hash.Hash { return sha3.New256() }},
	"sha3-384": {"sha3-384", crypto.SHA3_384, func() hash.Hash { return sha3.New384() }},
	"sha3-512": {"sha3-512", crypto.SHA3_512, func() hash.Hash { return sha3.New512() }},
	"none":     {name: "none"},
}

const (
	digestNames    = "sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512"
	signatureNames = "sha1, " + digestNames + ", none"
)

// digestAlg returns the hash or HMAC algorithm name, from the path or the
// body ("sha2-256" when neither sets it).
func digestAlg(field, name string) (hashAlg, error) {
	if name == "" {
		name = "sha2-256"
	}
	h, ok := hashAlgs[name]
	if !ok || h.name == "sha1" || h.name == "none" {
		return hashAlg{}, fieldErr(field, fmt.Sprintf("unsupported algorithm %q: use one of %s", name, digestNames))
	}
	return h, nil
}

// signatureAlg is digestAlg for sign and verify, which also take sha1 and none.
func signatureAlg(field, name string) (hashAlg, error) {
	if name == "" {
		name = "sha2-256"
	}
	h, ok := hashAlgs[name]
	if !ok {
		return hashAlg{}, fieldErr(field, fmt.Sprintf("unsupported algorithm %q: use one of %s", name, signatureNames))
	}
	return h, nil
}

func (h hashAlg) sum(data []byte) []byte {
	d := h.new()
	d.Write(data)
	return d.Sum(nil)
}

// hash answers hash[/{algorithm}].
func (b *backend) hash(_ context.Context, req *engine.Request) (*engine.Response, error) {
	var warnings []string
	q, err := decode[struct {
		Input     *string `json:"input"`
		Algorithm string  `json:"algorithm"`
		Format    string  `json:"format"`
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	field, name := "algorithm", q.Algorithm
	if v := req.Var("algorithm"); v != "" {
		field, name = "algorithm (path)", v
	}
	h, err := digestAlg(field, name)
	if err != nil {
		return nil, err
	}
	if q.Input == nil {
		return nil, fieldErr("input", "required: the base64 of the data to hash")
	}
	in, err := decodeB64("input", *q.Input)
	if err != nil {
		return nil, err
	}
	sum := h.sum(in)
	var out string
	switch q.Format {
	case "", "hex":
		out = hex.EncodeToString(sum)
	case "base64":
		out = base64.StdEncoding.EncodeToString(sum)
	default:
		return nil, fieldErr("format", "use hex or base64")
	}
	return respond(map[string]any{"sum": out}, warnings), nil
}

// maxRandomBytes is the most random bytes one request may ask for.
const maxRandomBytes = 128 * 1024

// random answers random[/{source}][/{bytes}]. A single path segment is the
// byte count when it is a number and the source otherwise.
func (b *backend) random(_ context.Context, req *engine.Request) (*engine.Response, error) {
	var warnings []string
	q, err := decode[struct {
		Bytes  *int   `json:"bytes"`
		Format string `json:"format"`
		Source string `json:"source"`
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	source, count := req.Var("source"), req.Var("bytes")
	if a := req.Var("a"); a != "" {
		if _, err := strconv.Atoi(a); err == nil {
			count = a
		} else {
			source = a
		}
	}
	n := 32
	if q.Bytes != nil {
		n = *q.Bytes
	}
	if count != "" {
		if n, err = strconv.Atoi(count); err != nil {
			return nil, fieldErr("bytes", "the count in the path must be a number")
		}
	}
	if n < 1 || n > maxRandomBytes {
		return nil, fieldErr("bytes", fmt.Sprintf("must be 1 to %d", maxRandomBytes))
	}
	switch cmpOr(source, cmpOr(q.Source, "platform")) {
	case "platform", "all":
	case "seal":
		return nil, fieldErr("source", "this server has no seal entropy source: use platform")
	default:
		return nil, fieldErr("source", "use platform, seal or all")
	}
	buf, err := randomBytes(b.rand(), n)
	if err != nil {
		return nil, err
	}
	var out string
	switch q.Format {
	case "", "base64":
		out = base64.StdEncoding.EncodeToString(buf)
	case "hex":
		out = hex.EncodeToString(buf)
	default:
		return nil, fieldErr("format", "use base64 or hex")
	}
	return respond(map[string]any{"random_bytes": out}, warnings), nil
}

// hmacItem is one input to HMAC.
type hmacItem struct {
	Input     *string `json:"input"`
	Reference string  `json:"reference"`
}

// String describes the item without its input.
func (it hmacItem) String() string {
	return fmt.Sprintf("hmac item (input redacted, reference %q)", it.Reference)
}

func (it *hmacItem) item() *hmacItem { return it }

type hmacRequest struct {
	hmacItem
	batchInput
	KeyVersion int    `json:"key_version"`
	Algorithm  string `json:"algorithm"`
}

// hmac answers hmac/{name}[/{algorithm}].
func (b *backend) hmac(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return handleItems(req, func(q *hmacRequest, _ []any) (itemFunc[hmacItem], error) {
		field, name := "algorithm", q.Algorithm
		if v := req.Var("algorithm"); v != "" {
			field, name = "algorithm (path)", v
		}
		h, err := digestAlg(field, name)
		if err != nil {
			return nil, err
		}
		r, err := b.key(ctx, "hmac", req.Var("name"))
		if err != nil {
			return nil, err
		}
		n, m, err := r.useVersion(q.KeyVersion)
		if err != nil {
			return nil, err
		}
		return func(it *hmacItem, _ bool) (map[string]any, error) {
			in, err := requiredB64("input", it.Input, "the data to HMAC")
			if err != nil {
				return nil, err
			}
			return map[string]any{"hmac": formatVersioned(n, base64.StdEncoding.EncodeToString(macOf(h, m.hmacKey, in)))}, nil
		}, nil
	})
}

func macOf(h hashAlg, key, data []byte) []byte {
	mac := hmac.New(h.new, key)
	mac.Write(data)
	return mac.Sum(nil)
}

// verifyHMAC checks a "vault:v<n>:<base64>" HMAC of input.
func (r *ring) verifyHMAC(h hashAlg, input []byte, tag string) (bool, error) {
	n, data, rule := parseVersioned(tag)
	if rule != "" {
		return false, fieldErr("hmac", rule)
	}
	want, err := decodeCanonical(base64.StdEncoding, data)
	if err != nil {
		return false, fieldErr("hmac", "the data after the key version must be base64 as hmac writes it")
	}
	m, err := r.openVersion("hmac", n)
	if err != nil {
		return false, err
	}
	return hmac.Equal(macOf(h, m.hmacKey, input), want), nil
}
