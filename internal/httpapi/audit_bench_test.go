package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/audit/file"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/httpapi"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// The audit benchmarks measure what one file audit device costs a KV v2
// read: the same reads with no device and with one, through core alone and
// over loopback HTTP. Run them with
//
//	go test ./internal/httpapi -run '^$' -bench Audit -benchtime 2s
//
// The file is a real file in a temporary directory (page cache, no fsync).

// newAuditCore returns an unsealed dev core with 100 KV v2 secrets under
// secret/ and, when audited, one file device logging to the temp file
// whose path it returns.
func newAuditCore(b *testing.B, audited bool) (*core.Core, string) {
	b.Helper()
	c, err := core.New(core.Options{
		Physical: inmem.New(),
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
		AuditTypes: map[string]core.AuditFactory{
			"file": func(options map[string]string) (audit.Device, error) {
				return file.New(options["file_path"], 0o600)
			},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.DevInit(context.Background(), "root"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Seal() })
	ctx := context.Background()
	logPath := ""
	if audited {
		logPath = filepath.Join(b.TempDir(), "audit.log")
		_, err := c.Handle(ctx, &engine.Request{
			ID: "enable", Operation: engine.OpUpdate, Path: "sys/audit/file", ClientToken: "root",
			Data: map[string]any{"type": "file", "options": map[string]any{"file_path": logPath}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		_, err := c.Handle(ctx, &engine.Request{
			ID: "put", Operation: engine.OpUpdate, Path: fmt.Sprintf("secret/data/k%d", i), ClientToken: "root",
			Data: map[string]any{"data": map[string]any{"v": strings.Repeat("x", 100)}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return c, logPath
}

// logSize is the size of the audit log, 0 without one.
func logSize(b *testing.B, logPath string) int64 {
	if logPath == "" {
		return 0
	}
	info, err := os.Stat(logPath)
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// reportLogSize reports the audit log's growth per operation since the
// size before.
func reportLogSize(b *testing.B, logPath string, before int64) {
	if logPath == "" {
		return
	}
	b.StopTimer()
	b.ReportMetric(float64(logSize(b, logPath)-before)/float64(b.N), "logB/op")
}

func BenchmarkAuditKVReadCore(b *testing.B) {
	for _, audited := range []bool{false, true} {
		b.Run(map[bool]string{false: "none", true: "file"}[audited], func(b *testing.B) {
			c, logPath := newAuditCore(b, audited)
			before := logSize(b, logPath)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					resp, err := c.Handle(ctx, &engine.Request{
						ID: "read", Operation: engine.OpRead, Path: fmt.Sprintf("secret/data/k%d", i%100),
						ClientToken: "root", RemoteAddr: "127.0.0.1:40000",
					})
					if err != nil || resp == nil {
						b.Fatalf("read: %v", err)
					}
					i++
				}
			})
			reportLogSize(b, logPath, before)
		})
	}
}

func BenchmarkAuditKVReadHTTP(b *testing.B) {
	for _, audited := range []bool{false, true} {
		b.Run(map[bool]string{false: "none", true: "file"}[audited], func(b *testing.B) {
			c, logPath := newAuditCore(b, audited)
			before := logSize(b, logPath)
			srv := httptest.NewServer(httpapi.New(c, httpapi.Options{}))
			b.Cleanup(srv.Close)
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/secret/data/k%d", srv.URL, i%100), nil)
					req.Header.Set("X-Vault-Token", "root")
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
					i++
				}
			})
			reportLogSize(b, logPath, before)
		})
	}
}
