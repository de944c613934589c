package core_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/engine/transit"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// transitCore is an unsealed core with transit/ mounted, a key "bench",
// and a token whose policy may only encrypt and decrypt with it.
func transitCore(b *testing.B) (*core.Core, string) {
	c, err := core.New(core.Options{
		Physical: inmem.New(),
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory, "transit": transit.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Seal)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		b.Fatal(err)
	}
	mustCall(b, c, "root", engine.OpUpdate, "sys/mounts/transit", map[string]any{"type": "transit"})
	mustCall(b, c, "root", engine.OpUpdate, "transit/keys/bench", nil)
	mustCall(b, c, "root", engine.OpUpdate, "sys/policies/acl/crypt", map[string]any{
		"policy": `path "transit/encrypt/bench" { capabilities = ["update"] }
path "transit/decrypt/bench" { capabilities = ["update"] }`,
	})
	tok := mustCall(b, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "crypt"}).Auth.ClientToken
	return c, tok
}

var benchPlaintext = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 100)))

// BenchmarkTransitEncryptThroughCore encrypts 100-byte values with an
// aes256-gcm96 key through the whole pipeline (token, ACL, engine).
func BenchmarkTransitEncryptThroughCore(b *testing.B) {
	c, tok := transitCore(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := call(b, c, tok, engine.OpUpdate, "transit/encrypt/bench", map[string]any{"plaintext": benchPlaintext}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTransitDecryptThroughCore decrypts what the encrypt benchmark
// produces.
func BenchmarkTransitDecryptThroughCore(b *testing.B) {
	c, tok := transitCore(b)
	resp := mustCall(b, c, tok, engine.OpUpdate, "transit/encrypt/bench", map[string]any{"plaintext": benchPlaintext})
	ct := resp.Data["ciphertext"]
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := call(b, c, tok, engine.OpUpdate, "transit/decrypt/bench", map[string]any{"ciphertext": ct}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
