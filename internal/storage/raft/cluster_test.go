package raft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestFollowerRefusesRequests(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, leader := c.leader()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	if err := leader.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for i, f := range c.nodes {
		if i == li {
			continue
		}
		waitFor(t, "the write to reach "+f.NodeID(), func() bool {
			v, ok := localValue(f, "k")
			return ok && v == "v"
		})
		if id, addr := f.Leader(); id != leader.NodeID() || addr != leader.Addr() {
			t.Errorf("%s: Leader() = %q, %q; want %q, %q", f.NodeID(), id, addr, leader.NodeID(), leader.Addr())
		}
		if f.IsLeader() {
			t.Errorf("%s: IsLeader() = true on a follower", f.NodeID())
		}
		_, getErr := f.Get(ctx, "k")
		_, listErr := f.List(ctx, "")
		for name, err := range map[string]error{
			"Put":             f.Put(ctx, "k", []byte("other")),
			"Delete":          f.Delete(ctx, "k"),
			"Batch":           f.Batch(ctx, []Op{{Key: "k", Delete: true}}),
			"Get":             getErr,
			"List":            listErr,
			"AddVoter":        f.AddVoter(ctx, "x", "127.0.0.1:1"),
			"RemovePeer":      f.RemovePeer(ctx, leader.NodeID()),
			"StepDown":        f.StepDown(ctx),
			"SaveSnapshot":    f.SaveSnapshot(ctx, &bytes.Buffer{}),
			"RestoreSnapshot": f.RestoreSnapshot(ctx, bytes.NewReader(nil), nil),
		} {
			if !isNotLeader(err) {
				t.Errorf("%s on follower %s = %v, want ErrNotLeader", name, f.NodeID(), err)
			}
		}
	}
	if v, err := leader.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("after refused follower writes the leader reads %q, %v; want %q", v, err, "v")
	}
}

func TestConfiguration(t *testing.T) {
	c := newCluster(t, 3, nil)
	_, leader := c.leader()
	for _, b := range c.nodes {
		waitFor(t, b.NodeID()+" to know all members", func() bool {
			servers, err := b.Configuration(t.Context())
			return err == nil && len(servers) == 3
		})
		servers, _ := b.Configuration(t.Context())
		for i, s := range servers {
			want := Server{NodeID: c.opts[i].NodeID, Address: c.opts[i].ClusterAddr, Voter: true,
				Leader: c.opts[i].NodeID == leader.NodeID()}
			if s != want {
				t.Errorf("%s: server %d = %+v, want %+v", b.NodeID(), i, s, want)
			}
		}
	}
}

// TestFailover writes continuously while the leader is stopped, with the
// default timeouts: a new leader takes over within 3 s and every
// acknowledged write is readable from it.
func TestFailover(t *testing.T) {
	c := newCluster(t, 3, func(o *Options) {
		o.HeartbeatTimeout, o.ElectionTimeout, o.CommitTimeout = 0, 0, 0 // the defaults
	})
	oldIndex, _ := c.leader()
	nodes := append([]*Backend(nil), c.nodes...) // the writer's view; closed nodes answer ErrClosed

	var (
		mu      sync.Mutex
		acked   = map[string]string{} // acknowledged writes
		written int                   // writes attempted
		ackAt   []time.Time
		stop    = make(chan struct{})
		writer  sync.WaitGroup
	)
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k, v := fmt.Sprintf("fo/%05d", i), fmt.Sprintf("v%d", i)
			mu.Lock()
			written = i + 1
			mu.Unlock()
			for _, b := range nodes {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := b.Put(ctx, k, []byte(v))
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = v
					ackAt = append(ackAt, time.Now())
					mu.Unlock()
					break
				}
			}
			time.Sleep(time.Millisecond) // a steady load, not a flood
		}
	})
	acks := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor(t, "50 writes before the failover", func() bool { return acks() >= 50 })

	stopped := time.Now()
	c.stop(oldIndex)
	before := acks()
	waitFor(t, "50 writes after the failover", func() bool { return acks() >= before+50 })
	close(stop)
	writer.Wait()

	_, leader := c.leader()
	mu.Lock()
	var resumed time.Duration
	for _, at := range ackAt {
		if at.After(stopped) {
			resumed = at.Sub(stopped)
			break
		}
	}
	mu.Unlock()
	t.Logf("writes resumed %s after the leader stopped; %d of %d writes acknowledged", resumed.Round(time.Millisecond), len(acked), written)
	if resumed > 3*time.Second {
		t.Errorf("writes resumed %s after the leader stopped, want under 3s", resumed)
	}
	ctx := t.Context()
	for k, v := range acked {
		if got, err := leader.Get(ctx, k); err != nil || string(got) != v {
			t.Errorf("acknowledged write lost: Get(%q) = %q, %v; want %q", k, got, err, v)
		}
	}
	// A write that failed may still have been applied (its outcome was
	// unknown), but nothing else may appear.
	keys, err := leader.List(ctx, "fo/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		var i int
		if _, err := fmt.Sscanf(k, "%05d", &i); err != nil || i >= written {
			t.Errorf("unexpected key fo/%s", k)
		}
	}
}

// TestDeposedLeaderRefuses stops both followers: the leader must stop
// serving reads and writes, not answer from state that may be stale.
func TestDeposedLeaderRefuses(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, leader := c.leader()
	if err := leader.Put(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for i := range c.nodes {
		if i != li {
			c.stop(i)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	start := time.Now()
	if v, err := leader.Get(ctx, "k"); !isNotLeader(err) {
		t.Errorf("Get on a leader without a quorum = %q, %v; want ErrNotLeader", v, err)
	}
	t.Logf("the read failed after %s", time.Since(start).Round(time.Millisecond))
	if err := leader.Put(ctx, "k2", []byte("v")); !isNotLeader(err) {
		t.Errorf("Put on a leader without a quorum = %v, want ErrNotLeader or ErrLeadershipLost", err)
	}
}

func TestRemovePeer(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, leader := c.leader()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	if err := leader.RemovePeer(ctx, "nobody"); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("RemovePeer(nobody) = %v, want ErrUnknownPeer", err)
	}
	victim := (li + 1) % 3
	removed := c.nodes[victim]
	if err := leader.RemovePeer(ctx, removed.NodeID()); err != nil {
		t.Fatal(err)
	}
	servers, err := leader.Configuration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 {
		t.Fatalf("after RemovePeer the configuration is %+v, want 2 servers", servers)
	}
	for _, s := range servers {
		if s.NodeID == removed.NodeID() {
			t.Errorf("removed node %s is still in the configuration", s.NodeID)
		}
	}
	// The two left still form a quorum and accept writes.
	if err := leader.Put(ctx, "after", []byte("removal")); err != nil {
		t.Errorf("Put after RemovePeer: %v", err)
	}
	waitFor(t, "the removed node to refuse writes", func() bool {
		return isNotLeader(removed.Put(ctx, "x", nil))
	})
	if _, ok := localValue(removed, "after"); ok {
		t.Error("the removed node received a write made after its removal")
	}
}

func TestStepDown(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, leader := c.leader()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	if err := leader.StepDown(ctx); err != nil {
		t.Fatal(err)
	}
	ni, next := c.leader()
	if ni == li {
		t.Fatalf("%s is still the leader after StepDown", leader.NodeID())
	}
	if err := next.Put(ctx, "k", []byte("v")); err != nil {
		t.Errorf("Put on the new leader: %v", err)
	}
}

// TestRestartCatchesUp stops a follower, writes enough for the leader to
// snapshot and trim its log, and restarts the follower after a simulated
// crash (its state file unclean): it catches up through a snapshot.
func TestRestartCatchesUp(t *testing.T) {
	c := newCluster(t, 3, func(o *Options) {
		o.SnapshotThreshold, o.TrailingLogs, o.SnapshotInterval = 50, 10, 20*time.Millisecond
	})
	li, leader := c.leader()
	want := writeKeys(t, leader, "before", 20)
	fi := (li + 1) % 3
	follower := c.nodes[fi]
	waitFor(t, "the follower to apply the first writes", func() bool {
		_, ok := localValue(follower, "before/0019")
		return ok
	})
	c.stop(fi)
	setClean(t, filepath.Join(c.opts[fi].Dir, fsmFile), false)

	for k, v := range writeKeys(t, leader, "during", 200) {
		want[k] = v
	}
	if err := leader.Delete(t.Context(), "before/0003"); err != nil {
		t.Fatal(err)
	}
	delete(want, "before/0003")
	waitFor(t, "the leader to trim its log past the follower", func() bool {
		first, err := leader.logs.FirstIndex()
		return err == nil && first > 100
	})

	follower = c.restart(fi)
	if follower.reusedState {
		t.Error("the restarted follower kept a state file that was not closed cleanly")
	}
	waitFor(t, "the restarted follower to catch up", func() bool {
		for k, v := range want {
			if got, ok := localValue(follower, k); !ok || got != v {
				return false
			}
		}
		_, deleted := localValue(follower, "before/0003")
		return !deleted
	})
	// It serves everything once it leads.
	c.stop(li)
	_, next := c.leader()
	checkKeys(t, next, "during/", filterPrefix(want, "during/"))
	checkKeys(t, next, "before/", filterPrefix(want, "before/"))
}

func filterPrefix(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out[k] = v
		}
	}
	return out
}
