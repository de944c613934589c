package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fast timeouts keep tests quick; they are still several times the
// loopback round trip, also under -race on two cores.
const (
	fastHeartbeat = 250 * time.Millisecond
	waitLimit     = 10 * time.Second
)

// testWriter forwards log output to the test until the test ends, so a
// raft goroutine that logs late cannot panic the test binary.
type testWriter struct {
	mu   sync.Mutex
	out  io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.out.Write(p)
}

// testLogger logs warnings and errors to the test output. Register it
// before the nodes so its cleanup runs after theirs.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{out: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func fastOptions(logger *slog.Logger, dir, id string) Options {
	return Options{
		Dir:              dir,
		NodeID:           id,
		ClusterAddr:      "127.0.0.1:0",
		Logger:           logger,
		HeartbeatTimeout: fastHeartbeat,
		ElectionTimeout:  fastHeartbeat,
		CommitTimeout:    5 * time.Millisecond,
	}
}

// openNode opens a node and closes it when the test ends.
func openNode(t testing.TB, opts Options) *Backend {
	t.Helper()
	b, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", opts.NodeID, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close(%s): %v", opts.NodeID, err)
		}
	})
	return b
}

// single opens and bootstraps a one-node cluster. With no peers to time
// out on, it can elect itself after a very short heartbeat timeout.
func single(t testing.TB) *Backend {
	t.Helper()
	opts := fastOptions(testLogger(t), t.TempDir(), "solo")
	opts.HeartbeatTimeout, opts.ElectionTimeout = 20*time.Millisecond, 20*time.Millisecond
	b := openNode(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := b.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return b
}

// cluster is n in-process nodes on loopback.
type cluster struct {
	t      testing.TB
	logger *slog.Logger
	opts   []Options // as last opened; ClusterAddr holds the real port
	nodes  []*Backend
}

// newCluster bootstraps node 0 and adds the others as voters. tune, if
// not nil, adjusts each node's options.
func newCluster(t testing.TB, n int, tune func(*Options)) *cluster {
	t.Helper()
	c := &cluster{t: t, logger: testLogger(t)}
	for i := range n {
		o := fastOptions(c.logger, t.TempDir(), fmt.Sprintf("node%d", i))
		if tune != nil {
			tune(&o)
		}
		b := openNode(t, o)
		o.ClusterAddr = b.Addr()
		c.opts = append(c.opts, o)
		c.nodes = append(c.nodes, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.nodes[0].Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	for i := 1; i < n; i++ {
		if err := c.nodes[0].AddVoter(ctx, c.opts[i].NodeID, c.opts[i].ClusterAddr); err != nil {
			t.Fatalf("AddVoter(%s): %v", c.opts[i].NodeID, err)
		}
	}
	return c
}

// leader waits until exactly one open node is the ready leader.
func (c *cluster) leader() (int, *Backend) {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		found := -1
		for i, b := range c.nodes {
			if b == nil || !b.IsLeader() {
				continue
			}
			if found >= 0 {
				found = -2
				break
			}
			found = i
		}
		if found >= 0 {
			return found, c.nodes[found]
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no single leader within %s", waitLimit)
	return -1, nil
}

// stop closes node i as a crash would look to its peers.
func (c *cluster) stop(i int) {
	c.t.Helper()
	if err := c.nodes[i].Close(); err != nil {
		c.t.Fatalf("Close(node%d): %v", i, err)
	}
	c.nodes[i] = nil
}

// restart reopens node i from its directory at its old address.
func (c *cluster) restart(i int) *Backend {
	c.t.Helper()
	b := openNode(c.t, c.opts[i])
	c.nodes[i] = b
	return b
}

// waitFor polls cond until it holds or the wait limit passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// localValue reads key from a node's FSM directly, bypassing the leader
// check, to see what a follower holds.
func localValue(b *Backend, key string) (string, bool) {
	v, ok, err := b.fsm.get(key)
	if err != nil {
		return "", false
	}
	return string(v), ok
}

func isNotLeader(err error) bool { return errors.Is(err, ErrNotLeader) }
