package core_test

import (
	"testing"
	"time"

	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/bolt"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// BenchmarkWrapUnwrap wraps a small secret and unwraps it through the
// whole pipeline, from many goroutines: what `ward bench -scenario=
// wrap-unwrap` does without HTTP. On bolt every commit is fsync'd, so this
// shows how well wrapping-token creation, use and revocation share commits.
func BenchmarkWrapUnwrap(b *testing.B) {
	b.Run("inmem", func(b *testing.B) { benchWrapUnwrap(b, inmem.New()) })
	b.Run("bolt", func(b *testing.B) {
		db, err := bolt.Open(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		benchWrapUnwrap(b, db)
	})
}

func benchWrapUnwrap(b *testing.B, physical storage.Backend) {
	c := newCore(b, physical)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		b.Fatal(err)
	}
	data := map[string]any{"value": "0123456789abcdef0123456789abcdef"}
	b.SetParallelism(16) // 32 clients on 2 cores, as ward bench runs
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			wt := wrapOnce(b, c, data)
			if _, err := call(b, c, "root", engine.OpUpdate, "sys/wrapping/unwrap", map[string]any{"token": wt}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// wrapOnce wraps data with sys/wrapping/wrap and returns the wrapping token.
func wrapOnce(t testing.TB, c *core.Core, data map[string]any) string {
	t.Helper()
	resp, err := c.Handle(ctx, &engine.Request{ID: "w", Operation: engine.OpUpdate, Path: "sys/wrapping/wrap", Data: data, ClientToken: "root", WrapTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.WrapInfo == nil || resp.WrapInfo.Token == "" {
		t.Fatalf("wrap = %+v, want wrap info", resp)
	}
	return resp.WrapInfo.Token
}
