package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestAuthCert logs in over mutual TLS: Ward serves HTTPS and asks for
// (never requires) a client certificate; the cert auth method trusts a
// client CA for a role with allowed common names. Vault's Go client and a
// raw client with a certificate from that CA and the right CN get a token
// that reads the role's secrets; no certificate, a certificate from
// another CA, an expired one and one with the wrong CN get a 400 and no
// token.
func TestAuthCert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	serverCA := acNewCA(t, "ward server CA")
	serverCert, serverKey := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	serverCA.issue(t, dir, "server", acLeaf{cn: "127.0.0.1", ip: "127.0.0.1", eku: x509.ExtKeyUsageServerAuth})
	clientCA := acNewCA(t, "workload CA")
	otherCA := acNewCA(t, "someone else's CA")
	good := clientCA.issue(t, dir, "good", acLeaf{cn: "app.example.com"})
	wrongCN := clientCA.issue(t, dir, "wrongcn", acLeaf{cn: "db.example.com"})
	expired := clientCA.issue(t, dir, "expired", acLeaf{cn: "app.example.com", notAfter: time.Now().Add(-time.Minute)})
	foreign := otherCA.issue(t, dir, "foreign", acLeaf{cn: "app.example.com"})

	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "ward.hcl")
	hcl := fmt.Sprintf("storage \"inmem\" {}\nlistener \"tcp\" {\n  address = %q\n  tls_cert_file = %s\n  tls_key_file = %s\n}\ndisable_mlock = true\n",
		addr, strconv.Quote(filepath.ToSlash(serverCert)), strconv.Quote(filepath.ToSlash(serverKey)))
	if err := os.WriteFile(cfgPath, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startWard(t, addr, "https", acHTTPClient(serverCA.pool, nil), "server", "-config="+cfgPath)

	// Set up as an operator, with no client certificate.
	admin := acVaultClient(t, p.Addr, serverCA.pemFile, nil)
	init, err := admin.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if st, err := admin.Sys().Unseal(init.KeysB64[0]); err != nil || st.Sealed {
		t.Fatalf("unseal: %+v, %v", st, err)
	}
	admin.SetToken(init.RootToken)
	if err := admin.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount kv: %v", err)
	}
	for _, path := range []string{"app/db", "other/db"} {
		if _, err := admin.KVv2("secret").Put(t.Context(), path, map[string]any{"password": "pw-" + path}); err != nil {
			t.Fatalf("kv put %s: %v", path, err)
		}
	}
	if err := admin.Sys().PutPolicy("app-read", `path "secret/data/app/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if err := admin.Sys().EnableAuthWithOptions("cert", &vaultapi.EnableAuthOptions{Type: "cert"}); err != nil {
		t.Fatalf("enable cert auth: %v", err)
	}
	if _, err := admin.Logical().Write("auth/cert/certs/app", map[string]any{
		"certificate":          string(clientCA.pem),
		"allowed_common_names": []string{"app.example.com"},
		"token_policies":       []string{"app-read"},
		"token_ttl":            "1h",
	}); err != nil {
		t.Fatalf("write cert role: %v", err)
	}
	role, err := admin.Logical().Read("auth/cert/certs/app")
	if err != nil || role == nil || role.Data["certificate"] != string(clientCA.pem) {
		t.Fatalf("read cert role: %+v, %v", role, err)
	}
	if list, err := admin.Logical().List("auth/cert/certs"); err != nil || list == nil || fmt.Sprint(list.Data["keys"]) != "[app]" {
		t.Fatalf("list cert roles: %+v, %v", list, err)
	}

	// Vault's client, with the workload's certificate, logs in.
	vc := acVaultClient(t, p.Addr, serverCA.pemFile, &good)
	s, err := vc.Logical().Write("auth/cert/login", nil)
	if err != nil {
		t.Fatalf("cert login: %v", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		t.Fatalf("cert login: no token in %+v", s)
	}
	if !slices.Contains(s.Auth.Policies, "app-read") || s.Auth.EntityID == "" {
		t.Errorf("auth = %+v", s.Auth)
	}
	if s.Auth.Metadata["cert_name"] != "app" || s.Auth.Metadata["common_name"] != "app.example.com" || s.Auth.Metadata["serial_number"] == "" {
		t.Errorf("metadata = %v", s.Auth.Metadata)
	}
	if s.Auth.LeaseDuration <= 0 || s.Auth.LeaseDuration > 3600 {
		t.Errorf("lease_duration = %d, want the role's token_ttl (1h)", s.Auth.LeaseDuration)
	}
	user := acVaultClient(t, p.Addr, serverCA.pemFile, nil)
	user.SetToken(s.Auth.ClientToken)
	got, err := user.KVv2("secret").Get(t.Context(), "app/db")
	if err != nil || got.Data["password"] != "pw-app/db" {
		t.Fatalf("read own secret with the cert token: %+v, %v", got, err)
	}
	_, err = user.KVv2("secret").Get(t.Context(), "other/db")
	wantStatus(t, err, http.StatusForbidden, "permission denied")
	self, err := user.Auth().Token().LookupSelf()
	if err != nil || self.Data["display_name"] != "cert-app" {
		t.Fatalf("lookup-self: %+v, %v", self, err)
	}

	// A second login with the same CN is the same entity.
	again, err := vc.Logical().Write("auth/cert/login", map[string]any{"name": "app"})
	if err != nil || again.Auth == nil || again.Auth.EntityID != s.Auth.EntityID {
		t.Fatalf("second login (name=app): %+v, %v; want entity %s", again, err, s.Auth.EntityID)
	}

	// A raw client with the certificate logs in too.
	raw := acPost(t, acHTTPClient(serverCA.pool, &good.pair), p.Addr, "auth/cert/login", `{"name":"app"}`)
	if raw.Status != http.StatusOK {
		t.Fatalf("raw login: %d %s", raw.Status, raw.Body)
	}
	var env struct {
		Auth struct {
			ClientToken string   `json:"client_token"`
			Policies    []string `json:"policies"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(raw.Body, &env); err != nil || env.Auth.ClientToken == "" || !slices.Contains(env.Auth.Policies, "app-read") {
		t.Fatalf("raw login body: %v\n%s", err, raw.Body)
	}

	// Refused: each answers 400 with Vault's message and no token.
	_, err = acVaultClient(t, p.Addr, serverCA.pemFile, nil).Logical().Write("auth/cert/login", nil)
	wantStatus(t, err, http.StatusBadRequest, "client certificate must be supplied")
	for name, c := range map[string]acIssued{"another CA": foreign, "expired": expired, "wrong common name": wrongCN} {
		_, err := acVaultClient(t, p.Addr, serverCA.pemFile, &c).Logical().Write("auth/cert/login", nil)
		if err == nil {
			t.Fatalf("%s: login succeeded", name)
		}
		wantStatus(t, err, http.StatusBadRequest, "invalid certificate or no client certificate supplied")
		r := acPost(t, acHTTPClient(serverCA.pool, &c.pair), p.Addr, "auth/cert/login", `{}`)
		if r.Status != http.StatusBadRequest || bytes.Contains(r.Body, []byte("client_token")) {
			t.Fatalf("%s (raw): %d %s", name, r.Status, r.Body)
		}
	}
	r := acPost(t, acHTTPClient(serverCA.pool, nil), p.Addr, "auth/cert/login", `{}`)
	if r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte("client certificate must be supplied")) {
		t.Fatalf("no certificate (raw): %d %s", r.Status, r.Body)
	}
	// A good certificate for a role that does not exist is refused too.
	_, err = vc.Logical().Write("auth/cert/login", map[string]any{"name": "db"})
	wantStatus(t, err, http.StatusBadRequest, "invalid certificate or no client certificate supplied")
}

// acCA is a throwaway certificate authority whose PEM is also on disk.
type acCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pem     []byte
	pemFile string
	pool    *x509.CertPool
}

// acLeaf shapes a certificate; eku defaults to client auth, notAfter to
// an hour from now.
type acLeaf struct {
	cn       string
	ip       string
	eku      x509.ExtKeyUsage
	notAfter time.Time
}

// acIssued is a certificate and key, on disk and loaded.
type acIssued struct {
	certFile, keyFile string
	pair              tls.Certificate
}

func acNewCA(t *testing.T, name string) *acCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          acSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &acCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.pemFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca.pemFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return ca
}

// issue writes <dir>/<name>.crt and <name>.key, signed by ca.
func (ca *acCA) issue(t *testing.T, dir, name string, l acLeaf) acIssued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if l.eku == 0 {
		l.eku = x509.ExtKeyUsageClientAuth
	}
	if l.notAfter.IsZero() {
		l.notAfter = time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: acSerial(t),
		Subject:      pkix.Name{CommonName: l.cn},
		NotBefore:    time.Now().Add(-2 * time.Hour),
		NotAfter:     l.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{l.eku},
	}
	if l.ip != "" {
		tmpl.IPAddresses = []net.IP{net.ParseIP(l.ip)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := acIssued{certFile: filepath.Join(dir, name+".crt"), keyFile: filepath.Join(dir, name+".key")}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(out.keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out.certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if out.pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return out
}

func acSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// acVaultClient is Vault's Go client trusting the CA in caFile and, when
// client is not nil, presenting its certificate.
func acVaultClient(t *testing.T, addr, caFile string, client *acIssued) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	tlsCfg := &vaultapi.TLSConfig{CACert: caFile}
	if client != nil {
		tlsCfg.ClientCert, tlsCfg.ClientKey = client.certFile, client.keyFile
	}
	if err := cfg.ConfigureTLS(tlsCfg); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("")
	return c
}

// acHTTPClient trusts roots and presents pair when it is not nil.
func acHTTPClient(roots *x509.CertPool, pair *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: roots}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{*pair}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// acPost posts body to addr/v1/path with client.
func acPost(t *testing.T, client *http.Client, addr, path, body string) rawResponse {
	t.Helper()
	resp, err := client.Post(addr+"/v1/"+path, "application/json", strings.NewReader(body))
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
