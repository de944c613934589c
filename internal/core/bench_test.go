package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// BenchmarkKVv2ReadThroughCore is a KV v2 read through the whole pipeline
// (token lookup, ACL, engine, barrier decrypt) without HTTP, by a
// non-root token so the ACL check runs.
func BenchmarkKVv2ReadThroughCore(b *testing.B) {
	c := devCore(b)
	mustCall(b, c, "root", engine.OpUpdate, "sys/policies/acl/reader", map[string]any{
		"policy": `path "secret/data/*" { capabilities = ["read"] }`,
	})
	tok := mustCall(b, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "reader"}).Auth.ClientToken
	for i := 0; i < 1000; i++ {
		mustCall(b, c, "root", engine.OpUpdate, fmt.Sprintf("secret/data/k%d", i), map[string]any{"data": map[string]any{"v": fmt.Sprintf("%0100d", i)}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := call(b, c, tok, engine.OpRead, fmt.Sprintf("secret/data/k%d", i%1000), nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkKVv2WriteThroughCore writes new versions through the pipeline
// (inmem storage: this measures core, not fsync).
func BenchmarkKVv2WriteThroughCore(b *testing.B) {
	c := devCore(b)
	data := map[string]any{"data": map[string]any{"v": fmt.Sprintf("%0100d", 7)}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := call(b, c, "root", engine.OpUpdate, fmt.Sprintf("secret/data/w%d", i%1000), data); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// discardDevice takes every audit line and keeps none.
type discardDevice struct{}

func (discardDevice) Write(context.Context, []byte) error { return nil }
func (discardDevice) Reopen() error                       { return nil }
func (discardDevice) Close() error                        { return nil }

// BenchmarkKVv2ReadThroughCoreAudited is BenchmarkKVv2ReadThroughCore with
// one audit device that discards its lines: the cost of building, HMACing
// and chaining the request and response entries.
func BenchmarkKVv2ReadThroughCoreAudited(b *testing.B) {
	c, err := core.New(core.Options{
		Physical:   inmem.New(),
		Engines:    map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:     func(c *core.Core) engine.Backend { return sys.New(c) },
		AuditTypes: map[string]core.AuditFactory{"discard": func(map[string]string) (audit.Device, error) { return discardDevice{}, nil }},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Seal()
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		b.Fatal(err)
	}
	mustCall(b, c, "root", engine.OpUpdate, "sys/audit/discard", map[string]any{"type": "discard"})
	for i := 0; i < 1000; i++ {
		mustCall(b, c, "root", engine.OpUpdate, fmt.Sprintf("secret/data/k%d", i), map[string]any{"data": map[string]any{"v": fmt.Sprintf("%0100d", i)}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := call(b, c, "root", engine.OpRead, fmt.Sprintf("secret/data/k%d", i%1000), nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
