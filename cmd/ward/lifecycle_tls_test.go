package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestLifecycleTLS serves the API over TLS with a certificate from a test
// CA: Vault's Go client trusting that CA works, one that does not fails
// verification, and SIGHUP swaps in a new certificate for new connections
// without stopping the server (and keeps the old one if the new files are
// broken).
func TestLifecycleTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca1 := lcNewCA(t, "ward test CA one")
	leaf1 := ca1.issue(t, certFile, keyFile)

	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "ward.hcl")
	hcl := fmt.Sprintf("storage \"inmem\" {}\nlistener \"tcp\" {\n  address = %q\n  tls_cert_file = %s\n  tls_key_file = %s\n}\ndisable_mlock = true\n",
		addr, strconv.Quote(filepath.ToSlash(certFile)), strconv.Quote(filepath.ToSlash(keyFile)))
	if err := os.WriteFile(cfgPath, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startWard(t, addr, "https", ca1.httpClient(), "server", "-config="+cfgPath)
	if !strings.HasPrefix(p.Addr, "https://") {
		t.Fatalf("address %q", p.Addr)
	}

	// Vault's client, trusting the CA, drives init, unseal and a KV write.
	vc := lcVaultTLSClient(t, p.Addr, ca1.pem)
	init, err := vc.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("init over TLS: %v", err)
	}
	if st, err := vc.Sys().Unseal(init.KeysB64[0]); err != nil || st.Sealed {
		t.Fatalf("unseal over TLS: %+v, %v", st, err)
	}
	vc.SetToken(init.RootToken)
	if err := vc.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount over TLS: %v", err)
	}
	if _, err := vc.KVv2("secret").Put(t.Context(), "tls/app", map[string]any{"k": "v"}); err != nil {
		t.Fatalf("kv put over TLS: %v", err)
	}
	if got := lcPeerSerial(t, addr, ca1.pool); got.Cmp(leaf1) != 0 {
		t.Fatalf("served certificate serial %v, want %v", got, leaf1)
	}

	// A client that does not trust the CA refuses the server.
	plain := lcVaultTLSClient(t, p.Addr, nil)
	if _, err := plain.Sys().SealStatus(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("client without the CA: want a certificate verification error, got %v", err)
	}

	// New files and SIGHUP: new connections see the new certificate.
	ca2 := lcNewCA(t, "ward test CA two")
	leaf2 := ca2.issue(t, certFile, keyFile)
	p.Signal(syscall.SIGHUP)
	lcEventually(t, "new certificate after SIGHUP", func() bool {
		return lcTryPeerSerial(addr, ca2.pool) != nil
	})
	if got := lcPeerSerial(t, addr, ca2.pool); got.Cmp(leaf2) != 0 {
		t.Fatalf("after reload: serial %v, want %v", got, leaf2)
	}
	if lcTryPeerSerial(addr, ca1.pool) != nil {
		t.Fatal("after reload: a new connection still verifies against the old CA")
	}
	vc2 := lcVaultTLSClient(t, p.Addr, ca2.pem)
	vc2.SetToken(init.RootToken)
	s, err := vc2.KVv2("secret").Get(t.Context(), "tls/app")
	if err != nil || s.Data["k"] != "v" {
		t.Fatalf("kv get after reload: %v, %v", s, err)
	}

	// Broken files and SIGHUP: the reload fails, the server keeps serving
	// the certificate it had.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGHUP)
	lcEventually(t, "failed reload in the log", func() bool {
		return strings.Contains(p.Stderr.String(), "reload failed")
	})
	lcAlive(t, p)
	if got := lcPeerSerial(t, addr, ca2.pool); got.Cmp(leaf2) != 0 {
		t.Fatalf("after a failed reload: serial %v, want %v", got, leaf2)
	}
	if st, err := vc2.Sys().SealStatus(); err != nil || st.Sealed {
		t.Fatalf("seal status after a failed reload: %+v, %v", st, err)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}
}

// lcCA is a throwaway certificate authority.
type lcCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

func lcNewCA(t testing.TB, name string) *lcCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          lcSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
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
	ca := &lcCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	return ca
}

// issue writes a server certificate for 127.0.0.1 and its key to the
// files and returns the certificate's serial number.
func (ca *lcCA) issue(t testing.TB, certFile, keyFile string) *big.Int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: lcSerial(t),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a reload between the two writes then fails (the pair
	// does not match) instead of serving a half-replaced pair.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tmpl.SerialNumber
}

// httpClient trusts only this CA and opens a new connection per request.
func (ca *lcCA) httpClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: ca.pool},
			DisableKeepAlives: true,
		},
	}
}

func lcSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lcVaultTLSClient is Vault's Go client for addr trusting caPEM (the
// system roots when nil).
func lcVaultTLSClient(t testing.TB, addr string, caPEM []byte) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	// Always configure TLS, so that VAULT_CACERT or VAULT_SKIP_VERIFY in
	// the environment cannot change what the test proves.
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACertBytes: caPEM}); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("")
	return c
}

// lcTryPeerSerial opens a new TLS connection verified against pool and
// returns the server certificate's serial, or nil if the handshake fails.
func lcTryPeerSerial(addr string, pool *x509.CertPool) *big.Int {
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		return nil
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func lcPeerSerial(t testing.TB, addr string, pool *x509.CertPool) *big.Int {
	t.Helper()
	s := lcTryPeerSerial(addr, pool)
	if s == nil {
		t.Fatalf("TLS handshake with %s failed", addr)
	}
	return s
}

// lcEventually polls cond for up to 5 seconds.
func lcEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
