package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The transit seal is tested end to end against a real Ward in
// cmd/ward/autounseal_test.go; this test pins the error mapping with a
// server that answers the way a remote one can fail.
func TestTransitErrors(t *testing.T) {
	const token = "ws.canary-seal-token"
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != token || r.Header.Get("X-Vault-Namespace") != "ns1/" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		if code := int(status.Load()); code != 200 {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"errors":["remote says no"]}`))
			return
		}
		switch r.URL.Path {
		case "/v1/seals/encrypt/root":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"ciphertext": "vault:v1:" + in["plaintext"]}})
		case "/v1/seals/decrypt/root":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"plaintext": strings.TrimPrefix(in["ciphertext"], "vault:v1:")}})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	tr, err := NewTransit(TransitOptions{Address: srv.URL + "/", Token: token, MountPath: "/seals/", KeyName: "root", Namespace: "ns1/"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tr.String(), token) {
		t.Fatalf("String() shows the token: %s", tr)
	}
	ctx := t.Context()
	root := bytes.Repeat([]byte{7}, KeySize)
	status.Store(200)
	blob, err := tr.Wrap(ctx, root)
	if err != nil || string(blob) != "vault:v1:"+base64.StdEncoding.EncodeToString(root) {
		t.Fatalf("Wrap = %q, %v", blob, err)
	}
	if got, err := tr.Unwrap(ctx, blob); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("Unwrap = %x, %v", got, err)
	}
	// A plaintext that is not a key is refused.
	if _, err := tr.Unwrap(ctx, []byte("vault:v1:"+base64.StdEncoding.EncodeToString([]byte("short")))); !errors.Is(err, ErrBadKey) {
		t.Fatalf("Unwrap of a short plaintext = %v, want ErrBadKey", err)
	}
	for code, want := range map[int32]error{400: ErrBadKey, 503: ErrUnavailable, 500: ErrUnavailable, 429: ErrUnavailable} {
		status.Store(code)
		_, err := tr.Unwrap(ctx, blob)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "remote says no") {
			t.Errorf("Unwrap with HTTP %d = %v, want %v", code, err, want)
		}
	}
	status.Store(403)
	if _, err := tr.Wrap(ctx, root); err == nil || errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), token) {
		t.Fatalf("Wrap with HTTP 403 = %v", err)
	}
	srv.Close()
	if _, err := tr.Unwrap(ctx, blob); !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), token) {
		t.Fatalf("Unwrap with the server gone = %v, want ErrUnavailable", err)
	}
	for _, o := range []TransitOptions{
		{Token: "t", KeyName: "k"},
		{Address: "http://x", KeyName: "k"},
		{Address: "http://x", Token: "t"},
		{Address: "http://x", Token: "t", KeyName: "a/b"},
		{Address: "ftp://x", Token: "t", KeyName: "k"},
	} {
		if _, err := NewTransit(o); err == nil {
			t.Errorf("NewTransit(%+v) succeeded", o)
		}
	}
}
