package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// haNode is one raft node started as a process on loopback.
type haNode struct {
	id, dir, api, cluster string
	// retryJoin, when set, is the leader_api_addr of a retry_join block.
	retryJoin string
	// extra is appended to the configuration (a seal block).
	extra string
	proc  *serverProc
}

func newHANode(t *testing.T, i int) *haNode {
	return &haNode{id: fmt.Sprintf("node%d", i), dir: t.TempDir(), api: freeAddr(t), cluster: freeAddr(t)}
}

func (n *haNode) start(t *testing.T) {
	t.Helper()
	join := ""
	if n.retryJoin != "" {
		join = fmt.Sprintf("\n  retry_join {\n    leader_api_addr = %q\n  }", n.retryJoin)
	}
	hcl := fmt.Sprintf(`storage "raft" {
  path    = %q
  node_id = %q%s
}
listener "tcp" {
  address         = %q
  cluster_address = %q
  tls_disable     = true
}
api_addr      = "http://%s"
cluster_addr  = "http://%s"
disable_mlock = true
%s
`, filepath.ToSlash(filepath.Join(n.dir, "raft")), n.id, join, n.api, n.cluster, n.api, n.cluster, n.extra)
	path := filepath.Join(n.dir, "ward.hcl")
	if err := os.WriteFile(path, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	n.proc = startWard(t, n.api, "http", nil, "server", "-config="+path)
}

func (n *haNode) health(t *testing.T) int {
	return rawCall(t, "GET", n.proc.Addr, "sys/health", "", nil).Status
}

// TestHAJoinForwardFailover builds a 3-node cluster, writes through a
// standby, kills the active node and checks that a new one takes over
// with every acknowledged write.
func TestHAJoinForwardFailover(t *testing.T) {
	nodes := []*haNode{newHANode(t, 0), newHANode(t, 1), newHANode(t, 2)}
	for _, n := range nodes {
		n.start(t)
	}
	c0 := vaultClient(t, nodes[0].proc.Addr, "")
	init, err := c0.Sys().Init(&vaultapi.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	unseal := func(n *haNode) {
		t.Helper()
		c := vaultClient(t, n.proc.Addr, "")
		for _, k := range init.KeysB64[:2] {
			if _, err := c.Sys().Unseal(k); err != nil {
				t.Fatalf("unseal %s: %v", n.id, err)
			}
		}
	}
	unseal(nodes[0])
	waitStatus(t, nodes[0], http.StatusOK)
	for _, n := range nodes[1:] {
		r := rawCall(t, "POST", n.proc.Addr, "sys/storage/raft/join", "", []byte(`{"leader_api_addr":"`+nodes[0].proc.Addr+`"}`))
		if r.Status != http.StatusOK {
			t.Fatalf("join %s: %d %s", n.id, r.Status, r.Body)
		}
		unseal(n)
		waitStatus(t, n, http.StatusTooManyRequests)
	}

	// Writes through a standby are forwarded; reads through the other see them.
	s1 := vaultClient(t, nodes[1].proc.Addr, init.RootToken)
	if err := s1.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	s2 := vaultClient(t, nodes[2].proc.Addr, init.RootToken)
	for i := range 20 {
		if _, err := s1.KVv2("secret").Put(t.Context(), fmt.Sprintf("k%d", i), map[string]any{"v": i}); err != nil {
			t.Fatal(err)
		}
		got, err := s2.KVv2("secret").Get(t.Context(), fmt.Sprintf("k%d", i))
		if err != nil || fmt.Sprint(got.Data["v"]) != fmt.Sprint(i) {
			t.Fatalf("read-after-write through the other standby: %v, %v", got, err)
		}
	}
	leader, err := s2.Sys().Leader()
	if err != nil || !leader.HAEnabled || leader.IsSelf || leader.LeaderAddress != nodes[0].proc.Addr {
		t.Fatalf("sys/leader on a standby = %+v, %v", leader, err)
	}

	// Kill the active node: a standby takes over and serves every write.
	nodes[0].proc.Kill()
	start := time.Now()
	var active *haNode
	for active == nil {
		for _, n := range nodes[1:] {
			if n.health(t) == http.StatusOK {
				active = n
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("no new active node within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("failover: %s active %v after the kill", active.id, time.Since(start))
	ac := vaultClient(t, active.proc.Addr, init.RootToken)
	for i := range 20 {
		got, err := ac.KVv2("secret").Get(t.Context(), fmt.Sprintf("k%d", i))
		if err != nil || fmt.Sprint(got.Data["v"]) != fmt.Sprint(i) {
			t.Fatalf("after failover k%d = %v, %v", i, got, err)
		}
	}
	if _, err := ac.KVv2("secret").Put(t.Context(), "after", map[string]any{"v": "x"}); err != nil {
		t.Fatal(err)
	}
}

func waitStatus(t *testing.T, n *haNode, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := n.health(t)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: sys/health %d, want %d\n%s", n.id, got, want, n.proc.Stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHARetryJoin: a node with retry_join joins by itself once the leader
// answers, and needs only the unseal shares; it survives a restart.
func TestHARetryJoin(t *testing.T) {
	n0, n1 := newHANode(t, 0), newHANode(t, 1)
	n1.retryJoin = "http://" + n0.api
	n1.start(t) // before the leader exists: it keeps retrying
	n0.start(t)
	c0 := vaultClient(t, n0.proc.Addr, "")
	init, err := c0.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.Sys().Unseal(init.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n0, http.StatusOK)
	c1 := vaultClient(t, n1.proc.Addr, "")
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := c1.Sys().SealStatus()
		if err == nil && st.Initialized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retry_join did not start a join: %+v, %v\n%s", st, err, n1.proc.Stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c1.Sys().Unseal(init.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n1, http.StatusTooManyRequests)
	c0.SetToken(init.RootToken)
	if err := c0.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	// The standby restarts, comes back sealed, and rejoins as a standby once unsealed.
	n1.proc.Stop()
	n1.start(t)
	if _, err := c1.Sys().Unseal(init.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n1, http.StatusTooManyRequests)
	c1.SetToken(init.RootToken)
	if _, err := c1.Logical().Write("kv/x", map[string]any{"a": "b"}); err != nil {
		t.Fatalf("write through the restarted standby: %v", err)
	}
}

// TestHAAutoUnsealJoin: with a transit seal, a joiner completes its join
// without any unseal share, and every node unseals itself after a restart.
func TestHAAutoUnsealJoin(t *testing.T) {
	hub := startSealHub(t)
	n0, n1 := newHANode(t, 0), newHANode(t, 1)
	n0.extra, n1.extra = transitSealHCL(hub), transitSealHCL(hub)
	n0.start(t)
	n1.start(t)
	c0 := vaultClient(t, n0.proc.Addr, "")
	init, err := c0.Sys().Init(&vaultapi.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n0, http.StatusOK)
	c1 := vaultClient(t, n1.proc.Addr, "")
	if _, err := c1.Logical().Write("sys/storage/raft/join", map[string]any{"leader_api_addr": n0.proc.Addr}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n1, http.StatusTooManyRequests) // no unseal call
	c1.SetToken(init.RootToken)
	if err := c1.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	// Both restart and come back by themselves, one active, one standby.
	n0.proc.Stop()
	n1.proc.Stop()
	n0.start(t)
	n1.start(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		h0, h1 := n0.health(t), n1.health(t)
		if (h0 == 200 && h1 == 429) || (h0 == 429 && h1 == 200) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: health %d and %d", h0, h1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c1.Logical().Write("kv/x", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
}
