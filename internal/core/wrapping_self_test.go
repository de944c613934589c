package core_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// A wrapping token may be presented as the client token to the wrapping
// endpoints: lookup leaves it alone, unwrap works once.
func TestWrappingTokenAsClientToken(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "secret/data/w", map[string]any{"data": map[string]any{"k": "wrapped-value"}})
	resp, err := c.Handle(ctx, &engine.Request{ID: "r1", Operation: engine.OpRead, Path: "secret/data/w", ClientToken: "root", WrapTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wt := resp.WrapInfo.Token

	for i := 0; i < 2; i++ {
		r := mustCall(t, c, wt, engine.OpUpdate, "sys/wrapping/lookup", nil)
		if r.Data["creation_path"] != "secret/data/w" {
			t.Fatalf("lookup %d = %v", i, r.Data)
		}
	}
	r := mustCall(t, c, wt, engine.OpUpdate, "sys/wrapping/unwrap", nil)
	if r.Raw == nil || !bytes.Contains(r.Raw.Body, []byte("wrapped-value")) {
		t.Fatalf("unwrap = %+v", r)
	}
	// A spent wrapping token is "not valid" (400), as clients expect.
	if _, err := call(t, c, wt, engine.OpUpdate, "sys/wrapping/unwrap", nil); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("second unwrap: %v, want wrapping token is not valid", err)
	}

	// Anywhere else the token's single use is spent as usual.
	resp, err = c.Handle(ctx, &engine.Request{ID: "r2", Operation: engine.OpRead, Path: "secret/data/w", ClientToken: "root", WrapTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wt = resp.WrapInfo.Token
	if _, err := call(t, c, wt, engine.OpRead, "cubbyhole/response", nil); err != nil {
		t.Fatalf("legacy read of cubbyhole/response: %v", err)
	}
	if _, err := call(t, c, wt, engine.OpUpdate, "sys/wrapping/unwrap", nil); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("unwrap after the use was spent: %v, want wrapping token is not valid", err)
	}
}
