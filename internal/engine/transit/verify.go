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

func (it *verifyItem) item() *verifyItem { return it }

type verifyRequest struct {
	verifyItem
	batchInput
	signParams
}

// verify answers verify/{name}[/{algorithm}]: it checks signatures from
// sign, or HMACs from hmac. A check that fails is {"valid": false}, not an
// error; a malformed signature or HMAC is a 400.
func (b *backend) verify(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	return handleItems(req, func(q *verifyRequest, items []any) (itemFunc[verifyItem], error) {
		useHMAC, err := verifyKind(&q.verifyItem, items)
		if err != nil {
			return nil, err
		}
		r, err := b.key(ctx, "verify", req.Var("name"))
		if err != nil {
			return nil, err
		}
		check, err := q.checker(r, req.Var("algorithm"), useHMAC)
		if err != nil {
			return nil, err
		}
		return func(it *verifyItem, _ bool) (map[string]any, error) {
			in, c, err := inputAndContext(it.Input, it.Context, "the signed data")
			if err != nil {
				return nil, err
			}
			ok, err := check(it, in, c)
			if err != nil {
				return nil, err
			}
			return map[string]any{"valid": ok}, nil
		}, nil
	})
}

// checker returns the check of one item: an HMAC check, or a signature
// check with the request's signature parameters. urlAlg is the algorithm
// named in the path.
func (q *verifyRequest) checker(r *ring, urlAlg string, useHMAC bool) (func(it *verifyItem, input, context []byte) (bool, error), error) {
	if useHMAC {
		field, name := "hash_algorithm", cmpOr(q.HashAlgorithm, q.Algorithm)
		if urlAlg != "" {
			field, name = "hash_algorithm (path)", urlAlg
		}
		h, err := digestAlg(field, name)
		if err != nil {
			return nil, err
		}
		return func(it *verifyItem, input, _ []byte) (bool, error) {
			if it.HMAC == "" {
				return false, fieldErr("hmac", "required in every item of an HMAC batch")
			}
			return r.verifyHMAC(h, input, it.HMAC)
		}, nil
	}
	if !r.p.Type.signing() {
		return nil, engineBadType("verify", r.p.Type)
	}
	o, err := q.options(urlAlg, r.p.Type)
	if err != nil {
		return nil, err
	}
	return func(it *verifyItem, input, context []byte) (bool, error) {
		if it.Signature == "" {
			return false, fieldErr("signature", "required in every item of a signature batch")
		}
		return r.verifySignature(it.Signature, input, context, o)
	}, nil
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
