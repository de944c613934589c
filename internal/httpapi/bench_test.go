package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/httpapi"
)

func httptestRequest(method, target, body string) *http.Request {
	return httptest.NewRequest(method, target, strings.NewReader(body))
}

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

// benchWriter is the least a ResponseWriter can be, so that
// BenchmarkHandlerKVv2Read measures the handler and not a recorder.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(s int)   { w.status = s }
func (w *benchWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

// BenchmarkHandlerKVv2Read is the server's share of a KV v2 read: the
// handler from parsed request to written body, by a non-root token, with
// no network and no client.
func BenchmarkHandlerKVv2Read(b *testing.B) {
	srv := newServer(b, httpapi.Options{})
	h := srv.Config.Handler
	call := func(method, path, tok, body string) *benchWriter {
		r := httptestRequest(method, path, body)
		r.Header.Set("X-Vault-Token", tok)
		w := &benchWriter{h: http.Header{}}
		h.ServeHTTP(w, r)
		return w
	}
	call("PUT", "/v1/sys/policies/acl/reader", "root", `{"policy":"path \"secret/data/*\" { capabilities = [\"read\"] }"}`)
	tw := httptest.NewRecorder()
	r := httptestRequest("POST", "/v1/auth/token/create", `{"policies":["reader"]}`)
	r.Header.Set("X-Vault-Token", "root")
	h.ServeHTTP(tw, r)
	var created struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		}
	}
	if err := json.Unmarshal(tw.Body.Bytes(), &created); err != nil || created.Auth.ClientToken == "" {
		b.Fatalf("token create: %v %s", err, tw.Body)
	}
	tok := created.Auth.ClientToken
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/v1/secret/data/k%d", i)
		if w := call("POST", paths[i], "root", fmt.Sprintf(`{"data":{"v":"%0100d"}}`, i)); w.status != 200 {
			b.Fatalf("write: status %d", w.status)
		}
	}
	// The requests are parsed once: net/http's parsing is not the handler's.
	reqs := make([]*http.Request, len(paths))
	for i, p := range paths {
		reqs[i] = httptestRequest("GET", p, "")
		reqs[i].Header.Set("X-Vault-Token", tok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			r := reqs[i%len(reqs)]
			h.ServeHTTP(w, r)
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			i++
		}
	})
}
