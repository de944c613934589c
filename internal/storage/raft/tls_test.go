package raft

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// testCA makes a CA and returns it with a function issuing leaf
// certificates (usable as client and server) signed by it.
func testCA(t *testing.T, name string) (*x509.CertPool, func() tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serial := int64(1)
	return pool, func() tls.Certificate {
		serial++
		lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leaf := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "node"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		ld, err := x509.CreateCertificate(rand.Reader, leaf, ca, &lk.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{ld}, PrivateKey: lk}
	}
}

// TestMutualTLS: nodes with certificates from the cluster CA replicate;
// a node whose certificate comes from another CA cannot take part, even
// once the leader lists it as a voter.
func TestMutualTLS(t *testing.T) {
	pool, issue := testCA(t, "cluster CA")
	otherPool, otherIssue := testCA(t, "attacker CA")
	c := newCluster(t, 3, func(o *Options) {
		o.TLS = &tls.Config{Certificates: []tls.Certificate{issue()}, ClientCAs: pool}
	})
	_, leader := c.leader()
	want := writeKeys(t, leader, "tls", 10)
	for i := range c.nodes {
		waitFor(t, "replication over TLS", func() bool {
			_, ok := localValue(c.nodes[i], "tls/0009")
			return ok
		})
	}

	rogue := openNode(t, withTLS(fastOptions(c.logger, t.TempDir(), "rogue"), &tls.Config{Certificates: []tls.Certificate{otherIssue()}, ClientCAs: otherPool}))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Whatever AddVoter answers, the rogue must never receive data.
	_ = leader.AddVoter(ctx, "rogue", rogue.Addr())
	time.Sleep(500 * time.Millisecond)
	for k := range want {
		if _, ok := localValue(rogue, k); ok {
			t.Fatalf("a node with a foreign certificate received %q", k)
		}
	}
}

func withTLS(o Options, c *tls.Config) Options {
	o.TLS = c
	return o
}
