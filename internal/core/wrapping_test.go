package core_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// wrapCore is an unsealed dev core over mem, whose keys the tests inspect.
func wrapCore(t *testing.T) (*core.Core, *inmem.Backend) {
	t.Helper()
	mem := inmem.New()
	c := newCore(t, mem)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	return c, mem
}

// leftovers returns the stored keys a finished unwrap must not leave: a
// wrapped response in a cubbyhole, or a token revocation still pending.
func leftovers(t *testing.T, mem storage.Backend) []string {
	t.Helper()
	keys, err := storage.List(ctx, mem, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if strings.HasSuffix(k, "/response") || strings.Contains(k, "sys/token/pending/") {
			out = append(out, k)
		}
	}
	return out
}

// Of many unwraps racing for one wrapping token exactly one gets the
// response; the others are told the token is not valid, and afterwards the
// token is gone with its cubbyhole.
func TestUnwrapExactlyOnceUnderRace(t *testing.T) {
	c, mem := wrapCore(t)
	for round := range 10 {
		wt := wrapOnce(t, c, map[string]any{"value": "the-secret"})
		var won, refused atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				resp, err := call(t, c, "root", engine.OpUpdate, "sys/wrapping/unwrap", map[string]any{"token": wt})
				switch {
				case err == nil && resp != nil && resp.Raw != nil && bytes.Contains(resp.Raw.Body, []byte("the-secret")):
					won.Add(1)
				case errors.Is(err, engine.ErrInvalidRequest) && strings.Contains(err.Error(), "not valid"):
					refused.Add(1)
				default:
					t.Errorf("unwrap: %+v, %v", resp, err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 || refused.Load() != 7 {
			t.Fatalf("round %d: %d unwraps got the response and %d were refused; want 1 and 7", round, won.Load(), refused.Load())
		}
		if _, err := call(t, c, "root", engine.OpUpdate, "sys/wrapping/lookup", map[string]any{"token": wt}); !errors.Is(err, engine.ErrInvalidRequest) {
			t.Fatalf("lookup of an unwrapped token = %v, want not valid", err)
		}
	}
	if left := leftovers(t, mem); len(left) != 0 {
		t.Fatalf("left after the unwraps: %v", left)
	}
}

// Concurrent wraps and unwraps of different tokens all succeed, and their
// revocations, which run side by side, leave nothing behind.
func TestConcurrentWrapUnwrap(t *testing.T) {
	c, mem := wrapCore(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 15 {
				val := strings.Repeat(string(rune('a'+g)), 20)
				wt := wrapOnce(t, c, map[string]any{"value": val})
				resp, err := call(t, c, "root", engine.OpUpdate, "sys/wrapping/unwrap", map[string]any{"token": wt})
				if err != nil || resp.Raw == nil || !bytes.Contains(resp.Raw.Body, []byte(val)) {
					t.Errorf("unwrap: %+v, %v", resp, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if left := leftovers(t, mem); len(left) != 0 {
		t.Fatalf("left after the unwraps: %v", left)
	}
}
