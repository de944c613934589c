package testcluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures Start. A nil *Options and zero fields mean defaults.
type Options struct {
	// Shares and Threshold are the unseal key split asked of sys/init
	// (recovery key split under AutoUnseal). Default 3 and 2.
	Shares, Threshold int

	// ExtraConfig is HCL appended to every node's configuration, for
	// example `log_level = "debug"` or a seal "transit" block.
	ExtraConfig string

	// AutoUnseal says ExtraConfig configures an auto-unseal seal: init
	// asks for recovery shares and nodes unseal themselves.
	AutoUnseal bool

	// NoUnsealOnRestart leaves a node sealed after Node.Restart.
	NoUnsealOnRestart bool

	// Timeout bounds each wait of Start, Restart and Unseal (a process
	// answering, a node unsealing, a leader appearing). Default 30 s.
	Timeout time.Duration
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Shares == 0 {
		out.Shares = 3
	}
	if out.Threshold == 0 {
		out.Threshold = min(2, out.Shares)
	}
	if out.Timeout == 0 {
		out.Timeout = 30 * time.Second
	}
	return out
}

// Cluster is a running set of ward server processes on loopback that
// form one raft cluster.
type Cluster struct {
	Nodes        []*Node
	RootToken    string
	UnsealKeys   []string // base64 unseal shares; empty under AutoUnseal
	RecoveryKeys []string // base64 recovery shares under AutoUnseal
	Dir          string   // holds every node's data, configuration and log

	opts     Options
	wardPath string
	net      *network
}

// Start starts an n-node cluster: n `ward server` processes, node 0
// initialized and unsealed, every other node joined to it through
// sys/storage/raft/join and unsealed. It returns once every node is
// unsealed and exactly one is active. The `ward` binary is found on PATH.
// Cleanup kills every process and, if the test failed, logs the tail of
// each node's output.
func Start(t testing.TB, n int, opts *Options) *Cluster {
	t.Helper()
	if n < 1 || n > maxNodes {
		t.Fatalf("testcluster: start: %d nodes; want 1 to %d", n, maxNodes)
	}
	wardPath, err := exec.LookPath("ward")
	if err != nil {
		t.Fatalf("testcluster: start: %v (hint: make the test binary double as ward with testscript.Main in TestMain)", err)
	}
	c := &Cluster{Dir: t.TempDir(), opts: opts.withDefaults(), wardPath: wardPath, net: newNetwork()}
	t.Cleanup(func() { c.shutdown(t) })

	for i := range n {
		node, err := c.layOut(i)
		if err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, node)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, node := range c.Nodes {
		wg.Go(func() { errs[i] = node.start(c.opts.Timeout) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	first := c.Nodes[0]
	if err := c.initialize(first); err != nil {
		t.Fatal(err)
	}
	first.Unseal(t)
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	if err := first.waitHealth(ctx, "start", http.StatusOK); err != nil {
		t.Fatal(err)
	}
	for _, node := range c.Nodes[1:] {
		if err := c.join(ctx, node, first); err != nil {
			t.Fatal(err)
		}
		node.Unseal(t)
	}
	c.Active(t, c.opts.Timeout)
	return c
}

// layOut picks node i's ports, starts its proxies and writes its
// configuration.
func (c *Cluster) layOut(i int) (*Node, error) {
	ip := nodeIP(i)
	apiPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	clusterPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	apiProxy, err := c.net.listen("api", i, net.JoinHostPort(ip, apiPort))
	if err != nil {
		return nil, err
	}
	clusterProxy, err := c.net.listen("cluster", i, net.JoinHostPort(ip, clusterPort))
	if err != nil {
		return nil, err
	}
	id := "node" + strconv.Itoa(i)
	n := &Node{
		Index:       i,
		ID:          id,
		Addr:        "http://" + net.JoinHostPort(ip, apiPort),
		APIAddr:     "http://" + apiProxy.addr(),
		ClusterAddr: "http://" + clusterProxy.addr(),
		DataDir:     filepath.Join(c.Dir, id),
		ConfigPath:  filepath.Join(c.Dir, id+".hcl"),
		LogPath:     filepath.Join(c.Dir, id+".log"),
		c:           c,
	}
	hcl := fmt.Sprintf(`storage "raft" {
  path    = %s
  node_id = %q
}
listener "tcp" {
  address         = %q
  cluster_address = %q
  tls_disable     = true
}
api_addr      = %q
cluster_addr  = %q
disable_mlock = true
%s
`, strconv.Quote(filepath.ToSlash(n.DataDir)), id, net.JoinHostPort(ip, apiPort), net.JoinHostPort(ip, clusterPort),
		n.APIAddr, n.ClusterAddr, c.opts.ExtraConfig)
	if err := os.WriteFile(n.ConfigPath, []byte(hcl), 0o600); err != nil {
		return nil, fmt.Errorf("testcluster: write %s config: %w", id, err)
	}
	return n, nil
}

// freePort returns a port on ip that was free a moment ago.
func freePort(ip string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", fmt.Errorf("testcluster: find a free port on %s: %w", ip, err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// initialize sends sys/init to node and keeps the shares and root token.
func (c *Cluster) initialize(node *Node) error {
	body := map[string]int{"secret_shares": c.opts.Shares, "secret_threshold": c.opts.Threshold}
	if c.opts.AutoUnseal {
		body = map[string]int{"recovery_shares": c.opts.Shares, "recovery_threshold": c.opts.Threshold}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	var resp initResponse
	r, err := call(ctx, node.Addr, http.MethodPut, "sys/init", "", body)
	if err == nil {
		err = r.decode("testcluster: init "+node.ID, &resp)
	}
	if err != nil {
		return err
	}
	if resp.RootToken == "" {
		return fmt.Errorf("testcluster: init %s: no root token in %s", node.ID, r.body)
	}
	c.RootToken, c.UnsealKeys, c.RecoveryKeys = resp.RootToken, resp.KeysB64, resp.RecoveryKeysB64
	return nil
}

// join asks node to join leader's raft cluster. It retries while the
// request cannot be sent or the node answers 503, until ctx ends.
func (c *Cluster) join(ctx context.Context, node, leader *Node) error {
	body := map[string]string{"leader_api_addr": leader.APIAddr}
	for {
		r, err := call(ctx, node.Addr, http.MethodPost, "sys/storage/raft/join", "", body)
		if err == nil && r.status != http.StatusServiceUnavailable {
			var out struct {
				Joined bool `json:"joined"`
			}
			if err := r.decode("testcluster: join "+node.ID, &out); err != nil {
				return err
			}
			if !out.Joined {
				return fmt.Errorf("testcluster: join %s: answer %s, want joined true", node.ID, r.body)
			}
			return nil
		}
		if err == nil {
			err = fmt.Errorf("HTTP %d: %s", r.status, strings.TrimSpace(string(r.body)))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testcluster: join %s to %s: %w; log tail:\n%s", node.ID, leader.ID, err, node.logTail())
		case <-time.After(pollStep):
		}
	}
}

// healthAll asks every running node for sys/health at once; a node that
// is down or does not answer gets 0.
func (c *Cluster) healthAll() []int {
	codes := make([]int, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			codes[i], _ = n.health(ctx)
		})
	}
	wg.Wait()
	return codes
}

// Active polls sys/health of every running node until exactly one
// answers 200 and returns it, or fails the test after within.
func (c *Cluster) Active(t testing.TB, within time.Duration) *Node {
	t.Helper()
	return c.waitActive(t, nil, within)
}

// NextActive is Active for a failover: it waits until exactly one node
// answers 200 and that node is not old. Right after old is partitioned
// away it may still answer 200 until it notices; Active would return it.
func (c *Cluster) NextActive(t testing.TB, old *Node, within time.Duration) *Node {
	t.Helper()
	return c.waitActive(t, old, within)
}

func (c *Cluster) waitActive(t testing.TB, not *Node, within time.Duration) *Node {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		codes := c.healthAll()
		var active []*Node
		for i, code := range codes {
			if code == http.StatusOK {
				active = append(active, c.Nodes[i])
			}
		}
		if len(active) == 1 && active[0] != not {
			return active[0]
		}
		if time.Now().After(deadline) {
			what := "a single active node"
			if not != nil {
				what = "a single active node other than " + not.ID
			}
			t.Fatalf("testcluster: no %s within %v; sys/health: %s", what, within, c.describe(codes))
		}
		time.Sleep(pollStep)
	}
}

// Standbys returns the nodes whose sys/health answers 429 (unsealed
// standby) right now.
func (c *Cluster) Standbys() []*Node {
	var out []*Node
	for i, code := range c.healthAll() {
		if code == http.StatusTooManyRequests {
			out = append(out, c.Nodes[i])
		}
	}
	return out
}

// describe renders health codes as "node0=200 node1=429 node2=down".
func (c *Cluster) describe(codes []int) string {
	parts := make([]string, len(codes))
	for i, code := range codes {
		s := strconv.Itoa(code)
		if code == 0 {
			s = "down"
		}
		if c.net.isPartitioned(i) {
			s += "(partitioned)"
		}
		parts[i] = c.Nodes[i].ID + "=" + s
	}
	return strings.Join(parts, " ")
}

// Partition cuts node i off from the others: every proxy refuses
// connections from node i's address, node i's own proxies refuse every
// connection, and established proxied connections involving node i are
// closed. Tests still reach node i at its real Addr.
func (c *Cluster) Partition(i int) {
	c.Nodes[i].mark("partitioned")
	c.net.partition(i)
}

// Heal undoes Partition(i); new connections go through again.
func (c *Cluster) Heal(i int) {
	c.Nodes[i].mark("healed")
	c.net.heal(i)
}

// shutdown kills every node and stops the proxies; if the test failed it
// logs the tail of every node's log.
func (c *Cluster) shutdown(t testing.TB) {
	for _, n := range c.Nodes {
		n.Kill()
	}
	c.net.close()
	if !t.Failed() {
		return
	}
	for _, n := range c.Nodes {
		t.Logf("testcluster: %s (%s) log tail:\n%s", n.ID, n.Addr, n.logTail())
	}
}
