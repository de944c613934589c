package transit

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// verifyItem is one signature or HMAC to check.
type verifyItem struct {
	Input     *string `json:"input"`
	Signature string  `json:"signature"`
	HMAC      string  `json:"hmac"`
	Context   string  `json:"context"`
	Reference string  `json:"reference"`
}

// verify answers verify/{name}[/{algorithm}]: it checks signatures from
// sign, or HMACs from hmac. A check that fails is {"valid": false}, not an
// error; a malformed signature or HMAC is a 400.
func (b *backend) verify(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	var warnings []string
	q, err := decode[struct {
		verifyItem
		batchInput
		signParams
	}](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	items, err := q.items()
	if err != nil {
		return nil, err
	}
	useHMAC, err := verifyKind(&q.verifyItem, items)
	if err != nil {
		return nil, err
	}
	r, err := b.key(ctx, "verify", req.Var("name"))
	if err != nil {
		return nil, err
	}
	var check func(it *verifyItem, input, context []byte) (bool, error)
	if useHMAC {
		field, name := "hash_algorithm", cmpOr(q.HashAlgorithm, q.Algorithm)
		if v := req.Var("algorithm"); v != "" {
			field, name = "hash_algorithm (path)", v
		}
		h, err := digestAlg(field, name)
		if err != nil {
			return nil, err
		}
		check = func(it *verifyItem, input, _ []byte) (bool, error) {
			if it.HMAC == "" {
				return false, fieldErr("hmac", "required in every item of an HMAC batch")
			}
			return r.verifyHMAC(h, input, it.HMAC)
		}
	} else {
		if !r.p.Type.signing() {
			return nil, engineBadType("verify", r.p.Type)
		}
		o, err := q.options(req.Var("algorithm"), r.p.Type)
		if err != nil {
			return nil, err
		}
		check = func(it *verifyItem, input, context []byte) (bool, error) {
			if it.Signature == "" {
				return false, fieldErr("signature", "required in every item of a signature batch")
			}
			return r.verifySignature(it.Signature, input, context, o)
		}
	}
	one := func(it *verifyItem) (map[string]any, error) {
		if it.Input == nil {
			return nil, fieldErr("input", "required: the base64 of the signed data")
		}
		in, err := decodeB64("input", *it.Input)
		if err != nil {
			return nil, err
		}
		c, err := decodeB64("context", it.Context)
		if err != nil {
			return nil, err
		}
		ok, err := check(it, in, c)
		if err != nil {
			return nil, err
		}
		return map[string]any{"valid": ok}, nil
	}
	if items == nil {
		out, err := one(&q.verifyItem)
		if err != nil {
			return nil, err
		}
		return respond(out, warnings), nil
	}
	br, err := runBatch(items, func(_ int, item map[string]any) (map[string]any, error) {
		it, err := decodeItem[verifyItem](item)
		if err != nil {
			return nil, err
		}
		return one(&it)
	})
	if err != nil {
		return nil, err
	}
	return br.response(&q.batchInput, warnings), nil
}

// verifyKind decides between signature and HMAC checking. A single check
// sends exactly one of signature and hmac; a batch's items must all send
// the same one.
func verifyKind(single *verifyItem, items []any) (useHMAC bool, err error) {
	if items == nil {
		switch {
		case single.Signature != "" && single.HMAC != "":
			return false, fieldErr("signature", "send signature or hmac, not both")
		case single.Signature == "" && single.HMAC == "":
			return false, fieldErr("signature", "required: a signature from sign, or an hmac from hmac")
		}
		return single.HMAC != "", nil
	}
	sawSig, sawHMAC := false, false
	for _, raw := range items {
		m, _ := raw.(map[string]any)
		if s, _ := m["signature"].(string); s != "" {
			sawSig = true
		}
		if s, _ := m["hmac"].(string); s != "" {
			sawHMAC = true
		}
	}
	if sawSig && sawHMAC {
		return false, fieldErr("batch_input", "items must all carry a signature, or all carry an hmac")
	}
	return sawHMAC, nil
}
