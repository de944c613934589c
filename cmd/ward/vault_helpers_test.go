package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// The vault_*_test.go files drive a real `ward server -dev` with Vault's
// official Go client, unchanged, to prove Ward is wire-compatible with it.
// Anything the client cannot express (status codes, raw bodies) goes
// through rawCall.

// vaultClient returns a Vault API client for the server at addr using
// token. Retries are off so that a 5xx fails at once instead of after the
// client's backoff.
func vaultClient(t testing.TB, addr, token string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// withToken returns a copy of c that sends token.
func withToken(t testing.TB, c *vaultapi.Client, token string) *vaultapi.Client {
	t.Helper()
	cc, err := c.Clone()
	if err != nil {
		t.Fatal(err)
	}
	cc.SetToken(token)
	return cc
}

// responseError returns the *vaultapi.ResponseError inside err, failing
// the test if err is not one.
func responseError(t testing.TB, err error) *vaultapi.ResponseError {
	t.Helper()
	var re *vaultapi.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want a *vaultapi.ResponseError, got %T: %v", err, err)
	}
	return re
}

// wantStatus fails unless err is a Vault response error with status code
// and, when substr is not empty, an error message containing substr.
func wantStatus(t testing.TB, err error, code int, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want HTTP %d error, got success", code)
	}
	re := responseError(t, err)
	if re.StatusCode != code {
		t.Fatalf("want HTTP %d, got %d: %v", code, re.StatusCode, re.Errors)
	}
	if substr != "" && !strings.Contains(strings.Join(re.Errors, "\n"), substr) {
		t.Fatalf("want an error containing %q, got %q", substr, re.Errors)
	}
}

// rawResponse is an HTTP answer read in full.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map, failing the test if it is not
// a JSON object.
func (r rawResponse) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %v\n%s", r.Status, err, r.Body)
	}
	return m
}

// Errors returns the "errors" array of an error body.
func (r rawResponse) Errors(t testing.TB) []string {
	t.Helper()
	var body struct {
		Errors *[]string `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Errors == nil {
		t.Fatalf("body is not a Vault error body (status %d): %v\n%s", r.Status, err, r.Body)
	}
	return *body.Errors
}

// rawCall sends one HTTP request to addr+"/v1/"+path. headers alternate
// name, value. A nil body sends none.
func rawCall(t testing.TB, method, addr, path, token string, body []byte, headers ...string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, addr+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// createToken makes a token through the client and returns its ID and
// accessor.
func createToken(t testing.TB, c *vaultapi.Client, req *vaultapi.TokenCreateRequest) (id, accessor string) {
	t.Helper()
	s, err := c.Auth().Token().Create(req)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		t.Fatalf("create token: no auth block in %+v", s)
	}
	return s.Auth.ClientToken, s.Auth.Accessor
}

// putPolicy writes a policy through the client.
func putPolicy(t testing.TB, c *vaultapi.Client, name, rules string) {
	t.Helper()
	if err := c.Sys().PutPolicy(name, rules); err != nil {
		t.Fatalf("put policy %s: %v", name, err)
	}
}
