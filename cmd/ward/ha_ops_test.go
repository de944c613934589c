package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// The ha_ops tests drive a raft cluster's operations through the API, the
// Vault Go client and the ward CLI: membership, step-down, snapshots.

// opsCluster is a running, unsealed raft cluster of processes.
type opsCluster struct {
	nodes []*haNode
	init  *vaultapi.InitResponse
}

// startOpsCluster starts n nodes, initializes the first (3 shares, 2
// needed) and joins the others to it, every node unsealed.
func startOpsCluster(t *testing.T, n int) *opsCluster {
	t.Helper()
	c := &opsCluster{}
	for i := range n {
		node := newHANode(t, i)
		node.start(t)
		c.nodes = append(c.nodes, node)
	}
	init, err := vaultClient(t, c.nodes[0].proc.Addr, "").Sys().Init(&vaultapi.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.init = init
	c.unseal(t, c.nodes[0], init.KeysB64)
	waitStatus(t, c.nodes[0], http.StatusOK)
	for _, node := range c.nodes[1:] {
		if _, err := vaultClient(t, node.proc.Addr, "").Sys().RaftJoin(&vaultapi.RaftJoinRequest{LeaderAPIAddr: c.nodes[0].proc.Addr}); err != nil {
			t.Fatalf("join %s: %v", node.id, err)
		}
		c.unseal(t, node, init.KeysB64)
		waitStatus(t, node, http.StatusTooManyRequests)
	}
	return c
}

// unseal gives node two of the shares in keys.
func (c *opsCluster) unseal(t *testing.T, node *haNode, keys []string) {
	t.Helper()
	vc := vaultClient(t, node.proc.Addr, "")
	for _, k := range keys[:2] {
		if _, err := vc.Sys().Unseal(k); err != nil {
			t.Fatalf("unseal %s: %v", node.id, err)
		}
	}
}

// client is a Vault client with the root token for node i.
func (c *opsCluster) client(t *testing.T, i int) *vaultapi.Client {
	return vaultClient(t, c.nodes[i].proc.Addr, c.init.RootToken)
}

// waitActive returns the one node whose sys/health says active, among
// candidates, waiting up to within for it.
func waitActive(t *testing.T, candidates []*haNode, within time.Duration) *haNode {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, n := range candidates {
			if n.health(t) == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no active node among %d within %v", len(candidates), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// raftPeers reads sys/storage/raft/configuration with the Vault client
// and returns the servers sorted by node ID.
func raftPeers(t *testing.T, vc *vaultapi.Client) []map[string]any {
	t.Helper()
	sec, err := vc.Logical().Read("sys/storage/raft/configuration")
	if err != nil {
		t.Fatalf("read raft configuration: %v", err)
	}
	cfg, _ := sec.Data["config"].(map[string]any)
	raw, _ := cfg["servers"].([]any)
	if cfg == nil || raw == nil {
		t.Fatalf("raft configuration without config.servers: %v", sec.Data)
	}
	if _, ok := cfg["index"].(json.Number); !ok {
		t.Errorf("config.index = %#v, want a number", cfg["index"])
	}
	var out []map[string]any
	for _, s := range raw {
		out = append(out, s.(map[string]any))
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["node_id"]) < fmt.Sprint(out[j]["node_id"]) })
	return out
}

// leaderOf returns the node_id of the one server marked leader.
func leaderOf(t *testing.T, peers []map[string]any) string {
	t.Helper()
	var leaders []string
	for _, p := range peers {
		if p["leader"] == true {
			leaders = append(leaders, fmt.Sprint(p["node_id"]))
		}
	}
	if len(leaders) != 1 {
		t.Fatalf("%d leaders in %v", len(leaders), peers)
	}
	return leaders[0]
}

// opsWard runs the ward CLI against addr with token and returns its exit
// code, stdout and stderr.
func opsWard(t *testing.T, addr, token string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ward", args...)
	cmd.Env = append(os.Environ(), "WARD_ADDR="+addr, "WARD_TOKEN="+token, "HOME="+t.TempDir(), "WARD_FORMAT=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ward %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestHARaftMembershipAndStepDown: list-peers shows the cluster from any
// node, the ACL guards the endpoints (step-down needs sudo), step-down
// moves the active role within seconds, and remove-peer drops a standby.
func TestHARaftMembershipAndStepDown(t *testing.T) {
	c := startOpsCluster(t, 3)
	standby := c.client(t, 1)

	// Three voters, node0 leading, seen through a standby (forwarded).
	peers := raftPeers(t, standby)
	if len(peers) != 3 {
		t.Fatalf("%d peers, want 3: %v", len(peers), peers)
	}
	for i, p := range peers {
		if p["node_id"] != c.nodes[i].id || p["address"] != c.nodes[i].cluster || p["voter"] != true || p["protocol_version"] != "3" {
			t.Errorf("peer %d = %v, want %s at %s, voter", i, p, c.nodes[i].id, c.nodes[i].cluster)
		}
	}
	if got := leaderOf(t, peers); got != "node0" {
		t.Errorf("leader %s, want node0", got)
	}
	code, out, errOut := opsWard(t, c.nodes[2].proc.Addr, c.init.RootToken, "operator", "raft", "list-peers")
	if code != 0 || !strings.Contains(out, "node0") || !strings.Contains(out, c.nodes[1].cluster) ||
		!regexp.MustCompile(`(?m)^node0\s+\S+\s+leader\s+true$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^node2\s+\S+\s+follower\s+true$`).MatchString(out) {
		t.Errorf("ward operator raft list-peers: exit %d\n%s%s", code, out, errOut)
	}

	// The ACL: read on the configuration is enough to list, step-down
	// needs sudo, the snapshot its own capability.
	root := c.client(t, 0)
	if err := root.Sys().PutPolicy("raft-ops", `
path "sys/storage/raft/configuration" { capabilities = ["read"] }
path "sys/step-down" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().PutPolicy("raft-sudo", `path "sys/step-down" { capabilities = ["update", "sudo"] }`); err != nil {
		t.Fatal(err)
	}
	ops := opsToken(t, root, "raft-ops")
	sudo := opsToken(t, root, "raft-sudo")
	raftPeers(t, withToken(t, standby, ops))
	for _, tc := range []struct{ method, path, token string }{
		{"PUT", "sys/step-down", ops},
		{"POST", "sys/step-down", ops},
		{"GET", "sys/storage/raft/snapshot", ops},
		{"POST", "sys/storage/raft/snapshot-force", ops},
		{"POST", "sys/storage/raft/remove-peer", ops},
		{"GET", "sys/storage/raft/configuration", sudo},
		{"GET", "sys/storage/raft/configuration", ""},
	} {
		for _, n := range c.nodes {
			r := rawCall(t, tc.method, n.proc.Addr, tc.path, tc.token, []byte(`{"server_id":"node2"}`))
			if r.Status != http.StatusForbidden {
				t.Errorf("%s %s on %s with a token lacking the capability: %d %s, want 403", tc.method, tc.path, n.id, r.Status, r.Body)
			}
		}
	}
	if len(raftPeers(t, root)) != 3 {
		t.Fatal("a refused remove-peer removed a peer")
	}

	// Step-down through a standby: another node is active within seconds.
	start := time.Now()
	if err := withToken(t, standby, sudo).Sys().StepDown(); err != nil {
		t.Fatalf("step-down with sudo: %v", err)
	}
	active := waitActive(t, c.nodes[1:], 10*time.Second)
	t.Logf("step-down: %s active %v after the request", active.id, time.Since(start))
	waitStatus(t, c.nodes[0], http.StatusTooManyRequests) // a standby, still unsealed
	if got := leaderOf(t, raftPeers(t, root)); got != active.id {
		t.Errorf("leader after step-down %s, want %s", got, active.id)
	}
	if err := root.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatalf("write through the old active node after step-down: %v", err)
	}

	// Remove a standby; the active node refuses to remove itself.
	var gone *haNode
	for _, n := range c.nodes {
		if n != active && gone == nil {
			gone = n
		}
	}
	r := rawCall(t, "POST", c.nodes[0].proc.Addr, "sys/storage/raft/remove-peer", c.init.RootToken, []byte(`{"server_id":"`+active.id+`"}`))
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "step it down first") {
		t.Errorf("remove-peer of the active node: %d %s, want 400", r.Status, r.Body)
	}
	r = rawCall(t, "POST", active.proc.Addr, "sys/storage/raft/remove-peer", c.init.RootToken, []byte(`{"server_id":"node9"}`))
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `server_id \"node9\"`) {
		t.Errorf("remove-peer of an unknown node: %d %s, want 400 naming it", r.Status, r.Body)
	}
	code, out, errOut = opsWard(t, active.proc.Addr, c.init.RootToken, "operator", "raft", "remove-peer", gone.id)
	if code != 0 || !strings.Contains(out, "Removed peer: "+gone.id) {
		t.Fatalf("ward operator raft remove-peer %s: exit %d\n%s%s", gone.id, code, out, errOut)
	}
	peers = raftPeers(t, vaultClient(t, active.proc.Addr, c.init.RootToken))
	if len(peers) != 2 {
		t.Fatalf("after remove-peer %s: %v", gone.id, peers)
	}
	for _, p := range peers {
		if p["node_id"] == gone.id {
			t.Errorf("%s is still a peer: %v", gone.id, peers)
		}
	}
	if _, err := vaultClient(t, active.proc.Addr, c.init.RootToken).Logical().Write("kv/after-remove", map[string]any{"v": "1"}); err != nil {
		t.Fatalf("write with two voters left: %v", err)
	}
}

// opsToken creates a token with one policy.
func opsToken(t *testing.T, root *vaultapi.Client, policy string) string {
	t.Helper()
	sec, err := root.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{policy}})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

// TestHARaftSnapshotRestore: a snapshot of a 3-node cluster, saved with
// the CLI through a standby, holds no plaintext secret; restored in place
// with the Vault client it brings back the old data; restored with -force
// into a fresh single node it serves the same secrets once unsealed with
// the cluster's shares. Every snapshot request is audited.
func TestHARaftSnapshotRestore(t *testing.T) {
	c := startOpsCluster(t, 3)
	root := c.client(t, 0)
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	if err := root.Sys().EnableAuditWithOptions("file", &vaultapi.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": auditLog}}); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	canary := "canary-" + lcRandHex(t, 16)
	for i := range 5 {
		if _, err := root.KVv2("secret").Put(t.Context(), fmt.Sprintf("app/%d", i), map[string]any{"password": canary, "i": i}); err != nil {
			t.Fatal(err)
		}
	}

	// Save through a standby with the CLI.
	snap := filepath.Join(t.TempDir(), "cluster.snap")
	code, out, errOut := opsWard(t, c.nodes[2].proc.Addr, c.init.RootToken, "operator", "raft", "snapshot", "save", snap)
	if code != 0 || !strings.Contains(out, "Saved a snapshot") {
		t.Fatalf("snapshot save: exit %d\n%s%s", code, out, errOut)
	}
	raw := opsSnapshotState(t, snap)
	if info, _ := os.Stat(snap); info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file mode %v, want 0600", info.Mode().Perm())
	}
	if !bytes.Contains(raw, []byte("core/mounts")) || !bytes.Contains(raw, []byte("logical/")) {
		t.Fatalf("the snapshot (%d bytes) shows no storage keys; scanning it for secrets would prove nothing", len(raw))
	}
	lcScan(t, "the snapshot", raw, map[string][]byte{
		"canary":           []byte(canary),
		"canary (base64)":  []byte(base64.StdEncoding.EncodeToString([]byte(canary))[:24]),
		"root token":       []byte(c.init.RootToken),
		"unseal key share": []byte(c.init.KeysB64[0]),
	})
	lines := auReadLog(t, auditLog)
	if len(auFind(lines, "request", "sys/storage/raft/snapshot", "read")) != 1 || len(auFind(lines, "response", "sys/storage/raft/snapshot", "read")) != 1 {
		t.Errorf("the snapshot save is not audited as one request and one response")
	}

	// Vault's own client saves it, checking its archive shape on the way.
	var vbuf bytes.Buffer
	if err := c.client(t, 0).Sys().RaftSnapshot(&vbuf); err != nil {
		t.Fatalf("snapshot save with Vault's client: %v", err)
	}
	// An archive whose storage snapshot was altered is refused, changing nothing.
	err := c.client(t, 0).Sys().RaftSnapshotRestore(bytes.NewReader(opsTamper(t, vbuf.Bytes())), false)
	wantStatus(t, err, http.StatusBadRequest, "nothing was changed")
	opsReadCanaries(t, c.client(t, 0), canary)

	// In place, with the Vault client: writes made since are undone.
	if _, err := root.KVv2("secret").Put(t.Context(), "later", map[string]any{"v": "x"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(snap)
	if err != nil {
		t.Fatal(err)
	}
	err = c.client(t, 1).Sys().RaftSnapshotRestore(f, false)
	f.Close()
	if err != nil {
		t.Fatalf("restore in place through a standby: %v", err)
	}
	active := waitActive(t, c.nodes, 15*time.Second)
	ac := vaultClient(t, active.proc.Addr, c.init.RootToken)
	if _, err := ac.KVv2("secret").Get(t.Context(), "later"); !errors.Is(err, vaultapi.ErrSecretNotFound) {
		t.Errorf("a write made after the snapshot survived its restore: %v", err)
	}
	opsReadCanaries(t, ac, canary)
	lines = auReadLog(t, auditLog)
	// Two restores: the refused tampered one and this one.
	if len(auFind(lines, "request", "sys/storage/raft/snapshot", "update")) != 2 || len(auFind(lines, "response", "sys/storage/raft/snapshot", "update")) != 2 {
		t.Errorf("the two restores are not audited as a request and a response each")
	}

	// Into a fresh single node with its own keys, forced.
	fresh := newHANode(t, 7)
	fresh.start(t)
	finit, err := vaultClient(t, fresh.proc.Addr, "").Sys().Init(&vaultapi.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.unseal(t, fresh, finit.KeysB64)
	waitStatus(t, fresh, http.StatusOK)
	code, out, errOut = opsWard(t, fresh.proc.Addr, finit.RootToken, "operator", "raft", "snapshot", "restore", snap)
	if code != 1 || !strings.Contains(errOut, "does not open with this cluster's keys") {
		t.Errorf("restore of another cluster's snapshot without -force: exit %d\n%s%s", code, out, errOut)
	}
	// The refused restore changed nothing: the node still serves its own data.
	fc := vaultClient(t, fresh.proc.Addr, finit.RootToken)
	if _, err := fc.Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("after a refused restore the node's own root token fails: %v", err)
	}
	waitStatus(t, fresh, http.StatusOK)
	code, out, errOut = opsWard(t, fresh.proc.Addr, finit.RootToken, "operator", "raft", "snapshot", "restore", "-force", snap)
	if code != 0 || !strings.Contains(out, "Restored the snapshot") || !strings.Contains(out, "sealed itself") {
		t.Fatalf("restore -force: exit %d\n%s%s", code, out, errOut)
	}
	st, err := vaultClient(t, fresh.proc.Addr, "").Sys().SealStatus()
	if err != nil || !st.Sealed {
		t.Fatalf("after a forced restore the node should be sealed: %+v, %v", st, err)
	}
	c.unseal(t, fresh, c.init.KeysB64)
	waitStatus(t, fresh, http.StatusOK)
	fc = vaultClient(t, fresh.proc.Addr, c.init.RootToken)
	opsReadCanaries(t, fc, canary)
	if _, err := withToken(t, fc, finit.RootToken).Logical().Read("sys/mounts"); err == nil {
		t.Error("the fresh node's own root token still works after the restore")
	}
	peers := raftPeers(t, fc)
	if len(peers) != 1 || peers[0]["node_id"] != fresh.id || peers[0]["leader"] != true {
		t.Errorf("the restored node's peers = %v, want only itself", peers)
	}
}

// opsReadCanaries checks the five secrets the snapshot test wrote.
func opsReadCanaries(t *testing.T, vc *vaultapi.Client, canary string) {
	t.Helper()
	for i := range 5 {
		s, err := vc.KVv2("secret").Get(t.Context(), fmt.Sprintf("app/%d", i))
		if err != nil || s.Data["password"] != canary || fmt.Sprint(s.Data["i"]) != fmt.Sprint(i) {
			t.Fatalf("secret/app/%d = %v, %v", i, s, err)
		}
	}
}

// startRaftSingle starts one raft node (node ID "solo") with its data in
// dir, uninitialized; `ward operator init` makes it a one-node cluster.
func startRaftSingle(t tb, dir string) *serverProc {
	t.Helper()
	cluster := freeAddr(t)
	hcl := `storage "raft" {
  path    = "` + filepath.ToSlash(filepath.Join(dir, "raft")) + `"
  node_id = "solo"
}
listener "tcp" {
  address         = "%[1]s"
  cluster_address = "` + cluster + `"
  tls_disable     = true
}
api_addr      = "http://%[1]s"
cluster_addr  = "http://` + cluster + `"
disable_mlock = true
`
	return startConfig(t, dir, hcl)
}

// opsSnapshotState opens a snapshot archive the way Vault's client checks
// one (gzip'd tar, SHA256SUMS.sealed last and non-empty) and returns the
// storage snapshot inside, uncompressed, for scanning.
func opsSnapshotState(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the snapshot is not gzip'd: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	var last string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the snapshot is not a tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], last = b, h.Name
	}
	if last != "SHA256SUMS.sealed" || len(files["SHA256SUMS.sealed"]) == 0 || len(files["ward.snap"]) == 0 {
		t.Fatalf("snapshot archive entries %v (last %q): want ward.snap, SHA256SUMS and a non-empty SHA256SUMS.sealed last", slices.Collect(maps.Keys(files)), last)
	}
	if bytes.Contains(files["SHA256SUMS.sealed"], files["SHA256SUMS"][:16]) {
		t.Fatal("SHA256SUMS.sealed holds the sums in the clear")
	}
	return files["ward.snap"]
}

// opsTamper rebuilds a snapshot archive with one byte of its storage
// snapshot flipped and the rest (sums included) unchanged.
func opsTamper(t *testing.T, archive []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if h.Name == "ward.snap" {
			b[len(b)/2] ^= 0x01
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	gw.Close()
	return out.Bytes()
}
