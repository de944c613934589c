package kv

import (
	"context"
	"fmt"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func BenchmarkKVv2Read(b *testing.B) {
	h := newHarness(b, "2")
	ctx := context.Background()
	const keys = 1000
	for i := range keys {
		h.ok(update, fmt.Sprintf("data/app/key%d", i), `{"data":{"user":"svc","password":"correct horse battery staple"}}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := &engine.Request{Operation: engine.OpRead, Path: fmt.Sprintf("data/app/key%d", i%keys)}
			resp, err := h.b.Handle(ctx, req)
			if err != nil || resp == nil {
				b.Fatalf("read: %v", err)
			}
			i++
		}
	})
}

func BenchmarkKVv2Write(b *testing.B) {
	h := newHarness(b, "2")
	ctx := context.Background()
	const keys = 1000
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := &engine.Request{
				Operation: engine.OpUpdate,
				Path:      fmt.Sprintf("data/app/key%d", i%keys),
				Data:      map[string]any{"data": map[string]any{"user": "svc", "password": "correct horse battery staple"}},
			}
			if _, err := h.b.Handle(ctx, req); err != nil {
				b.Fatalf("write: %v", err)
			}
			i++
		}
	})
}
