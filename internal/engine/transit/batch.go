package transit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wardsec/ward/internal/engine"
)

// batchInput is the part of a request body shared by every endpoint that
// takes batch_input.
type batchInput struct {
	BatchInput                 any  `json:"batch_input"`
	PartialFailureResponseCode *int `json:"partial_failure_response_code"`
}

// items returns the batch items, or nil when the request is not a batch.
// batch_input is a JSON array of objects, or that array as a JSON string
// (what the CLI's batch_input=@file.json sends).
func (bi *batchInput) items() ([]any, error) {
	switch x := bi.BatchInput.(type) {
	case nil:
		return nil, nil
	case []any:
		if len(x) == 0 {
			return nil, fieldErr("batch_input", "must hold at least one item")
		}
		return x, nil
	case string:
		var items []any
		if err := json.Unmarshal([]byte(strings.TrimSpace(x)), &items); err != nil {
			return nil, fieldErr("batch_input", "expected a JSON array of objects")
		}
		return (&batchInput{BatchInput: items}).items()
	}
	return nil, fieldErr("batch_input", "expected a JSON array of objects")
}

// batchResult collects the per-item results of a batch.
type batchResult struct {
	results    []map[string]any
	ok, failed int
}

// runBatch calls fn for every item, in order. A client error (a 400)
// fails that item alone: its result holds "error" and nothing else but
// "reference". Any other error fails the whole request, so an internal
// failure is never disguised as a bad item. Every result echoes the
// item's "reference".
func runBatch(items []any, fn func(item map[string]any) (map[string]any, error)) (*batchResult, error) {
	br := &batchResult{results: make([]map[string]any, len(items))}
	for i, raw := range items {
		item, isObject := raw.(map[string]any)
		var out map[string]any
		var err error
		if isObject {
			out, err = fn(item)
		} else {
			err = fieldErr(fmt.Sprintf("batch_input[%d]", i), "expected an object")
		}
		if err != nil {
			if !errors.Is(err, engine.ErrInvalidRequest) {
				return nil, err
			}
			out = map[string]any{"error": err.Error()}
			br.failed++
		} else {
			br.ok++
		}
		out["reference"] = reference(item)
		br.results[i] = out
	}
	return br, nil
}

// reference returns an item's "reference" as text ("" when absent).
func reference(item map[string]any) string {
	switch x := item["reference"].(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(item["reference"])
}

// response answers a batch as Vault does: 200 when every item worked;
// 400 with the results when any failed, unless some worked and the caller
// chose another status with partial_failure_response_code.
func (br *batchResult) response(bi *batchInput, warnings []string) *engine.Response {
	resp := respond(map[string]any{"batch_results": br.results}, warnings)
	if br.failed == 0 {
		return resp
	}
	resp.Status = http.StatusBadRequest
	if br.ok > 0 && bi.PartialFailureResponseCode != nil {
		if c := *bi.PartialFailureResponseCode; c >= 200 && c <= 599 {
			resp.Status = c
		} else {
			resp.Warnings = append(resp.Warnings, "partial_failure_response_code must be an HTTP status from 200 to 599: answering 400")
		}
	}
	return resp
}

// itemBody is the body of an operation that takes batch_input: the
// fields of one item (the single-item form) and batch_input. A request
// type has both methods by embedding its item type, which defines item,
// and batchInput.
type itemBody[T any] interface {
	item() *T
	batch() *batchInput
}

func (bi *batchInput) batch() *batchInput { return bi }

// itemFunc does an operation on one item and returns its result; batch
// says whether the item came from batch_input.
type itemFunc[T any] func(it *T, batch bool) (map[string]any, error)

// handleItems is the plumbing of encrypt, decrypt, rewrap, hmac, sign and
// verify. It decodes the body into a Q, reads batch_input and calls
// prepare, which checks the request-wide fields, finds the key and
// returns what to do with one item. It runs that on the body's own item,
// or on every batch item (see runBatch), and builds the answer. Unknown
// fields in batch items are ignored without a warning: a warning per item
// would drown the answer.
func handleItems[Q, T any, PQ interface {
	*Q
	itemBody[T]
}](req *engine.Request, prepare func(q PQ, items []any) (itemFunc[T], error)) (*engine.Response, error) {
	var warnings []string
	body, err := decode[Q](req.Data, &warnings)
	if err != nil {
		return nil, err
	}
	q := PQ(&body)
	items, err := q.batch().items()
	if err != nil {
		return nil, err
	}
	one, err := prepare(q, items)
	if err != nil {
		return nil, err
	}
	if items == nil {
		out, err := one(q.item(), false)
		if err != nil {
			return nil, err
		}
		return respond(out, warnings), nil
	}
	br, err := runBatch(items, func(m map[string]any) (map[string]any, error) {
		it, _, err := engine.Decode[T](m)
		if err != nil {
			return nil, err
		}
		return one(&it, true)
	})
	if err != nil {
		return nil, err
	}
	return br.response(q.batch(), warnings), nil
}
