package transit

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"strconv"

	"github.com/wardsec/ward/internal/engine"
)

// signParams are the body fields that shape a signature.
type signParams struct {
	HashAlgorithm       string `json:"hash_algorithm"`
	Algorithm           string `json:"algorithm"` // older name of hash_algorithm
	Prehashed           bool   `json:"prehashed"`
	SignatureAlgorithm  string `json:"signature_algorithm"`
	MarshalingAlgorithm string `json:"marshaling_algorithm"`
	SaltLength          string `json:"salt_length"`
}

// signOptions are signParams checked against the key type.
type signOptions struct {
	hash      hashAlg
	prehashed bool
	pkcs1v15  bool // else PSS (RSA)
	jws       bool // else ASN.1 (ECDSA)
	salt      int  // PSS salt length (rsa.PSSSaltLength* or bytes)
}

// options checks the parameters; urlAlg is the hash named in the path,
// which wins over the body.
func (sp *signParams) options(urlAlg string, t keyType) (*signOptions, error) {
	field, name := "hash_algorithm", cmpOr(sp.HashAlgorithm, sp.Algorithm)
	if urlAlg != "" {
		field, name = "hash_algorithm (path)", urlAlg
	}
	h, err := signatureAlg(field, name)
	if err != nil {
		return nil, err
	}
	o := &signOptions{hash: h, prehashed: sp.Prehashed, salt: rsa.PSSSaltLengthAuto}
	switch sp.SignatureAlgorithm {
	case "", "pss":
	case "pkcs1v15":
		o.pkcs1v15 = true
	default:
		return nil, fieldErr("signature_algorithm", "use pss or pkcs1v15")
	}
	switch sp.MarshalingAlgorithm {
	case "", "asn1":
	case "jws":
		o.jws = true
	default:
		return nil, fieldErr("marshaling_algorithm", "use asn1 or jws")
	}
	switch sp.SaltLength {
	case "", "auto":
	case "hash":
		o.salt = rsa.PSSSaltLengthEqualsHash
	default:
		n, err := strconv.Atoi(sp.SaltLength)
		if err != nil || n < 0 {
			return nil, fieldErr("salt_length", "use auto, hash or a non-negative number of bytes")
		}
		o.salt = n
	}
	switch {
	case h.name == "none" && (t.rsaBits() == 0 || !o.pkcs1v15 || !o.prehashed):
		return nil, fieldErr(field, "none needs an RSA key, signature_algorithm=pkcs1v15 and prehashed=true")
	case t == typeEd25519 && o.prehashed:
		return nil, fieldErr("prehashed", "ed25519 signs the input itself (Ed25519ph is not supported)")
	}
	return o, nil
}

// digest returns what the key signs: the input itself for ed25519 and
// prehashed inputs, else its hash.
func (o *signOptions) digest(t keyType, input []byte) ([]byte, error) {
	switch {
	case t == typeEd25519:
		return input, nil
	case !o.prehashed:
		return o.hash.sum(input), nil
	case t.rsaBits() > 0 && o.hash.id != 0 && len(input) != o.hash.id.Size():
		return nil, fieldErr("input", fmt.Sprintf("a prehashed %s input must be %d bytes", o.hash.name, o.hash.id.Size()))
	}
	return input, nil
}

func (o *signOptions) encoding() *base64.Encoding {
	if o.jws {
		return base64.RawURLEncoding
	}
	return base64.StdEncoding
}

// ed25519Key returns the signing key of version m for context: the
// version's own, or one derived from its seed for derived keys.
func (r *ring) ed25519Key(m *material, context []byte) (ed25519.PrivateKey, error) {
	if !r.p.Derived {
		return m.signer.(ed25519.PrivateKey), nil
	}
	if len(context) == 0 {
		return nil, fieldErr("context", "required: the key is derived, so every request must carry a base64 context")
	}
	seed, err := derive(m.secret, labelSign, context, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// sign signs input with version n; for derived ed25519 keys it also
// returns the derived public key.
func (r *ring) sign(rnd io.Reader, n int, m *material, input, context []byte, o *signOptions) (string, ed25519.PublicKey, error) {
	t := r.p.Type
	digest, err := o.digest(t, input)
	if err != nil {
		return "", nil, err
	}
	var raw []byte
	var pub ed25519.PublicKey
	src := &readerErr{r: rnd}
	switch k := m.signer.(type) {
	case ed25519.PrivateKey:
		key, err := r.ed25519Key(m, context)
		if err != nil {
			return "", nil, err
		}
		raw = ed25519.Sign(key, input)
		if r.p.Derived {
			pub = key.Public().(ed25519.PublicKey)
		}
	case *ecdsa.PrivateKey:
		if o.jws {
			var rr, ss *big.Int
			if rr, ss, err = ecdsa.Sign(src, k, digest); err == nil {
				size := (k.Curve.Params().BitSize + 7) / 8
				raw = append(rr.FillBytes(make([]byte, size)), ss.FillBytes(make([]byte, size))...)
			}
		} else {
			raw, err = ecdsa.SignASN1(src, k, digest)
		}
	case *rsa.PrivateKey:
		if o.pkcs1v15 {
			raw, err = rsa.SignPKCS1v15(src, k, o.hash.id, digest)
		} else {
			raw, err = rsa.SignPSS(src, k, o.hash.id, digest, &rsa.PSSOptions{SaltLength: o.salt})
		}
		if err != nil && src.err == nil {
			// The input or the options do not fit the key (a salt too
			// long for it, an unhashed input too long to sign).
			return "", nil, engine.BadRequest("sign: %v", err)
		}
	default:
		return "", nil, engineBadType("sign", t)
	}
	if err != nil {
		return "", nil, fmt.Errorf("sign: %w", err)
	}
	return formatVersioned(n, o.encoding().EncodeToString(raw)), pub, nil
}

// readerErr records the first error its reader returns, so that a
// failure for want of randomness is told from one caused by the input.
type readerErr struct {
	r   io.Reader
	err error
}

func (e *readerErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// verifySignature checks a "vault:v<n>:<signature>" of input.
func (r *ring) verifySignature(sig string, input, context []byte, o *signOptions) (bool, error) {
	n, data, rule := parseVersioned(sig)
	if rule != "" {
		return false, fieldErr("signature", rule)
	}
	raw, err := decodeCanonical(o.encoding(), data)
	if err != nil {
		return false, fieldErr("signature", "the data after the key version is not in the encoding marshaling_algorithm implies")
	}
	m, err := r.openVersion("signature", n)
	if err != nil {
		return false, err
	}
	digest, err := o.digest(r.p.Type, input)
	if err != nil {
		return false, err
	}
	switch k := m.signer.(type) {
	case ed25519.PrivateKey:
		key, err := r.ed25519Key(m, context)
		if err != nil {
			return false, err
		}
		return ed25519.Verify(key.Public().(ed25519.PublicKey), input, raw), nil
	case *ecdsa.PrivateKey:
		if !o.jws {
			return ecdsa.VerifyASN1(&k.PublicKey, digest, raw), nil
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(raw) != 2*size {
			return false, nil
		}
		rr, ss := new(big.Int).SetBytes(raw[:size]), new(big.Int).SetBytes(raw[size:])
		return ecdsa.Verify(&k.PublicKey, digest, rr, ss), nil
	case *rsa.PrivateKey:
		if o.pkcs1v15 {
			return rsa.VerifyPKCS1v15(&k.PublicKey, o.hash.id, digest, raw) == nil, nil
		}
		return rsa.VerifyPSS(&k.PublicKey, o.hash.id, digest, raw, &rsa.PSSOptions{SaltLength: o.salt}) == nil, nil
	}
	return false, engineBadType("verify", r.p.Type)
}

// signItem is one input to sign.
type signItem struct {
	Input     *string `json:"input"`
	Context   string  `json:"context"`
	Reference string  `json:"reference"`
}

func (it *signItem) item() *signItem { return it }

// String describes the item without its input.
func (it signItem) String() string {
	return fmt.Sprintf("sign item (input redacted, reference %q)", it.Reference)
}

type signRequest struct {
	signItem
	batchInput
	signParams
	KeyVersion int `json:"key_version"`
}

// sign answers sign/{name}[/{algorithm}].
func (b *backend) sign(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return handleItems(req, func(q *signRequest, _ []any) (itemFunc[signItem], error) {
		r, err := b.key(ctx, "sign", req.Var("name"))
		if err != nil {
			return nil, err
		}
		if !r.p.Type.signing() {
			return nil, engineBadType("sign", r.p.Type)
		}
		o, err := q.options(req.Var("algorithm"), r.p.Type)
		if err != nil {
			return nil, err
		}
		n, m, err := r.useVersion(q.KeyVersion)
		if err != nil {
			return nil, err
		}
		return func(it *signItem, batch bool) (map[string]any, error) {
			in, c, err := inputAndContext(it.Input, it.Context, "the data to sign")
			if err != nil {
				return nil, err
			}
			sig, pub, err := r.sign(b.rand(), n, m, in, c, o)
			if err != nil {
				return nil, err
			}
			out := map[string]any{"signature": sig, "key_version": n}
			if pub != nil && batch {
				out["publickey"] = base64.StdEncoding.EncodeToString(pub)
			}
			return out, nil
		}, nil
	})
}

// inputAndContext decodes the input and context of a sign or verify
// item; what says what the input holds.
func inputAndContext(input *string, context, what string) ([]byte, []byte, error) {
	in, err := requiredB64("input", input, what)
	if err != nil {
		return nil, nil, err
	}
	c, err := decodeB64("context", context)
	if err != nil {
		return nil, nil, err
	}
	return in, c, nil
}
