package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/httpapi"
)

// BenchmarkHTTPKVv2Read reads 100-byte KV v2 secrets over loopback HTTP
// with keep-alive, client and server sharing the machine.
func BenchmarkHTTPKVv2Read(b *testing.B) {
	srv := newServer(b, httpapi.Options{})
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	for i := 0; i < 1000; i++ {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/secret/data/k%d", srv.URL, i),
			strings.NewReader(fmt.Sprintf(`{"data":{"v":"%0100d"}}`, i)))
		req.Header.Set("X-Vault-Token", "root")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/secret/data/k%d", srv.URL, i%1000), nil)
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
}
