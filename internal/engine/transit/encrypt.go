package transit

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/wardsec/ward/internal/engine"
)

// encryptItem is one plaintext to encrypt: the body of encrypt/{name}, or
// one of its batch_input items.
type encryptItem struct {
	Plaintext      *string `json:"plaintext"`
	Context        string  `json:"context"`
	Nonce          string  `json:"nonce"`
	AssociatedData string  `json:"associated_data"`
	KeyVersion     int     `json:"key_version"`
	PaddingScheme  string  `json:"padding_scheme"`
	Reference      string  `json:"reference"`
}

func (it *encryptItem) item() *encryptItem { return it }

// String describes the item without its plaintext.
func (it encryptItem) String() string {
	return fmt.Sprintf("encrypt item (plaintext redacted, reference %q)", it.Reference)
}

type encryptRequest struct {
	encryptItem
	batchInput
	// Type and ConvergentEncryption shape a key created by this request.
	Type                 string `json:"type"`
	ConvergentEncryption bool   `json:"convergent_encryption"`
}

func (b *backend) encrypt(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name := req.Var("name")
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	return handleItems(req, func(q *encryptRequest, items []any) (itemFunc[encryptItem], error) {
		firstContext := q.Context
		if items != nil {
			firstContext = ""
			if m, ok := items[0].(map[string]any); ok {
				firstContext, _ = m["context"].(string)
			}
		}
		r, err := b.encryptionKey(ctx, req, name, q, firstContext)
		if err != nil {
			return nil, err
		}
		return func(it *encryptItem, _ bool) (map[string]any, error) {
			return b.encryptOne(r, it, q.PaddingScheme)
		}, nil
	})
}

// encryptionKey returns the key to encrypt with. A missing key is created
// (Vault's upsert) when the request is a create — the caller holds the
// create capability, as core's existence check decided — and is a 400
// otherwise. The new key is derived when the (first) item has a context.
func (b *backend) encryptionKey(ctx context.Context, req *engine.Request, name string, q *encryptRequest, firstContext string) (*ring, error) {
	r, err := b.keys.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if r != nil {
		if req.CreateOnly {
			return nil, engine.ErrCreateOnly
		}
		return r, nil
	}
	if req.Operation != engine.OpCreate {
		return nil, engine.BadRequest("encrypt: key %q not found (creating it on first use takes the create capability on this path)", name)
	}
	if t := keyType(q.Type); t.known() && !t.encryption() {
		return nil, fieldErr("type", fmt.Sprintf("%s keys cannot encrypt", t))
	}
	o := keyOptions{Type: q.Type, Derived: firstContext != "", ConvergentEncryption: q.ConvergentEncryption}
	created := false
	r, err = b.keys.change(ctx, name, func(cur *policy) (*policy, bool, error) {
		if cur != nil {
			return cur, false, nil
		}
		p, err := newPolicy(name, o, b.rand(), b.now())
		created = err == nil
		return p, created, err
	})
	if err != nil {
		return nil, err
	}
	if !created && req.CreateOnly {
		return nil, engine.ErrCreateOnly
	}
	return r, nil
}

// encryptOne encrypts one item; padding is the request-wide
// padding_scheme, used when the item has none.
func (b *backend) encryptOne(r *ring, it *encryptItem, padding string) (map[string]any, error) {
	if it.Plaintext == nil {
		return nil, fieldErr("plaintext", "required: the base64 of the data to encrypt")
	}
	if it.Nonce != "" {
		return nil, fieldErr("nonce", "not accepted: Ward makes every nonce (random, or derived from the plaintext for convergent keys)")
	}
	pt, err := decodeB64("plaintext", *it.Plaintext)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	if it.PaddingScheme != "" {
		padding = it.PaddingScheme
	}
	in, err := newCipherInput(it.Context, it.AssociatedData, padding, "padding_scheme")
	if err != nil {
		return nil, err
	}
	n, m, err := r.useVersion(it.KeyVersion)
	if err != nil {
		return nil, err
	}
	ct, err := r.encrypt(b.rand(), n, m, pt, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ciphertext": ct, "key_version": n}, nil
}

func newCipherInput(context, aad, padding, paddingField string) (*cipherInput, error) {
	c, err := decodeB64("context", context)
	if err != nil {
		return nil, err
	}
	a, err := decodeB64("associated_data", aad)
	if err != nil {
		return nil, err
	}
	return &cipherInput{context: c, aad: a, padding: padding, paddingField: paddingField}, nil
}

// decryptItem is one ciphertext to decrypt. Nonce is accepted and
// ignored: Ward's ciphertexts carry their nonce.
type decryptItem struct {
	Ciphertext     *string `json:"ciphertext"`
	Context        string  `json:"context"`
	Nonce          string  `json:"nonce"`
	AssociatedData string  `json:"associated_data"`
	PaddingScheme  string  `json:"padding_scheme"`
	Reference      string  `json:"reference"`
}

func (it *decryptItem) item() *decryptItem { return it }

type decryptRequest struct {
	decryptItem
	batchInput
}

func (b *backend) decrypt(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return handleItems(req, func(q *decryptRequest, _ []any) (itemFunc[decryptItem], error) {
		r, err := b.key(ctx, "decrypt", req.Var("name"))
		if err != nil {
			return nil, err
		}
		return func(it *decryptItem, _ bool) (map[string]any, error) {
			return decryptOne(r, it, q.PaddingScheme)
		}, nil
	})
}

// decryptOne decrypts one item; padding is the request-wide
// padding_scheme, used when the item has none.
func decryptOne(r *ring, it *decryptItem, padding string) (map[string]any, error) {
	if it.Ciphertext == nil || *it.Ciphertext == "" {
		return nil, fieldErr("ciphertext", "required")
	}
	if it.PaddingScheme != "" {
		padding = it.PaddingScheme
	}
	in, err := newCipherInput(it.Context, it.AssociatedData, padding, "padding_scheme")
	if err != nil {
		return nil, err
	}
	pt, _, err := r.decrypt(*it.Ciphertext, in)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}, nil
}

// rewrapItem is one ciphertext to re-encrypt. associated_data, a Ward
// addition, is used for both the decryption and the new encryption.
type rewrapItem struct {
	Ciphertext           *string `json:"ciphertext"`
	Context              string  `json:"context"`
	Nonce                string  `json:"nonce"`
	AssociatedData       string  `json:"associated_data"`
	KeyVersion           int     `json:"key_version"`
	DecryptPaddingScheme string  `json:"decrypt_padding_scheme"`
	EncryptPaddingScheme string  `json:"encrypt_padding_scheme"`
	Reference            string  `json:"reference"`
}

func (it *rewrapItem) item() *rewrapItem { return it }

type rewrapRequest struct {
	rewrapItem
	batchInput
}

func (b *backend) rewrap(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return handleItems(req, func(q *rewrapRequest, _ []any) (itemFunc[rewrapItem], error) {
		r, err := b.key(ctx, "rewrap", req.Var("name"))
		if err != nil {
			return nil, err
		}
		return func(it *rewrapItem, _ bool) (map[string]any, error) {
			return b.rewrapOne(r, it, &q.rewrapItem)
		}, nil
	})
}

// rewrapOne re-encrypts one item; top holds the request-wide padding
// schemes, used when the item has none.
func (b *backend) rewrapOne(r *ring, it *rewrapItem, top *rewrapItem) (map[string]any, error) {
	if it.Ciphertext == nil || *it.Ciphertext == "" {
		return nil, fieldErr("ciphertext", "required")
	}
	it.DecryptPaddingScheme = cmpOr(it.DecryptPaddingScheme, top.DecryptPaddingScheme)
	it.EncryptPaddingScheme = cmpOr(it.EncryptPaddingScheme, top.EncryptPaddingScheme)
	dec, err := newCipherInput(it.Context, it.AssociatedData, it.DecryptPaddingScheme, "decrypt_padding_scheme")
	if err != nil {
		return nil, err
	}
	pt, _, err := r.decrypt(*it.Ciphertext, dec)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	n, m, err := r.useVersion(it.KeyVersion)
	if err != nil {
		return nil, err
	}
	enc := *dec
	enc.padding, enc.paddingField = it.EncryptPaddingScheme, "encrypt_padding_scheme"
	ct, err := r.encrypt(b.rand(), n, m, pt, &enc)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ciphertext": ct, "key_version": n}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dataKey generates a random key and returns it encrypted with the named
// key, and in plaintext too on datakey/plaintext/{name}.
func (b *backend) dataKey(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	kind := req.Var("kind")
	if kind != "plaintext" && kind != "wrapped" {
		return nil, fieldErr("type", "the path must say datakey/plaintext/<name> or datakey/wrapped/<name>")
	}
	var warnings []string
	q, err := decode[struct {
		Context        string `json:"context"`
		Nonce          string `json:"nonce"`
		Bits           int    `json:"bits"`
		KeyVersion     int    `json:"key_version"`
		AssociatedData string `json:"associated_data"`
		PaddingScheme  string `json:"padding_scheme"`
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	switch q.Bits {
	case 0:
		q.Bits = 256
	case 128, 256, 512:
	default:
		return nil, fieldErr("bits", "must be 128, 256 or 512")
	}
	if q.Nonce != "" {
		return nil, fieldErr("nonce", "not accepted: Ward makes every nonce")
	}
	r, err := b.key(ctx, "datakey", req.Var("name"))
	if err != nil {
		return nil, err
	}
	in, err := newCipherInput(q.Context, q.AssociatedData, q.PaddingScheme, "padding_scheme")
	if err != nil {
		return nil, err
	}
	n, m, err := r.useVersion(q.KeyVersion)
	if err != nil {
		return nil, err
	}
	pt, err := randomBytes(b.rand(), q.Bits/8)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	ct, err := r.encrypt(b.rand(), n, m, pt, in)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ciphertext": ct, "key_version": n}
	if kind == "plaintext" {
		out["plaintext"] = base64.StdEncoding.EncodeToString(pt)
	}
	return respond(out, warnings), nil
}
