package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seen is one request the fake server received.
type seen struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   map[string]any
}

// fake is an httptest server whose routes are "METHOD /v1/path" keys.
// Each route writes a status and a body; requests are recorded in order.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	routes map[string]func(w http.ResponseWriter, r *http.Request)
	got    []seen
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, routes: map[string]func(http.ResponseWriter, *http.Request){}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &s.Body); err != nil {
				t.Errorf("%s %s: body is not a JSON object: %q", r.Method, r.URL.Path, b)
			}
		}
		f.got = append(f.got, s)
		h, ok := f.routes[r.Method+" "+r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[]}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// on answers method+path with status and body (empty body for "").
func (f *fake) on(method, path string, status int, body string) {
	f.routes[method+" "+path] = func(w http.ResponseWriter, r *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func (f *fake) client(t *testing.T, token string) *Client {
	t.Helper()
	c, err := New(&Config{Address: f.srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fake) last() seen {
	f.t.Helper()
	if len(f.got) == 0 {
		f.t.Fatal("server received no request")
	}
	return f.got[len(f.got)-1]
}

func TestNewValidatesConfig(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Address() != DefaultAddress {
		t.Errorf("default address = %q", c.Address())
	}
	for _, addr := range []string{"ftp://x", "127.0.0.1:8200", "http://"} {
		if _, err := New(&Config{Address: addr}); err == nil {
			t.Errorf("New(%q) succeeded, want error", addr)
		}
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o600)
	if _, err := New(&Config{CACert: bad}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: err = %v", err)
	}
	if _, err := New(&Config{CACert: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("missing CA file accepted")
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	cfg := &Config{Address: "http://x:1", Token: "hvs.topsecret"}
	c, _ := New(cfg)
	for _, s := range []string{cfg.String(), c.String(), (&TokenRequest{ID: "hvs.topsecret"}).String()} {
		if strings.Contains(s, "topsecret") {
			t.Errorf("String() leaks the token: %s", s)
		}
	}
}

func TestHeadersAndCopies(t *testing.T) {
	f := newFake(t)
	f.on("GET", "/v1/secret/x", 200, `{"data":{"a":"b"}}`)
	c := f.client(t, "tok1")
	w := c.WithWrapTTL("5m").WithToken("tok2")
	if _, err := w.Read(context.Background(), "secret/x"); err != nil {
		t.Fatal(err)
	}
	h := f.last().Header
	if h.Get("X-Vault-Token") != "tok2" || h.Get("X-Vault-Wrap-TTL") != "5m" || h.Get("X-Vault-Request") != "true" {
		t.Errorf("headers = %v", h)
	}
	if _, err := c.Read(context.Background(), "/secret//x"); err != nil {
		t.Fatal(err)
	}
	got := f.last()
	if got.Path != "/v1/secret/x" {
		t.Errorf("path not cleaned: %q", got.Path)
	}
	if got.Header.Get("X-Vault-Token") != "tok1" || got.Header.Get("X-Vault-Wrap-TTL") != "" {
		t.Errorf("original client changed by With*: %v", got.Header)
	}
	if _, err := c.WithToken("bad\ntoken").Read(context.Background(), "secret/x"); err == nil {
		t.Error("token with a newline was sent")
	}
}

func TestReadNotFoundAndErrors(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/secret/data/gone", 404, `{"data":{"data":null,"metadata":{"version":2,"deletion_time":"2024-01-02T03:04:05Z"}}}`)
	f.on("GET", "/v1/secret/denied", 403, `{"errors":["permission denied"]}`)
	f.on("GET", "/v1/sys/broken", 500, "oops, not json")
	f.on("GET", "/v1/secret/n", 200, `{"request_id":"r","lease_duration":3600,"data":{"n":12345678901234567}}`)
	c := f.client(t, "t")

	s, err := c.Read(ctx, "secret/missing")
	if s != nil || err != nil {
		t.Errorf("plain 404: got %v, %v; want nil, nil", s, err)
	}
	f.on("GET", "/v1/nomount/x", 404, `{"errors":["no handler for route \"nomount/x\". route entry not found."]}`)
	if _, err := c.Read(ctx, "nomount/x"); StatusCode(err) != 404 || !strings.Contains(err.Error(), "no handler") {
		t.Errorf("404 with messages: err = %v, want a ResponseError", err)
	}
	if _, err := c.Write(ctx, "secret/missing", map[string]any{"a": "b"}); StatusCode(err) != 404 {
		t.Errorf("write answered 404: err = %v, want a ResponseError", err)
	}
	s, err = c.Read(ctx, "secret/data/gone")
	if err != nil || s == nil || s.Data["metadata"] == nil {
		t.Errorf("404 with body: got %v, %v", s, err)
	}
	_, err = c.Read(ctx, "secret/denied")
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 403 || len(re.Errors) != 1 || re.Errors[0] != "permission denied" {
		t.Fatalf("403: err = %#v", err)
	}
	if want := "code 403 from GET " + f.srv.URL + "/v1/secret/denied: permission denied"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	_, err = c.Read(ctx, "sys/broken")
	if StatusCode(err) != 500 || !strings.Contains(err.Error(), "oops, not json") {
		t.Errorf("500 with text body: %v", err)
	}
	s, err = c.Read(ctx, "secret/n")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Data["n"].(json.Number); !ok || n.String() != "12345678901234567" {
		t.Errorf("number decoded as %T %v, want json.Number", s.Data["n"], s.Data["n"])
	}
	if s.LeaseDuration != 3600 || s.RequestID != "r" {
		t.Errorf("envelope = %+v", s)
	}
}

func TestSealedError(t *testing.T) {
	f := newFake(t)
	f.on("GET", "/v1/secret/x", 503, `{"errors":["Vault is sealed"]}`)
	_, err := f.client(t, "t").Read(context.Background(), "secret/x")
	var re *ResponseError
	if !errors.As(err, &re) || !re.Sealed() {
		t.Errorf("err = %v, want a sealed ResponseError", err)
	}
}

func TestWriteListDeletePatch(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/kv/a", 204, "")
	f.on("GET", "/v1/kv/", 200, `{"data":{"keys":["a","b/"]}}`)
	f.on("DELETE", "/v1/kv/a", 204, "")
	f.on("PATCH", "/v1/secret/data/a", 200, `{"data":{"version":3}}`)
	c := f.client(t, "t")

	s, err := c.Write(ctx, "kv/a", map[string]any{"k": "v"})
	if s != nil || err != nil {
		t.Fatalf("write 204: %v, %v", s, err)
	}
	if got := f.last(); got.Method != "PUT" || got.Body["k"] != "v" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("write request = %+v", got)
	}
	s, err = c.List(ctx, "kv/")
	if err != nil {
		t.Fatal(err)
	}
	if f.last().Query != "list=true" {
		t.Errorf("list query = %q", f.last().Query)
	}
	keys, _ := Keys(s)
	if strings.Join(keys, ",") != "a,b/" {
		t.Errorf("keys = %v", keys)
	}
	if s, err := c.List(ctx, "kv/empty/"); s != nil || err != nil {
		t.Errorf("empty list: %v, %v", s, err)
	}
	if _, err := c.Delete(ctx, "kv/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Patch(ctx, "secret/data/a", map[string]any{"data": map[string]any{"x": nil}}); err != nil {
		t.Fatal(err)
	}
	if ct := f.last().Header.Get("Content-Type"); ct != "application/merge-patch+json" {
		t.Errorf("patch content type = %q", ct)
	}
}

func TestRawRequest(t *testing.T) {
	f := newFake(t)
	f.on("GET", "/v1/pki/ca/pem", 200, "-----BEGIN CERTIFICATE-----")
	f.on("GET", "/v1/sys/x", 400, `{"errors":["bad"]}`)
	c := f.client(t, "t")
	resp, err := c.RawRequest(context.Background(), "GET", "pki/ca/pem?format=pem", nil, http.Header{"X-Extra": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "-----BEGIN CERTIFICATE-----" || f.last().Query != "format=pem" || f.last().Header.Get("X-Extra") != "1" {
		t.Errorf("raw: body %q, seen %+v", b, f.last())
	}
	if _, err := c.RawRequest(context.Background(), "GET", "sys/x", nil, nil); StatusCode(err) != 400 {
		t.Errorf("raw 400: err = %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	cases := []struct {
		in      string
		nilWant bool
		data    string
	}{
		{in: "", nilWant: true},
		{in: " \n", nilWant: true},
		{in: `{"errors":[]}`, nilWant: true},
		{in: `{"initialized":true}`, data: "initialized"},
		{in: `{"data":{"a":1},"lease_duration":5}`, data: "a"},
	}
	for _, tc := range cases {
		s, err := ParseSecret([]byte(tc.in))
		if err != nil {
			t.Errorf("ParseSecret(%q): %v", tc.in, err)
			continue
		}
		if tc.nilWant != (s == nil) {
			t.Errorf("ParseSecret(%q) = %v, nil wanted: %t", tc.in, s, tc.nilWant)
			continue
		}
		if s != nil {
			if _, ok := s.Data[tc.data]; !ok {
				t.Errorf("ParseSecret(%q).Data = %v, want key %q", tc.in, s.Data, tc.data)
			}
		}
	}
	for _, bad := range []string{`[1,2]`, `{"lease_duration":1.5}`, `{"data":[1]}`, `{`} {
		if _, err := ParseSecret([]byte(bad)); err == nil {
			t.Errorf("ParseSecret(%q) succeeded", bad)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{
		`{"request_id":"x","lease_id":"","renewable":false,"lease_duration":0,"data":{"a":"b"},"wrap_info":null,"warnings":null,"auth":null}`,
		`{"auth":{"client_token":"t","policies":["default"],"metadata":{"a":"b"},"lease_duration":60}}`,
		`{"wrap_info":{"token":"t","ttl":300,"creation_time":"2024-01-01T00:00:00Z"}}`,
		`{"errors":["x"]}`, `{"sealed":true}`, ``, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSecret(b)
		if err != nil && s != nil {
			t.Fatalf("error %v with a non-nil secret", err)
		}
	})
}

func TestRedirects(t *testing.T) {
	final := newFake(t)
	final.on("GET", "/v1/sys/x", 200, `{"data":{"ok":true}}`)
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer hop.Close()
	hop2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, hop.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer hop2.Close()

	c, _ := New(&Config{Address: hop.URL, Token: "t"})
	s, err := c.Read(context.Background(), "sys/x")
	if err != nil || s.Data["ok"] != true {
		t.Fatalf("one redirect: %v, %v", s, err)
	}
	if final.last().Header.Get("X-Vault-Token") != "t" {
		t.Error("token lost across the redirect")
	}
	c2, _ := New(&Config{Address: hop2.URL})
	if _, err := c2.Read(context.Background(), "sys/x"); err == nil {
		t.Error("followed two redirects")
	}
}
