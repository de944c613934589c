package transit

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// plaintext100 is the benchmarks' 100-byte plaintext, base64-encoded.
var plaintext100 = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("0123456789", 10)))

func BenchmarkEncrypt(b *testing.B) {
	h := newHarness(b)
	h.ok(update, "keys/bench", "")
	ctx := context.Background()
	data := map[string]any{"plaintext": plaintext100}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpUpdate, Path: "encrypt/bench", Data: data})
			if err != nil || resp.Data["ciphertext"] == nil {
				b.Fatalf("encrypt: %v", err)
			}
		}
	})
}

func BenchmarkDecrypt(b *testing.B) {
	h := newHarness(b)
	h.ok(update, "keys/bench", "")
	ctx := context.Background()
	data := map[string]any{"ciphertext": h.encrypt("bench", strings.Repeat("0123456789", 10), "")}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpUpdate, Path: "decrypt/bench", Data: data})
			if err != nil || resp.Data["plaintext"] != plaintext100 {
				b.Fatalf("decrypt: %v", err)
			}
		}
	})
}
