package testcluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// stopTimeout bounds a SIGTERM shutdown before Stop falls back to SIGKILL.
const stopTimeout = 30 * time.Second

// clientTimeout bounds each request of a Client; a test that wants longer
// can call SetClientTimeout.
const clientTimeout = 10 * time.Second

// Node is one `ward server` process of a Cluster. Its exported fields are
// fixed for the cluster's life and survive restarts.
type Node struct {
	Index       int    // position in Cluster.Nodes
	ID          string // raft node_id: "node<Index>"
	Addr        string // the real API URL, "http://127.0.0.<10+Index>:port"; tests talk here
	APIAddr     string // api_addr: the API proxy's URL, which other nodes use
	ClusterAddr string // cluster_addr: the cluster proxy's URL
	DataDir     string // raft storage path
	ConfigPath  string // the HCL configuration file
	LogPath     string // stdout and stderr of every run, appended

	c *Cluster

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// start runs the process and waits until its API answers, or returns an
// error that carries the tail of its log.
func (n *Node) start(within time.Duration) error {
	n.mu.Lock()
	if n.cmd != nil && !exited(n.done) {
		n.mu.Unlock()
		return fmt.Errorf("start %s: it is already running", n.ID)
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	fmt.Fprintf(logf, "--- testcluster %s: starting %s\n", time.Now().Format(time.RFC3339Nano), n.ID)
	cmd := exec.Command(n.c.wardPath, "server", "-config="+n.ConfigPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "WARD_TOKEN=", "VAULT_TOKEN=")
	err = cmd.Start()
	_ = logf.Close() // the child has its own descriptor
	if err != nil {
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()

	deadline := time.Now().Add(within)
	for {
		_, err := call(context.Background(), n.Addr, http.MethodGet, "sys/seal-status", "", nil)
		if err == nil {
			return nil
		}
		if exited(done) {
			return fmt.Errorf("start %s: ward exited early (%v); log tail:\n%s", n.ID, cmd.ProcessState, n.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start %s: API did not answer within %v: %v; log tail:\n%s", n.ID, within, err, n.logTail())
		}
		time.Sleep(pollStep)
	}
}

func exited(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// current returns the running process and its done channel, or nils.
func (n *Node) current() (*exec.Cmd, chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || exited(n.done) {
		return nil, nil
	}
	return n.cmd, n.done
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	cmd, _ := n.current()
	return cmd != nil
}

// Kill sends SIGKILL, as a crash or `kill -9` would, and waits until the
// process is gone. It does nothing if the node is not running.
func (n *Node) Kill() {
	cmd, done := n.current()
	if cmd == nil {
		return
	}
	n.mark("SIGKILL")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Stop sends SIGTERM and waits for the process to exit. It returns an
// error if the exit was not clean (status 0) or took longer than 30 s, in
// which case the process is killed. It returns nil if the node was not
// running.
func (n *Node) Stop() error {
	cmd, done := n.current()
	if cmd == nil {
		return nil
	}
	n.mark("SIGTERM")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		n.Kill()
		return fmt.Errorf("stop %s: no exit within %v of SIGTERM; killed", n.ID, stopTimeout)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("stop %s: exit status %d after SIGTERM", n.ID, code)
	}
	return nil
}

// Restart starts the node's process again with the same directory,
// configuration and ports, waits until its API answers, and unseals it
// unless Options.NoUnsealOnRestart is set. The node must not be running.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	if err := n.start(n.c.opts.Timeout); err != nil {
		t.Fatal(err)
	}
	if !n.c.opts.NoUnsealOnRestart {
		n.Unseal(t)
	}
}

// Unseal submits the cluster's unseal shares, one at a time, until the
// node reports itself unsealed (an auto-unseal node needs none and is
// only waited for), then waits until sys/health answers 200 (active) or
// 429 (standby). It does nothing else for a node already unsealed.
func (n *Node) Unseal(t testing.TB) {
	t.Helper()
	if err := n.unseal(n.c.opts.Timeout); err != nil {
		t.Fatal(err)
	}
}

func (n *Node) unseal(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	// A restarted node may not know it is initialized until it has caught
	// up with the cluster; shares sent before then are refused.
	var st sealStatus
	for {
		r, err := call(ctx, n.Addr, http.MethodGet, "sys/seal-status", "", nil)
		if err == nil {
			err = r.decode("unseal "+n.ID+": seal-status", &st)
		}
		if err != nil {
			return err
		}
		if st.Initialized {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("unseal %s: still not initialized after %v; log tail:\n%s", n.ID, within, n.logTail())
		case <-time.After(pollStep):
		}
	}
	if st.Sealed && st.Type == "shamir" {
		if st.Progress > 0 {
			if _, err := call(ctx, n.Addr, http.MethodPut, "sys/unseal", "", map[string]bool{"reset": true}); err != nil {
				return fmt.Errorf("unseal %s: reset: %w", n.ID, err)
			}
		}
		for i, key := range n.c.UnsealKeys {
			r, err := call(ctx, n.Addr, http.MethodPut, "sys/unseal", "", map[string]string{"key": key})
			if err == nil {
				err = r.decode(fmt.Sprintf("unseal %s: share %d", n.ID, i+1), &st)
			}
			if err != nil {
				return err
			}
			if !st.Sealed {
				break
			}
		}
		if st.Sealed {
			return fmt.Errorf("unseal %s: still sealed after all %d shares", n.ID, len(n.c.UnsealKeys))
		}
	}
	return n.waitHealth(ctx, "unseal", http.StatusOK, http.StatusTooManyRequests)
}

// waitHealth polls sys/health until it answers one of codes or ctx ends.
func (n *Node) waitHealth(ctx context.Context, op string, codes ...int) error {
	last := "no answer"
	for {
		code, err := n.health(ctx)
		if err != nil {
			last = err.Error()
		} else {
			for _, c := range codes {
				if code == c {
					return nil
				}
			}
			last = fmt.Sprintf("HTTP %d", code)
		}
		if !n.Running() {
			return fmt.Errorf("%s %s: ward exited; log tail:\n%s", op, n.ID, n.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: sys/health never answered %v (last: %s); log tail:\n%s", op, n.ID, codes, last, n.logTail())
		case <-time.After(pollStep):
		}
	}
}

// Health returns the status code of GET sys/health with Vault's default
// codes: 200 active, 429 standby, 503 sealed, 501 not initialized.
func (n *Node) Health() (int, error) { return n.health(context.Background()) }

func (n *Node) health(ctx context.Context) (int, error) {
	r, err := call(ctx, n.Addr, http.MethodGet, "sys/health", "", nil)
	if err != nil {
		return 0, err
	}
	return r.status, nil
}

// Leader returns the node's answer to GET sys/leader.
func (n *Node) Leader() (Leader, error) {
	var l Leader
	r, err := call(context.Background(), n.Addr, http.MethodGet, "sys/leader", "", nil)
	if err == nil {
		err = r.decode("leader "+n.ID, &l)
	}
	return l, err
}

// Client returns a Vault API client for the node's real address that
// sends token (none if empty), makes no retries and gives up on a request
// after 10 s. It ignores VAULT_TOKEN and VAULT_NAMESPACE. It panics if
// the environment holds a malformed VAULT_* setting the client rejects.
func (n *Node) Client(token string) *vaultapi.Client {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = n.Addr
	cfg.MaxRetries = 0
	cfg.Timeout = clientTimeout
	vc, err := vaultapi.NewClient(cfg)
	if err != nil {
		panic(fmt.Sprintf("testcluster: client for %s: %v", n.ID, err))
	}
	vc.ClearNamespace()
	if token == "" {
		vc.ClearToken()
	} else {
		vc.SetToken(token)
	}
	return vc
}

// mark appends a line about what the harness did to the node's log, so
// that a log tail shows the server's reaction in context.
func (n *Node) mark(what string) {
	f, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "--- testcluster %s: %s\n", time.Now().Format(time.RFC3339Nano), what)
	_ = f.Close()
}

// Log returns everything the node's processes have written so far.
func (n *Node) Log() string {
	raw, err := os.ReadFile(n.LogPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("(read log: %v)", err)
	}
	return string(raw)
}

// logTail returns the last lines of the node's log.
func (n *Node) logTail() string {
	const maxLines, maxBytes = 40, 8 << 10
	s := n.Log()
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.Join(lines, "\n")
}
