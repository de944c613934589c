package kubernetes

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/auth/kubernetes/kubetest"
	"github.com/wardsec/ward/internal/engine"
)

func TestConfigWriteRead(t *testing.T) {
	h := newHarness(t)
	srv := kubetest.New(t, reviewerJWT)

	if resp, err := h.call(engine.OpRead, "config", nil); err != nil || resp != nil {
		t.Fatalf("read before write = %v, %v; want nothing (404)", resp, err)
	}
	h.must(engine.OpUpdate, "config", map[string]any{
		"kubernetes_host":    srv.URL + "/",
		"kubernetes_ca_cert": srv.CACert(),
		"token_reviewer_jwt": reviewerJWT,
		"issuer":             "https://issuer.example",
	})
	d := h.must(engine.OpRead, "config", nil).Data
	if d["kubernetes_host"] != srv.URL {
		t.Errorf("kubernetes_host = %v, want %s (trailing slash trimmed)", d["kubernetes_host"], srv.URL)
	}
	if d["kubernetes_ca_cert"] != srv.CACert() || d["issuer"] != "https://issuer.example" {
		t.Errorf("read = %v", d)
	}
	if d["disable_iss_validation"] != true || d["disable_local_ca_jwt"] != false {
		t.Errorf("defaults: disable_iss_validation=%v disable_local_ca_jwt=%v, want true, false", d["disable_iss_validation"], d["disable_local_ca_jwt"])
	}
	if d["token_reviewer_jwt_set"] != true {
		t.Errorf("token_reviewer_jwt_set = %v, want true", d["token_reviewer_jwt_set"])
	}
	if _, ok := d["token_reviewer_jwt"]; ok {
		t.Error("read returned token_reviewer_jwt")
	}
	raw, _ := json.Marshal(d)
	if strings.Contains(string(raw), reviewerJWT) {
		t.Errorf("read leaks the reviewer JWT: %s", raw)
	}
	if keys, ok := d["pem_keys"].([]string); !ok || len(keys) != 0 {
		t.Errorf("pem_keys = %#v, want an empty list", d["pem_keys"])
	}

	// A write replaces the whole config.
	h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "disable_iss_validation": false})
	d = h.must(engine.OpRead, "config", nil).Data
	if d["token_reviewer_jwt_set"] != false || d["kubernetes_ca_cert"] != "" || d["issuer"] != "" || d["disable_iss_validation"] != false {
		t.Errorf("after replacing write: %v", d)
	}
}

func TestConfigRejects(t *testing.T) {
	h := newHarness(t)
	srv := kubetest.New(t, reviewerJWT)
	pubKey := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n"
	for _, tc := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"no host", map[string]any{}, "kubernetes_host"},
		{"plain http", map[string]any{"kubernetes_host": "http://10.0.0.1:6443"}, "kubernetes_host"},
		{"no scheme", map[string]any{"kubernetes_host": "10.0.0.1:6443"}, "kubernetes_host"},
		{"user info", map[string]any{"kubernetes_host": "https://u:p@10.0.0.1"}, "kubernetes_host"},
		{"bad ca", map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": "not a cert"}, "kubernetes_ca_cert"},
		{"bad pem key", map[string]any{"kubernetes_host": srv.URL, "pem_keys": []any{pubKey, "junk"}}, "pem_keys[1]"},
		{"reviewer with newline", map[string]any{"kubernetes_host": srv.URL, "token_reviewer_jwt": "a\nb"}, "token_reviewer_jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.call(engine.OpUpdate, "config", tc.data)
			wantKind(t, err, engine.ErrInvalidRequest, "")
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
	if resp, _ := h.call(engine.OpRead, "config", nil); resp != nil {
		t.Fatal("a refused write stored a config")
	}
	// A valid public key and the server's certificate are accepted.
	h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "pem_keys": []any{pubKey, srv.CACert()}})
	if got := h.must(engine.OpRead, "config", nil).Data["pem_keys"].([]string); len(got) != 2 {
		t.Fatalf("pem_keys = %v", got)
	}
}

func TestConfigStringRedacts(t *testing.T) {
	c := &config{Host: "https://k8s", ReviewerJWT: "top.secret.jwt"}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v %s", c.ReviewerJWT, c.ReviewerJWT)} {
		if strings.Contains(s, "top.secret.jwt") {
			t.Errorf("printed config leaks the JWT: %s", s)
		}
	}
}
