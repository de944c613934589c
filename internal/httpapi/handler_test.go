package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/httpapi"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// newServer runs the API over an in-memory dev core with root token "root".
func newServer(t testing.TB, opts httpapi.Options) *httptest.Server {
	t.Helper()
	c, err := core.New(core.Options{
		Physical: inmem.New(),
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.DevInit(context.Background(), "root"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(c, opts))
	t.Cleanup(func() { srv.Close(); c.Seal() })
	return srv
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, headers ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", "root")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

func TestWireBasics(t *testing.T) {
	srv := newServer(t, httpapi.Options{MaxRequestSize: 1024})
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		contains                 string
	}{
		{"write kv v2 answers 200 with metadata", "POST", "/v1/secret/data/a", `{"data":{"k":"v"}}`, nil, 200, `"version":1`},
		{"read", "GET", "/v1/secret/data/a", "", nil, 200, `"k":"v"`},
		{"missing is 404 with empty errors", "GET", "/v1/secret/data/missing", "", nil, 404, `{"errors":[]}`},
		{"list verb", "LIST", "/v1/secret/metadata/", "", nil, 200, `"keys":["a"]`},
		{"list query", "GET", "/v1/secret/metadata?list=1", "", nil, 200, `"keys":["a"]`},
		{"bad list value", "GET", "/v1/secret/metadata?list=maybe", "", nil, 400, "list"},
		{"empty list is 404", "LIST", "/v1/secret/metadata/nothing/", "", nil, 404, `{"errors":[]}`},
		{"no token is 403", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Token", ""}, 403, "permission denied"},
		{"bad token is 403", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Token", "nope"}, 403, "permission denied"},
		{"bearer token", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Token", "", "Authorization", "Bearer root"}, 200, `"k":"v"`},
		{"malformed json", "POST", "/v1/secret/data/b", `{"data":`, nil, 400, "failed to parse JSON input"},
		{"body not an object", "POST", "/v1/secret/data/b", `[1]`, nil, 400, "JSON object"},
		{"too large", "POST", "/v1/secret/data/b", `{"data":{"k":"` + strings.Repeat("x", 2000) + `"}}`, nil, 413, "too large"},
		{"patch needs merge-patch", "PATCH", "/v1/secret/data/a", `{"data":{"k":"w"}}`, nil, 415, "merge-patch"},
		{"patch", "PATCH", "/v1/secret/data/a", `{"data":{"k2":"w"}}`, []string{"Content-Type", "application/merge-patch+json"}, 200, `"version":2`},
		{"unknown method", "TRACE", "/v1/secret/data/a", "", nil, 405, "unsupported"},
		{"parent reference", "GET", "/v1/secret/data/../../sys/mounts", "", nil, 400, "parent references"},
		{"unknown route as root", "GET", "/v1/nothing/here", "", nil, 404, "no handler for route"},
		{"outside v1", "GET", "/v2/sys/health", "", nil, 404, `{"errors":[]}`},
		{"namespace refused", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Namespace", "team"}, 400, "namespaces"},
		{"root namespace fine", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Namespace", "root/"}, 200, `"k":"v"`},
		{"double slashes cleaned", "GET", "/v1/secret//data/a", "", nil, 200, `"k":"v"`},
		{"injected sys route", "GET", "/v1/sys/mounts", "", nil, 200, `"secret/":{`},
		{"negative wrap ttl", "GET", "/v1/secret/data/a", "", []string{"X-Vault-Wrap-TTL", "-5s"}, 400, "X-Vault-Wrap-TTL"},
		{"health", "GET", "/v1/sys/health", "", nil, 200, `"initialized":true`},
		{"health custom active code", "GET", "/v1/sys/health?activecode=299", "", nil, 299, `"sealed":false`},
		{"health bad code", "GET", "/v1/sys/health?sealedcode=abc", "", nil, 400, "sealedcode"},
		{"leader", "GET", "/v1/sys/leader", "", nil, 200, `"ha_enabled":false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, srv, tt.method, tt.path, tt.body, tt.headers...)
			if r.status != tt.status || !strings.Contains(r.body, tt.contains) {
				t.Fatalf("%s %s = %d %s; want %d containing %q", tt.method, tt.path, r.status, r.body, tt.status, tt.contains)
			}
			if r.status != 204 && r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q, want exactly application/json", r.header.Get("Content-Type"))
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

func TestNoContentHasEmptyBody(t *testing.T) {
	srv := newServer(t, httpapi.Options{})
	r := do(t, srv, "PUT", "/v1/sys/policies/acl/p", `{"policy":"path \"a/*\" { capabilities = [\"read\"] }"}`)
	if r.status != 204 || r.body != "" {
		t.Fatalf("policy write = %d %q", r.status, r.body)
	}
}

func TestEnvelopeNumbersAreIntegers(t *testing.T) {
	srv := newServer(t, httpapi.Options{})
	r := do(t, srv, "POST", "/v1/auth/token/create", `{"ttl":"1h","policies":["default"]}`)
	if r.status != 200 {
		t.Fatalf("token create = %d %s", r.status, r.body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	var auth map[string]json.RawMessage
	if err := json.Unmarshal(raw["auth"], &auth); err != nil {
		t.Fatal(err)
	}
	if string(auth["lease_duration"]) != "3600" {
		t.Fatalf("auth.lease_duration = %s, want 3600", auth["lease_duration"])
	}
	if string(raw["data"]) != "null" {
		t.Fatalf("token create data = %s, want null", raw["data"])
	}
}

func TestHeadHealthHasNoBody(t *testing.T) {
	srv := newServer(t, httpapi.Options{})
	r := do(t, srv, "HEAD", "/v1/sys/health", "")
	if r.status != 200 || r.body != "" {
		t.Fatalf("HEAD sys/health = %d %q", r.status, r.body)
	}
}

// The handler reads these headers by the exact name net/http stores.
func TestReadHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{api.HeaderToken, api.HeaderNamespace} {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is stored as %q", name, c)
		}
	}
}
