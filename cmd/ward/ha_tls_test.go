package main

import (
	"crypto/tls"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestHATLS runs a 2-node cluster with TLS everywhere: the API, standby
// forwarding (verified against the cluster CA) and raft (mutual TLS with
// tls_client_ca_file). A node without tls_client_ca_file refuses to start.
func TestHATLS(t *testing.T) {
	ca := lcNewCA(t, "ward cluster CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	type node struct {
		dir, api, cluster string
		proc              *serverProc
	}
	write := func(n *node, id string, withCA bool) string {
		certFile, keyFile := filepath.Join(n.dir, "tls.crt"), filepath.Join(n.dir, "tls.key")
		ca.issue(t, certFile, keyFile)
		caLine := ""
		if withCA {
			caLine = fmt.Sprintf("tls_client_ca_file = %q", filepath.ToSlash(caFile))
		}
		hcl := fmt.Sprintf(`storage "raft" {
  path    = %q
  node_id = %q
}
listener "tcp" {
  address         = %q
  cluster_address = %q
  tls_cert_file   = %q
  tls_key_file    = %q
  %s
}
api_addr      = "https://%s"
cluster_addr  = "https://%s"
disable_mlock = true
`, filepath.ToSlash(filepath.Join(n.dir, "raft")), id, n.api, n.cluster, filepath.ToSlash(certFile), filepath.ToSlash(keyFile), caLine, n.api, n.cluster)
		path := filepath.Join(n.dir, "ward.hcl")
		if err := os.WriteFile(path, []byte(hcl), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	nodes := []*node{{dir: t.TempDir(), api: freeAddr(t), cluster: freeAddr(t)}, {dir: t.TempDir(), api: freeAddr(t), cluster: freeAddr(t)}}

	// Without the cluster CA, raft traffic could not be authenticated.
	code, stderr := lcRunWard(t, "server", "-config="+write(nodes[0], "node0", false))
	if code == 0 || !strings.Contains(stderr, "tls_client_ca_file") {
		t.Fatalf("start without tls_client_ca_file: exit %d\n%s", code, stderr)
	}
	for i, n := range nodes {
		n.proc = startWard(t, n.api, "https", ca.httpClient(), "server", "-config="+write(n, fmt.Sprintf("node%d", i), true))
	}
	c0 := lcVaultTLSClient(t, nodes[0].proc.Addr, ca.pem)
	init, err := c0.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.Sys().Unseal(init.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	c1 := lcVaultTLSClient(t, nodes[1].proc.Addr, ca.pem)
	if _, err := c1.Logical().Write("sys/storage/raft/join", map[string]any{"leader_api_addr": nodes[0].proc.Addr}); err != nil {
		t.Fatalf("join over https: %v", err)
	}
	if _, err := c1.Sys().Unseal(init.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		h, err := c1.Sys().Health()
		if err == nil && h.Standby && !h.Sealed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node1 not a standby: %+v, %v\n%s", h, err, nodes[1].proc.Stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A write through the standby is forwarded over verified TLS.
	c1.SetToken(init.RootToken)
	if err := c1.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Logical().Write("kv/x", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	r := rawCallClient(t, ca.httpClient(), "GET", nodes[1].proc.Addr, "sys/health", "")
	if r != http.StatusTooManyRequests {
		t.Fatalf("standby health over TLS: %d", r)
	}

	// SIGHUP reloads the certificate raft traffic uses, as it does the
	// API's, and the cluster carries on.
	dir := nodes[1].dir
	leaf := ca.issue(t, filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if got := raftPeerSerial(t, nodes[1].cluster, ca); got == nil || got.Cmp(leaf) == 0 {
		t.Fatalf("raft serves serial %v before the reload", got)
	}
	nodes[1].proc.Signal(syscall.SIGHUP)
	lcEventually(t, "raft's new certificate after SIGHUP", func() bool {
		got := raftPeerSerial(t, nodes[1].cluster, ca)
		return got != nil && got.Cmp(leaf) == 0
	})
	if _, err := c1.Logical().Write("kv/y", map[string]any{"a": "c"}); err != nil {
		t.Fatalf("forwarded write after the reload: %v", err)
	}
}

// raftPeerSerial is the serial of the certificate a node's raft listener
// serves, to a client holding a certificate from the cluster CA; nil when
// the handshake fails.
func raftPeerSerial(t *testing.T, addr string, ca *lcCA) *big.Int {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	ca.issue(t, certFile, keyFile)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
		RootCAs: ca.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13,
	})
	if err != nil {
		return nil
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func rawCallClient(t *testing.T, hc *http.Client, method, addr, path, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, addr+"/v1/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
