package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultErrorShapes checks status codes and error bodies over plain
// HTTP, where the Go client would hide them.
func TestVaultErrorShapes(t *testing.T) {
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().Mount("kv1", &vaultapi.MountInput{Type: "kv-v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("kv1/a/b", map[string]any{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, body string, headers ...string) rawResponse {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		return rawCall(t, method, srv.Addr, path, token, b, headers...)
	}
	want := func(r rawResponse, status int, substr string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q, want exactly application/json", ct)
		}
		errs := r.Errors(t)
		if substr != "" && !containsAny(errs, substr) {
			t.Fatalf("errors %q lack %q", errs, substr)
		}
	}

	t.Run("403 never 401", func(t *testing.T) {
		want(call("GET", "secret/data/x", "", ""), 403, "permission denied")
		want(call("GET", "secret/data/x", "hvs.bogus", ""), 403, "permission denied")
		want(call("GET", "auth/token/lookup-self", "hvs.bogus", ""), 403, "")
		want(call("GET", "sys/mounts", "", ""), 403, "")
	})

	t.Run("404 empty errors", func(t *testing.T) {
		for _, p := range []string{"secret/data/missing", "kv1/missing", "cubbyhole/missing", "sys/policies/acl/missing"} {
			r := call("GET", p, "root", "")
			want(r, 404, "")
			if errs := r.Errors(t); len(errs) != 0 {
				t.Fatalf("%s: errors = %q, want []", p, errs)
			}
			if b := strings.TrimSpace(string(r.Body)); b != `{"errors":[]}` {
				t.Fatalf("%s: body %s", p, b)
			}
		}
		// An empty list is 404 too.
		want(call("LIST", "kv1/nothing", "root", ""), 404, "")
		// Unknown route, with a root token: 404 naming the route.
		want(call("GET", "nomount/x", "root", ""), 404, "nomount/x")
		// Outside /v1/.
		r := rawCall(t, "GET", srv.Addr+"/v2", "x", "root", nil)
		if r.Status != 404 {
			t.Fatalf("non-/v1/ path: %d", r.Status)
		}
	})

	t.Run("405", func(t *testing.T) {
		// Deleting a token by path is not an operation the token store has.
		want(call("DELETE", "auth/token/lookup-self", "root", ""), 405, "")
		want(call("PUT", "sys/key-status", "root", "{}"), 405, "")
		want(call("BREW", "secret/data/x", "root", ""), 405, "")
	})

	t.Run("400 names the field", func(t *testing.T) {
		want(call("POST", "auth/token/create", "root", `{"ttl":"soon"}`), 400, "ttl")
		want(call("POST", "auth/token/create", "root", `{"num_uses":"many"}`), 400, "num_uses")
		want(call("POST", "sys/mounts/x", "root", `{"type":"kv","config":{"max_lease_ttl":"1 day"}}`), 400, "max_lease_ttl")
		want(call("POST", "sys/policies/acl/p", "root", `{"policy":"path \"x\" { capabilities = [\"fly\"] }"}`), 400, "fly")
	})

	t.Run("cas mismatch", func(t *testing.T) {
		r := call("POST", "secret/data/casx", "root", `{"data":{"a":"1"},"options":{"cas":0}}`)
		if r.Status != 200 {
			t.Fatalf("first cas write: %d %s", r.Status, r.Body)
		}
		want(call("POST", "secret/data/casx", "root", `{"data":{"a":"2"},"options":{"cas":0}}`), 400,
			"check-and-set parameter did not match the current version")
		want(call("POST", "secret/data/casx", "root", `{"data":{"a":"2"},"options":{"cas":"one"}}`), 400, "cas")
		want(call("POST", "secret/data/casx", "root", `{"options":{}}`), 400, "data")
	})

	t.Run("malformed JSON", func(t *testing.T) {
		want(call("POST", "secret/data/bad", "root", `{"data":`), 400, "")
		want(call("POST", "kv1/bad", "root", `[1,2]`), 400, "")
		want(call("POST", "kv1/bad", "root", `"str"`), 400, "")
	})

	t.Run("PATCH needs merge-patch", func(t *testing.T) {
		want(call("PATCH", "secret/data/casx", "root", `{"data":{"b":"1"}}`, "Content-Type", "application/json"), 415, "")
		want(call("PATCH", "secret/data/casx", "root", `{"data":{"b":"1"}}`), 415, "")
		r := call("PATCH", "secret/data/casx", "root", `{"data":{"b":"1"}}`, "Content-Type", "application/merge-patch+json")
		if r.Status != 200 {
			t.Fatalf("merge-patch: %d %s", r.Status, r.Body)
		}
		// PATCH on an engine without patch support is 405: the client
		// then falls back to read and write.
		want(call("PATCH", "kv1/a/b", "root", `{"x":"z"}`, "Content-Type", "application/merge-patch+json"), 405, "")
	})

	t.Run("list verb and list query", func(t *testing.T) {
		for _, r := range []rawResponse{
			call("LIST", "kv1/a", "root", ""),
			call("LIST", "kv1/a/", "root", ""),
			call("GET", "kv1/a?list=true", "root", ""),
			call("GET", "kv1/a?list=1", "root", ""),
			call("GET", "kv1/a/?list=t", "root", ""),
		} {
			if r.Status != 200 {
				t.Fatalf("list: %d %s", r.Status, r.Body)
			}
			data, _ := r.JSON(t)["data"].(map[string]any)
			if !slices.Equal(stringList(t, data["keys"]), []string{"b"}) {
				t.Fatalf("list keys = %s", r.Body)
			}
		}
		// list=false is a read.
		r := call("GET", "kv1/a/b?list=false", "root", "")
		if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"x":"y"`)) {
			t.Fatalf("list=false: %d %s", r.Status, r.Body)
		}
		want(call("GET", "kv1/a?list=maybe", "root", ""), 400, "list")
	})

	t.Run("bearer token", func(t *testing.T) {
		r := call("GET", "auth/token/lookup-self", "", "", "Authorization", "Bearer root")
		if r.Status != 200 {
			t.Fatalf("bearer: %d %s", r.Status, r.Body)
		}
		// X-Vault-Token wins over Authorization.
		r = call("GET", "auth/token/lookup-self", "hvs.bogus", "", "Authorization", "Bearer root")
		if r.Status != 403 {
			t.Fatalf("X-Vault-Token should take precedence: %d", r.Status)
		}
		// Other schemes are not tokens.
		r = call("GET", "auth/token/lookup-self", "", "", "Authorization", "Basic cm9vdDpyb290")
		if r.Status != 403 {
			t.Fatalf("basic auth: %d", r.Status)
		}
	})

	t.Run("root namespace", func(t *testing.T) {
		for _, ns := range []string{"root", "root/", ""} {
			r := call("GET", "kv1/a/b", "root", "", "X-Vault-Namespace", ns)
			if r.Status != 200 {
				t.Fatalf("namespace %q: %d %s", ns, r.Status, r.Body)
			}
		}
		c := withToken(t, root, "root")
		c.SetNamespace("root")
		if _, err := c.Logical().Read("kv1/a/b"); err != nil {
			t.Fatalf("client with root namespace: %v", err)
		}
	})

	t.Run("success envelope", func(t *testing.T) {
		r := call("GET", "kv1/a/b", "root", "")
		m := r.JSON(t)
		for _, k := range []string{"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("envelope lacks %q: %s", k, r.Body)
			}
		}
		if id, _ := m["request_id"].(string); id == "" {
			t.Fatalf("empty request_id: %s", r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control %q", cc)
		}
		// lease_duration is an integer.
		var env struct {
			LeaseDuration json.Number `json:"lease_duration"`
		}
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if err := dec.Decode(&env); err != nil || strings.ContainsAny(env.LeaseDuration.String(), ".e") {
			t.Fatalf("lease_duration %q: %v", env.LeaseDuration, err)
		}
		// 204 writes have no body.
		r = call("POST", "kv1/c", "root", `{"a":"b"}`)
		if r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("kv1 write: %d %q", r.Status, r.Body)
		}
		// Parent references are refused.
		want(call("GET", "secret/data/../../sys/mounts", "root", ""), 400, "parent")
	})
}

// TestVaultRequestSizeLimit starts a config-file server with a small
// max_request_size and checks that a larger body is refused with 413.
func TestVaultRequestSizeLimit(t *testing.T) {
	srv := startConfig(t, t.TempDir(), `
storage "inmem" {}
listener "tcp" {
  address          = "%s"
  tls_disable      = true
  max_request_size = 2048
}
disable_mlock = true
`)
	c := vaultClient(t, srv.Addr, "")
	// Before init: the client's Health decodes every state; raw it is 501,
	// and normal requests are sealed.
	h, err := c.Sys().Health()
	if err != nil || h.Initialized || !h.Sealed {
		t.Fatalf("health before init = %+v, %v", h, err)
	}
	if r := rawCall(t, "GET", srv.Addr, "sys/health", "", nil); r.Status != 501 {
		t.Fatalf("raw health before init: %d %s", r.Status, r.Body)
	}
	if st, err := c.Sys().SealStatus(); err != nil || st.Initialized || !st.Sealed || st.Version == "" {
		t.Fatalf("seal status before init = %+v, %v", st, err)
	}
	if r := rawCall(t, "GET", srv.Addr, "secret/data/x", "anything", nil); r.Status != 503 {
		t.Fatalf("request before init: %d %s", r.Status, r.Body)
	}
	init, err := c.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Sys().Unseal(init.KeysB64[0]); err != nil || st.Sealed {
		t.Fatalf("unseal = %+v, %v", st, err)
	}
	c.SetToken(init.RootToken)
	if err := c.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv-v2"}); err != nil {
		t.Fatal(err)
	}

	small := map[string]any{"v": strings.Repeat("a", 1000)}
	if _, err := c.KVv2("kv").Put(t.Context(), "small", small); err != nil {
		t.Fatalf("small write: %v", err)
	}
	big := map[string]any{"v": strings.Repeat("a", 4000)}
	_, err = c.KVv2("kv").Put(t.Context(), "big", big)
	wantStatus(t, err, 413, "")
	r := rawCall(t, "POST", srv.Addr, "kv/data/big", init.RootToken, []byte(`{"data":{"v":"`+strings.Repeat("b", 5000)+`"}}`))
	if r.Status != 413 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("raw big write: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r.Errors(t)
	// A chunked body (no Content-Length) is limited too.
	req, err := http.NewRequest("POST", srv.Addr+"/v1/kv/data/chunked", io.MultiReader(
		strings.NewReader(`{"data":{"v":"`), strings.NewReader(strings.Repeat("c", 5000)), strings.NewReader(`"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", init.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || req.ContentLength != 0 {
		t.Fatalf("chunked big write: %d (content length %d)", resp.StatusCode, req.ContentLength)
	}
	// Nothing was stored.
	for _, p := range []string{"big", "chunked"} {
		if _, err := c.KVv2("kv").Get(t.Context(), p); !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("oversized secret %s: %v, want not found", p, err)
		}
	}
}
