package cert

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func TestRoleWriteReadListDelete(t *testing.T) {
	b := newBackend(t)
	ca := newCA(t, "role CA")
	resp := mustWrite(t, b, "certs/Web", map[string]any{
		"certificate":          ca.pem,
		"allowed_common_names": "*.web.example.com, api.example.com",
		"allowed_dns_sans":     []any{"*.svc"},
		"token_policies":       "web,ops",
		"token_ttl":            "1h",
		"token_max_ttl":        7200,
	})
	if resp != nil {
		t.Fatalf("write answered %+v, want nothing (204)", resp)
	}

	// Names are case insensitive: "Web" was stored as "web".
	resp, err := call(t, b, engine.OpRead, "certs/web", nil)
	if err != nil || resp == nil {
		t.Fatalf("read: %v, %v", resp, err)
	}
	d := resp.Data
	if d["certificate"] != ca.pem {
		t.Errorf("certificate = %q", d["certificate"])
	}
	if got := d["allowed_common_names"].([]string); !slices.Equal(got, []string{"*.web.example.com", "api.example.com"}) {
		t.Errorf("allowed_common_names = %q", got)
	}
	if got := d["allowed_dns_sans"].([]string); !slices.Equal(got, []string{"*.svc"}) {
		t.Errorf("allowed_dns_sans = %q", got)
	}
	if got := d["allowed_email_sans"].([]string); len(got) != 0 {
		t.Errorf("allowed_email_sans = %q, want empty", got)
	}
	if d["display_name"] != "web" {
		t.Errorf("display_name = %v, want the role name", d["display_name"])
	}
	if got := d["token_policies"].([]string); !slices.Equal(got, []string{"web", "ops"}) {
		t.Errorf("token_policies = %q", got)
	}
	if d["token_ttl"] != int64(3600) || d["token_max_ttl"] != int64(7200) {
		t.Errorf("token_ttl = %v, token_max_ttl = %v", d["token_ttl"], d["token_max_ttl"])
	}

	// An update without a certificate keeps it and changes only what it sends.
	mustWrite(t, b, "certs/web", map[string]any{"display_name": "web servers", "allowed_dns_sans": ""})
	resp, _ = call(t, b, engine.OpRead, "certs/web", nil)
	if resp.Data["certificate"] != ca.pem || resp.Data["display_name"] != "web servers" {
		t.Errorf("after update: certificate kept = %v, display_name = %v", resp.Data["certificate"] == ca.pem, resp.Data["display_name"])
	}
	if got := resp.Data["allowed_dns_sans"].([]string); len(got) != 0 {
		t.Errorf("allowed_dns_sans after clearing = %q", got)
	}
	if got := resp.Data["allowed_common_names"].([]string); len(got) != 2 {
		t.Errorf("allowed_common_names changed by an update that did not send it: %q", got)
	}

	mustWrite(t, b, "certs/db", map[string]any{"certificate": ca.pem})
	resp, err = call(t, b, engine.OpList, "certs/", nil)
	if err != nil || resp == nil {
		t.Fatalf("list: %v, %v", resp, err)
	}
	if got := resp.Data["keys"].([]string); !slices.Equal(got, []string{"db", "web"}) {
		t.Errorf("keys = %q", got)
	}

	if _, err := call(t, b, engine.OpDelete, "certs/WEB", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := call(t, b, engine.OpRead, "certs/web", nil); resp != nil || err != nil {
		t.Fatalf("read after delete: %v, %v (want nothing: 404)", resp, err)
	}
	if found, supported, err := b.(engine.ExistenceChecker).Exists(t.Context(), &engine.Request{Operation: engine.OpCreate, Path: "certs/db"}); !found || !supported || err != nil {
		t.Errorf("exists(db) = %v, %v, %v", found, supported, err)
	}
	if found, _, _ := b.(engine.ExistenceChecker).Exists(t.Context(), &engine.Request{Operation: engine.OpCreate, Path: "certs/web"}); found {
		t.Error("exists(web) after delete")
	}
}

func TestRoleWriteRefusesBadInput(t *testing.T) {
	b := newBackend(t)
	ca := newCA(t, "role CA")
	keyPEM := "-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END EC PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"no certificate", map[string]any{"token_policies": "web"}, "invalid certificate: a PEM certificate is required"},
		{"not PEM", map[string]any{"certificate": "hello"}, "not a PEM-encoded certificate"},
		{"private key", map[string]any{"certificate": keyPEM}, `is a "EC PRIVATE KEY", not a CERTIFICATE`},
		{"bad DER", map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "certificate 1 does not parse"},
		{"trailing junk", map[string]any{"certificate": ca.pem + "junk"}, "trailing data"},
		{"ttl over max", map[string]any{"certificate": ca.pem, "token_ttl": "2h", "token_max_ttl": "1h"}, "token_ttl"},
		{"bad cidr", map[string]any{"certificate": ca.pem, "token_bound_cidrs": "nope"}, "token_bound_cidrs"},
		{"control char", map[string]any{"certificate": ca.pem, "allowed_common_names": "a\x00b"}, "allowed_common_names"},
		{"wrong type", map[string]any{"certificate": ca.pem, "allowed_dns_sans": map[string]any{}}, "allowed_dns_sans"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, b, engine.OpUpdate, "certs/r", tc.data)
			if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a 400 containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "c2VjcmV0") {
				t.Fatalf("error echoes the pasted key: %v", err)
			}
			if resp, _ := call(t, b, engine.OpRead, "certs/r", nil); resp != nil {
				t.Fatal("a refused write stored a role")
			}
		})
	}
}

func TestRoleWriteWarnsOnUnknownFields(t *testing.T) {
	b := newBackend(t)
	resp := mustWrite(t, b, "certs/r", map[string]any{"certificate": newCA(t, "ca").pem, "token_ttl": "1h", "ocsp_enabled": true})
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "ocsp_enabled") || strings.Contains(resp.Warnings[0], "token_ttl") {
		t.Fatalf("warnings = %+v, want one naming only ocsp_enabled", resp)
	}
}

func TestRoleCreateOnlyRefusesOverwrite(t *testing.T) {
	b := newBackend(t)
	ca := newCA(t, "ca")
	mustWrite(t, b, "certs/r", map[string]any{"certificate": ca.pem})
	_, err := b.Handle(t.Context(), &engine.Request{Operation: engine.OpCreate, Path: "certs/r", Data: map[string]any{"token_policies": "root"}, CreateOnly: true})
	if !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("create-only overwrite: %v, want permission denied", err)
	}
}

func TestConfig(t *testing.T) {
	b := newBackend(t)
	resp, err := call(t, b, engine.OpRead, "config", nil)
	if err != nil || resp.Data["enable_identity_alias_metadata"] != false {
		t.Fatalf("default config: %v, %v", resp, err)
	}
	mustWrite(t, b, "config", map[string]any{"enable_identity_alias_metadata": "true"})
	resp, _ = call(t, b, engine.OpRead, "config", nil)
	if resp.Data["enable_identity_alias_metadata"] != true {
		t.Fatalf("config after write: %v", resp.Data)
	}
}

// FuzzParsePEM feeds arbitrary role certificates to the parser: it never
// panics, an error means no certificates, and success means every
// certificate re-encodes to a PEM the parser reads back identically.
func FuzzParsePEM(f *testing.F) {
	ca := newCA(f, "fuzz CA")
	leaf := ca.issue(f, leafOpts{cn: "leaf"})
	f.Add(ca.pem)
	f.Add(pemOf(ca.cert, leaf))
	f.Add(ca.pem + "junk")
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	f.Add("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		certs, err := parsePEM(s)
		if err != nil {
			if certs != nil {
				t.Fatal("error with output")
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("success without certificates")
		}
		var again []byte
		for _, c := range certs {
			again = append(again, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		back, err := parsePEM(string(again))
		if err != nil || !slices.EqualFunc(back, certs, (*x509.Certificate).Equal) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
