package kv

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// A secret deleted with its metadata and written again reuses version 1's
// storage key: the data cache must serve the new value, never the old.
func TestDataCacheServesRewrittenVersion(t *testing.T) {
	h := newHarness(t, "2")
	for i := range 20 {
		h.ok(engine.OpUpdate, "data/app", fmt.Sprintf(`{"data":{"v":"value-%d"}}`, i))
		if got := secretData(t, h.ok(engine.OpRead, "data/app", ""))["v"]; got != fmt.Sprintf("value-%d", i) {
			t.Fatalf("round %d: read %v", i, got)
		}
		h.ok(engine.OpDelete, "metadata/app", "")
		if resp, err := h.do(engine.OpRead, "data/app", ""); err != nil || resp != nil {
			t.Fatalf("round %d: read after metadata delete = %v, %v", i, resp, err)
		}
	}
}

// Destroyed versions are not served from the cache, and values too large
// to cache are read from storage.
func TestDataCacheDestroyAndLargeValues(t *testing.T) {
	h := newHarness(t, "2")
	big := strings.Repeat("x", maxCachedData+1)
	h.ok(engine.OpUpdate, "data/big", `{"data":{"v":"`+big+`"}}`)
	if got := secretData(t, h.ok(engine.OpRead, "data/big", ""))["v"]; got != big {
		t.Fatalf("large value read back wrong (%d bytes)", len(fmt.Sprint(got)))
	}
	h.ok(engine.OpUpdate, "data/s", `{"data":{"v":"one"}}`)
	h.ok(engine.OpRead, "data/s", "") // cached now
	h.ok(engine.OpUpdate, "destroy/s", `{"versions":[1]}`)
	resp, err := h.do(engine.OpRead, "data/s", "")
	if err != nil || resp == nil || resp.Status != 404 || resp.Data["data"] != nil {
		t.Fatalf("read of a destroyed version = %+v, %v", resp, err)
	}
	if keys := h.storedKeys(versionPrefix("s")); len(keys) != 0 {
		t.Fatalf("destroyed data still stored: %v", keys)
	}
}

// Readers racing deletions and rewrites of the same secret: once a write
// has returned, every read that starts afterwards sees it.
func TestDataCacheReadersRacingRewrites(t *testing.T) {
	h := newHarness(t, "2")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = h.b.Handle(t.Context(), &engine.Request{Operation: engine.OpRead, Path: "data/race"})
			}
		}()
	}
	for i := range 200 {
		want := fmt.Sprintf("value-%d", i)
		h.ok(engine.OpUpdate, "data/race", `{"data":{"v":"`+want+`"}}`)
		if got := secretData(t, h.ok(engine.OpRead, "data/race", ""))["v"]; got != want {
			close(stop)
			wg.Wait()
			t.Fatalf("round %d: read %v after writing %s", i, got, want)
		}
		h.ok(engine.OpDelete, "metadata/race", "")
	}
	close(stop)
	wg.Wait()
}
