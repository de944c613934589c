package cert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// t0 is the mount's clock in these tests; certificates are valid around it.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(certs ...*x509.Certificate) string {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return string(out)
}

// newCA makes a self-signed root valid around t0.
func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             t0.Add(-24 * time.Hour),
		NotAfter:              t0.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	c := create(t, tmpl, tmpl, &key.PublicKey, key)
	return &testCA{cert: c, key: key, pem: pemOf(c)}
}

// intermediate makes a CA signed by ca.
func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             t0.Add(-24 * time.Hour),
		NotAfter:              t0.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	c := create(t, tmpl, ca.cert, &key.PublicKey, ca.key)
	return &testCA{cert: c, key: key, pem: pemOf(c)}
}

// leafOpts shape a client certificate; zero values give a client-auth
// certificate valid around t0.
type leafOpts struct {
	cn        string
	dns       []string
	emails    []string
	uris      []string
	ous       []string
	notBefore time.Time
	notAfter  time.Time
	eku       []x509.ExtKeyUsage
}

// issue makes a client certificate signed by ca.
func (ca *testCA) issue(t testing.TB, o leafOpts) *x509.Certificate {
	t.Helper()
	c, _ := issueWith(t, ca.cert, ca.key, o)
	return c
}

func issueWith(t testing.TB, parent *x509.Certificate, signer *ecdsa.PrivateKey, o leafOpts) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	if o.notBefore.IsZero() {
		o.notBefore = t0.Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = t0.Add(24 * time.Hour)
	}
	if o.eku == nil {
		o.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	var uris []*url.URL
	for _, u := range o.uris {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, p)
	}
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:   serial(t),
		Subject:        pkix.Name{CommonName: o.cn, OrganizationalUnit: o.ous},
		DNSNames:       o.dns,
		EmailAddresses: o.emails,
		URIs:           uris,
		NotBefore:      o.notBefore,
		NotAfter:       o.notAfter,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    o.eku,
		SubjectKeyId:   serial(t).Bytes(),
	}
	if parent == nil {
		parent = tmpl
		signer = key
	}
	return create(t, tmpl, parent, &key.PublicKey, signer), key
}

// newBackend mounts the method on fresh storage with the clock at t0.
func newBackend(t testing.TB) engine.Backend {
	t.Helper()
	b, err := Factory(context.Background(), engine.Env{
		MountPath: "auth/cert/",
		Type:      "cert",
		Accessor:  "auth_cert_0123abcd",
		Storage:   inmem.New(),
		Now:       func() time.Time { return t0 },
		Rand:      rand.Reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call sends one request through Handle, as core would after routing.
func call(t testing.TB, b engine.Backend, op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	t.Helper()
	return b.Handle(context.Background(), &engine.Request{Operation: op, Path: path, MountPath: "auth/cert/", Data: data, RemoteAddr: "127.0.0.1:5000"})
}

// mustWrite writes data to path and fails the test on an error.
func mustWrite(t testing.TB, b engine.Backend, path string, data map[string]any) *engine.Response {
	t.Helper()
	resp, err := call(t, b, engine.OpUpdate, path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return resp
}

// login posts to login with the given client chain and body.
func login(t testing.TB, b engine.Backend, data map[string]any, remote string, chain ...*x509.Certificate) (*engine.Response, error) {
	t.Helper()
	if remote == "" {
		remote = "127.0.0.1:5000"
	}
	return b.Handle(context.Background(), &engine.Request{
		Operation: engine.OpUpdate, Path: "login", MountPath: "auth/cert/",
		Data: data, RemoteAddr: remote, PeerCertificates: chain, Unauthenticated: true,
	})
}
