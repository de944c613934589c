package cert

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestLoginSucceeds(t *testing.T) {
	b := newBackend(t)
	ca := newCA(t, "web CA")
	mustWrite(t, b, "certs/web", map[string]any{
		"certificate":          ca.pem,
		"allowed_common_names": "*.web.example.com",
		"display_name":         "web servers",
		"token_policies":       "web",
		"token_ttl":            "30m",
		"token_num_uses":       5,
	})
	leaf := ca.issue(t, leafOpts{cn: "app1.web.example.com"})
	resp, err := login(t, b, nil, "", leaf)
	if err != nil {
		t.Fatal(err)
	}
	l := resp.Login
	if l == nil {
		t.Fatalf("no login in %+v", resp)
	}
	if l.Alias.Name != "app1.web.example.com" {
		t.Errorf("alias = %q, want the common name", l.Alias.Name)
	}
	if l.Alias.Metadata != nil {
		t.Errorf("alias metadata = %v, want none unless configured", l.Alias.Metadata)
	}
	if !slices.Equal(l.Policies, []string{"web"}) || l.TTL != 30*time.Minute || l.NumUses != 5 || !l.Renewable || l.DisplayName != "web servers" {
		t.Errorf("login = %+v", l)
	}
	want := map[string]string{
		"cert_name":        "web",
		"common_name":      "app1.web.example.com",
		"serial_number":    leaf.SerialNumber.String(),
		"subject_key_id":   colonHex(leaf.SubjectKeyId),
		"authority_key_id": colonHex(ca.cert.SubjectKeyId),
	}
	for k, v := range want {
		if l.Metadata[k] != v {
			t.Errorf("metadata[%s] = %q, want %q", k, l.Metadata[k], v)
		}
	}
	if len(leaf.SubjectKeyId) == 0 || !strings.Contains(l.Metadata["subject_key_id"], ":") {
		t.Errorf("subject_key_id = %q, want colon-separated hex", l.Metadata["subject_key_id"])
	}

	// With alias metadata on, the alias carries the same metadata.
	mustWrite(t, b, "config", map[string]any{"enable_identity_alias_metadata": true})
	resp, err = login(t, b, nil, "", leaf)
	if err != nil || resp.Login.Alias.Metadata["common_name"] != "app1.web.example.com" || resp.Login.Alias.Metadata["cert_name"] != "web" {
		t.Fatalf("alias metadata: %+v, %v", resp, err)
	}
}

func TestLoginRefusals(t *testing.T) {
	b := newBackend(t)
	ca := newCA(t, "trusted CA")
	other := newCA(t, "other CA")
	mustWrite(t, b, "certs/web", map[string]any{
		"certificate":          ca.pem,
		"allowed_common_names": "*.web.example.com",
	})
	good := leafOpts{cn: "a.web.example.com"}
	expired := good
	expired.notBefore, expired.notAfter = t0.Add(-48*time.Hour), t0.Add(-time.Minute)
	future := good
	future.notBefore = t0.Add(time.Hour)
	serverOnly := good
	serverOnly.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	selfSigned, _ := issueWith(t, nil, nil, good)

	if _, err := login(t, b, nil, "", ca.issue(t, good)); err != nil {
		t.Fatalf("control: the good certificate must log in: %v", err)
	}
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		data  map[string]any
		want  string
	}{
		{"no certificate", nil, nil, "client certificate must be supplied"},
		{"expired", []*x509.Certificate{ca.issue(t, expired)}, nil, "invalid certificate or no client certificate supplied"},
		{"not yet valid", []*x509.Certificate{ca.issue(t, future)}, nil, "invalid certificate or no client certificate supplied"},
		{"another CA", []*x509.Certificate{other.issue(t, good)}, nil, "invalid certificate or no client certificate supplied"},
		{"self-signed", []*x509.Certificate{selfSigned}, nil, "invalid certificate or no client certificate supplied"},
		{"wrong common name", []*x509.Certificate{ca.issue(t, leafOpts{cn: "a.db.example.com"})}, nil, "invalid certificate or no client certificate supplied"},
		{"suffix is not a match", []*x509.Certificate{ca.issue(t, leafOpts{cn: "a.web.example.com.evil"})}, nil, "invalid certificate or no client certificate supplied"},
		{"server auth only", []*x509.Certificate{ca.issue(t, serverOnly)}, nil, "invalid certificate or no client certificate supplied"},
		{"unknown role name", []*x509.Certificate{ca.issue(t, good)}, map[string]any{"name": "db"}, "invalid certificate or no client certificate supplied"},
		{"the CA itself, presented by someone else", []*x509.Certificate{other.cert, ca.cert}, nil, "invalid certificate or no client certificate supplied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := login(t, b, tc.data, "", tc.chain...)
			if resp != nil {
				t.Fatalf("refused login answered %+v", resp)
			}
			if !errors.Is(err, engine.ErrInvalidRequest) || err.Error() != tc.want {
				t.Fatalf("err = %v, want 400 %q", err, tc.want)
			}
		})
	}
}

func TestLoginNameConstraints(t *testing.T) {
	ca := newCA(t, "CA")
	for _, tc := range []struct {
		name  string
		role  map[string]any
		leaf  leafOpts
		allow bool
	}{
		{"dns san glob", map[string]any{"allowed_dns_sans": "*.svc.local"}, leafOpts{cn: "x", dns: []string{"a.svc.local"}}, true},
		{"dns san miss", map[string]any{"allowed_dns_sans": "*.svc.local"}, leafOpts{cn: "x.svc.local", dns: []string{"a.other"}}, false},
		{"dns san missing entirely", map[string]any{"allowed_dns_sans": "*"}, leafOpts{cn: "x"}, false},
		{"email san", map[string]any{"allowed_email_sans": "*@example.com"}, leafOpts{cn: "x", emails: []string{"ops@example.com"}}, true},
		{"email san miss", map[string]any{"allowed_email_sans": "*@example.com"}, leafOpts{cn: "x", emails: []string{"ops@example.org"}}, false},
		{"uri san", map[string]any{"allowed_uri_sans": "spiffe://example.org/ns/*/sa/web"}, leafOpts{cn: "x", uris: []string{"spiffe://example.org/ns/prod/sa/web"}}, true},
		{"uri san miss", map[string]any{"allowed_uri_sans": "spiffe://example.org/ns/*/sa/web"}, leafOpts{cn: "x", uris: []string{"spiffe://example.org/ns/prod/sa/db"}}, false},
		{"ou", map[string]any{"allowed_organizational_units": "payments,ops"}, leafOpts{cn: "x", ous: []string{"ops"}}, true},
		{"ou miss", map[string]any{"allowed_organizational_units": "payments"}, leafOpts{cn: "x", ous: []string{"ops"}}, false},
		{"allowed_names via dns", map[string]any{"allowed_names": "db.example.com"}, leafOpts{cn: "x", dns: []string{"db.example.com"}}, true},
		{"allowed_names miss", map[string]any{"allowed_names": "db.example.com"}, leafOpts{cn: "y", dns: []string{"web.example.com"}}, false},
		{"all lists must hold", map[string]any{"allowed_common_names": "x", "allowed_dns_sans": "a"}, leafOpts{cn: "x", dns: []string{"b"}}, false},
		{"all lists hold", map[string]any{"allowed_common_names": "x", "allowed_dns_sans": "a"}, leafOpts{cn: "x", dns: []string{"b", "a"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			tc.role["certificate"] = ca.pem
			mustWrite(t, b, "certs/r", tc.role)
			resp, err := login(t, b, nil, "", ca.issue(t, tc.leaf))
			if tc.allow && (err != nil || resp == nil || resp.Login == nil) {
				t.Fatalf("want a login, got %v, %v", resp, err)
			}
			if !tc.allow && err != errInvalid {
				t.Fatalf("want refusal, got %v, %v", resp, err)
			}
		})
	}
}

func TestLoginChainsAndPinnedLeaves(t *testing.T) {
	root := newCA(t, "root")
	inter := root.intermediate(t, "intermediate")
	leaf := inter.issue(t, leafOpts{cn: "svc"})

	b := newBackend(t)
	mustWrite(t, b, "certs/root", map[string]any{"certificate": root.pem})
	if _, err := login(t, b, nil, "", leaf, inter.cert); err != nil {
		t.Fatalf("leaf with the intermediate it was sent with: %v", err)
	}
	if _, err := login(t, b, nil, "", leaf); err != errInvalid {
		t.Fatalf("leaf without its intermediate: %v, want refusal", err)
	}

	// A role may trust the intermediate itself.
	b = newBackend(t)
	mustWrite(t, b, "certs/inter", map[string]any{"certificate": inter.pem})
	if _, err := login(t, b, nil, "", leaf); err != nil {
		t.Fatalf("role holding the intermediate: %v", err)
	}

	// A non-CA certificate trusts exactly itself, not what its key signs.
	pinned, pinnedKey := issueWith(t, nil, nil, leafOpts{cn: "pinned"})
	b = newBackend(t)
	mustWrite(t, b, "certs/pin", map[string]any{"certificate": pemOf(pinned), "token_policies": "pin"})
	resp, err := login(t, b, nil, "", pinned)
	if err != nil || resp.Login.Alias.Name != "pinned" {
		t.Fatalf("pinned leaf: %v, %v", resp, err)
	}
	minted, _ := issueWith(t, pinned, pinnedKey, leafOpts{cn: "someone-else"})
	if _, err := login(t, b, nil, "", minted, pinned); err != errInvalid {
		t.Fatalf("certificate signed by a pinned leaf's key: %v, want refusal", err)
	}
	if _, err := login(t, b, nil, "", root.issue(t, leafOpts{cn: "pinned"})); err != errInvalid {
		t.Fatalf("another certificate with the pinned CN: %v, want refusal", err)
	}
	expiredPin, _ := issueWith(t, nil, nil, leafOpts{cn: "old", notBefore: t0.Add(-48 * time.Hour), notAfter: t0.Add(-time.Hour)})
	mustWrite(t, b, "certs/old", map[string]any{"certificate": pemOf(expiredPin)})
	if _, err := login(t, b, nil, "", expiredPin); err != errInvalid {
		t.Fatalf("expired pinned leaf: %v, want refusal", err)
	}
}

func TestLoginPicksRoles(t *testing.T) {
	ca := newCA(t, "CA")
	b := newBackend(t)
	mustWrite(t, b, "certs/a-db", map[string]any{"certificate": ca.pem, "allowed_common_names": "db", "token_policies": "db"})
	mustWrite(t, b, "certs/b-any", map[string]any{"certificate": ca.pem, "token_policies": "any"})
	mustWrite(t, b, "certs/c-db", map[string]any{"certificate": ca.pem, "allowed_common_names": "db", "token_policies": "c"})

	policies := func(data map[string]any, cn string) []string {
		t.Helper()
		resp, err := login(t, b, data, "", ca.issue(t, leafOpts{cn: cn}))
		if err != nil {
			t.Fatalf("login %v as %s: %v", data, cn, err)
		}
		return resp.Login.Policies
	}
	// Roles are tried in name order; the first that accepts wins.
	if got := policies(nil, "db"); !slices.Equal(got, []string{"db"}) {
		t.Errorf("db without a name: %q", got)
	}
	if got := policies(nil, "web"); !slices.Equal(got, []string{"any"}) {
		t.Errorf("web without a name: %q", got)
	}
	// "name" restricts the login to one role (case insensitive).
	if got := policies(map[string]any{"name": "C-DB"}, "db"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("db with name c-db: %q", got)
	}
	if _, err := login(t, b, map[string]any{"name": "a-db"}, "", ca.issue(t, leafOpts{cn: "web"})); err != errInvalid {
		t.Errorf("web with name a-db: %v, want refusal", err)
	}
}

func TestLoginBoundCIDRs(t *testing.T) {
	ca := newCA(t, "CA")
	b := newBackend(t)
	mustWrite(t, b, "certs/r", map[string]any{"certificate": ca.pem, "token_bound_cidrs": "10.0.0.0/8"})
	leaf := ca.issue(t, leafOpts{cn: "x"})
	if _, err := login(t, b, nil, "10.1.2.3:4444", leaf); err != nil {
		t.Fatalf("inside the CIDR: %v", err)
	}
	resp, err := login(t, b, nil, "192.168.1.1:4444", leaf)
	if resp != nil || !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("outside the CIDR: %v, %v; want 403", resp, err)
	}
}

func TestLoginNeedsCommonName(t *testing.T) {
	ca := newCA(t, "CA")
	b := newBackend(t)
	mustWrite(t, b, "certs/r", map[string]any{"certificate": ca.pem})
	_, err := login(t, b, nil, "", ca.issue(t, leafOpts{dns: []string{"a.example.com"}}))
	if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "no subject common name") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoginIsUnauthenticated(t *testing.T) {
	b := newBackend(t)
	if _, unauth := b.(engine.SpecialPaths).Special("login", engine.OpUpdate); !unauth {
		t.Error("login needs a token")
	}
	if _, unauth := b.(engine.SpecialPaths).Special("certs/x", engine.OpUpdate); unauth {
		t.Error("certs/x needs no token")
	}
}
