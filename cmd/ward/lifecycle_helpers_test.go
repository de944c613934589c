package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The lifecycle_*_test.go files drive the real ward binary through its
// whole life: config file, init, unseal, writes, seal, signals, restarts,
// crashes. They speak plain HTTP so that every status code and byte of a
// body is visible; the helpers here are prefixed "lc" to keep them apart
// from the other test files of this package.

// lcClient sends API requests to one server with one token.
type lcClient struct {
	t     testing.TB
	addr  string // "http://127.0.0.1:port"
	token string
	hc    *http.Client
}

func newLCClient(t testing.TB, addr, token string) *lcClient {
	return &lcClient{t: t, addr: addr, token: token, hc: &http.Client{Timeout: 10 * time.Second}}
}

// with returns a copy of c that sends token.
func (c *lcClient) with(token string) *lcClient {
	cc := *c
	cc.token = token
	return &cc
}

// lcResp is one answer, read in full.
type lcResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// json decodes the body as a JSON object, failing the test if it is not one.
func (r lcResp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("HTTP %d: body is not a JSON object (%v): %q", r.Status, err, r.Body)
	}
	return m
}

// do sends one request. body is nil (no body), a string or []byte (sent as
// is) or anything else (sent as JSON).
func (c *lcClient) do(method, path string, body any, header ...string) lcResp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.addr+"/v1/"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("X-Vault-Token", c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return lcResp{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// must sends a request, fails the test unless the status is want, and
// returns the decoded body (nil when it is empty).
func (c *lcClient) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: want HTTP %d, got %d: %s", method, path, want, r.Status, r.Body)
	}
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	return r.json(c.t)
}

// lcWantErrors fails unless r has status code and an {"errors":[...]} body
// whose messages, joined, contain substr.
func lcWantErrors(t testing.TB, r lcResp, code int, substr string) {
	t.Helper()
	if r.Status != code {
		t.Fatalf("want HTTP %d, got %d: %s", code, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("HTTP %d: Content-Type %q, want application/json", code, ct)
	}
	var body struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Errors == nil {
		t.Fatalf("HTTP %d: want an errors body, got %q (%v)", code, r.Body, err)
	}
	if !strings.Contains(strings.Join(body.Errors, "\n"), substr) {
		t.Fatalf("HTTP %d: want an error containing %q, got %q", code, substr, body.Errors)
	}
}

// lcWantSealed fails unless r is exactly Vault's sealed answer.
func lcWantSealed(t testing.TB, r lcResp, what string) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s while sealed: want HTTP 503, got %d: %s", what, r.Status, r.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%s while sealed: body %q: %v", what, r.Body, err)
	}
	errs, _ := body["errors"].([]any)
	if len(body) != 1 || len(errs) != 1 || errs[0] != "Vault is sealed" {
		t.Fatalf(`%s while sealed: want {"errors":["Vault is sealed"]}, got %s`, what, r.Body)
	}
}

// lcInt reads a JSON number field of m.
func lcInt(t testing.TB, m map[string]any, key string) int {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a number", key, m[key], m[key])
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		t.Fatalf("field %q = %s, want an integer", key, n)
	}
	return i
}

// lcMap reads a nested object: lcMap(t, m, "data", "data").
func lcMap(t testing.TB, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("field %q is %T (%v), want an object", k, m[k], m[k])
		}
		m = next
	}
	return m
}

// lcBoltHCL is a config for a bolt server storing in dataDir, with %s
// for the listener address; extra lines are appended.
func lcBoltHCL(dataDir string, extra ...string) string {
	return fmt.Sprintf("storage \"bolt\" {\n  path = %s\n}\n", strconv.Quote(filepath.ToSlash(dataDir))) +
		"listener \"tcp\" {\n  address = \"%s\"\n  tls_disable = true\n}\n" +
		"disable_mlock = true\n" + strings.Join(extra, "\n") + "\n"
}

// lcInitResult is what sys/init hands out once.
type lcInitResult struct {
	Hex, Base64 []string
	Root        string
}

// lcInit initializes the server with shares/threshold and checks the shape
// of the answer: as many hex and base64 shares as asked, each pair the
// same bytes, and a root token.
func lcInit(t testing.TB, c *lcClient, shares, threshold int) lcInitResult {
	t.Helper()
	r := c.do("PUT", "sys/init", map[string]int{"secret_shares": shares, "secret_threshold": threshold})
	if r.Status != http.StatusOK {
		t.Fatalf("sys/init: HTTP %d: %s", r.Status, r.Body)
	}
	var body struct {
		Keys       []string `json:"keys"`
		KeysBase64 []string `json:"keys_base64"`
		RootToken  string   `json:"root_token"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("sys/init: %v: %s", err, r.Body)
	}
	if len(body.Keys) != shares || len(body.KeysBase64) != shares {
		t.Fatalf("sys/init: want %d shares in keys and keys_base64, got %d and %d", shares, len(body.Keys), len(body.KeysBase64))
	}
	if body.RootToken == "" {
		t.Fatal("sys/init: empty root_token")
	}
	seen := map[string]bool{}
	for i := range body.Keys {
		h, err := hex.DecodeString(body.Keys[i])
		if err != nil {
			t.Fatalf("sys/init: keys[%d] is not hex: %v", i, err)
		}
		b, err := base64.StdEncoding.DecodeString(body.KeysBase64[i])
		if err != nil {
			t.Fatalf("sys/init: keys_base64[%d] is not base64: %v", i, err)
		}
		if !bytes.Equal(h, b) {
			t.Fatalf("sys/init: keys[%d] and keys_base64[%d] differ", i, i)
		}
		if seen[string(h)] {
			t.Fatalf("sys/init: share %d repeats an earlier one", i)
		}
		seen[string(h)] = true
	}
	return lcInitResult{Hex: body.Keys, Base64: body.KeysBase64, Root: body.RootToken}
}

// lcSealStatus reads sys/seal-status.
func lcSealStatus(t testing.TB, c *lcClient) map[string]any {
	t.Helper()
	return c.must(http.StatusOK, "GET", "sys/seal-status", nil)
}

// lcUnseal submits keys in order and checks that progress counts up and
// that the last one unseals.
func lcUnseal(t testing.TB, c *lcClient, keys ...string) {
	t.Helper()
	for i, k := range keys {
		st := c.must(http.StatusOK, "PUT", "sys/unseal", map[string]string{"key": k})
		last := i == len(keys)-1
		if sealed := st["sealed"] == true; sealed == last {
			t.Fatalf("unseal share %d of %d: sealed = %v: %v", i+1, len(keys), sealed, st)
		}
		if !last {
			if p := lcInt(t, st, "progress"); p != i+1 {
				t.Fatalf("unseal share %d: progress %d, want %d", i+1, p, i+1)
			}
		}
	}
}

// lcEnableKV2 mounts a KV version 2 engine at secret/.
func lcEnableKV2(t testing.TB, c *lcClient) {
	t.Helper()
	c.must(http.StatusNoContent, "POST", "sys/mounts/secret", map[string]any{"type": "kv", "options": map[string]string{"version": "2"}})
}

// lcPutKV writes a KV v2 secret and returns the new version.
func lcPutKV(t testing.TB, c *lcClient, path string, data map[string]any) int {
	t.Helper()
	resp := c.must(http.StatusOK, "POST", "secret/data/"+path, map[string]any{"data": data})
	return lcInt(t, lcMap(t, resp, "data"), "version")
}

// lcGetKV reads the current version of a KV v2 secret.
func lcGetKV(t testing.TB, c *lcClient, path string) map[string]any {
	t.Helper()
	return lcMap(t, c.must(http.StatusOK, "GET", "secret/data/"+path, nil), "data", "data")
}

// lcCreateToken creates a child token with policies and returns it.
func lcCreateToken(t testing.TB, c *lcClient, policies ...string) string {
	t.Helper()
	resp := c.must(http.StatusOK, "POST", "auth/token/create", map[string]any{"policies": policies, "ttl": "1h"})
	tok, _ := lcMap(t, resp, "auth")["client_token"].(string)
	if tok == "" {
		t.Fatalf("auth/token/create: no client_token: %v", resp)
	}
	return tok
}

// lcAlive fails if the server process has exited.
func lcAlive(t testing.TB, p *serverProc) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("ward exited unexpectedly:\n%s", p.Stderr.String())
	default:
	}
}

// lcTryPost sends one JSON POST without failing the test on a transport
// error, for use while a server may be dying.
func lcTryPost(hc *http.Client, addr, token, path string, body any) (lcResp, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return lcResp{}, err
	}
	req, err := http.NewRequest("POST", addr+"/v1/"+path, bytes.NewReader(raw))
	if err != nil {
		return lcResp{}, err
	}
	req.Header.Set("X-Vault-Token", token)
	resp, err := hc.Do(req)
	if err != nil {
		return lcResp{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return lcResp{}, err
	}
	return lcResp{Status: resp.StatusCode, Header: resp.Header, Body: out}, nil
}
