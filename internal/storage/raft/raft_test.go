package raft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		return single(t)
	})
}

func TestOpenValidatesOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no dir", Options{NodeID: "a", ClusterAddr: "127.0.0.1:0"}, "path is empty"},
		{"no id", Options{Dir: dir, ClusterAddr: "127.0.0.1:0"}, "node_id is empty"},
		{"no addr", Options{Dir: dir, NodeID: "a"}, "cluster_addr is empty"},
		{"wildcard addr", Options{Dir: dir, NodeID: "a", ClusterAddr: "0.0.0.0:8201"}, "not an address peers can dial"},
		{"no port", Options{Dir: dir, NodeID: "a", ClusterAddr: "127.0.0.1"}, "missing port"},
		{"lease over heartbeat", Options{Dir: dir, NodeID: "a", ClusterAddr: "127.0.0.1:0",
			HeartbeatTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: time.Second}, "LeaderLeaseTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Open(t.Context(), tc.opts)
			if err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "raft: open") {
				t.Errorf("Open error = %q, want one starting \"raft: open\" that mentions %q", err, tc.want)
			}
		})
	}
}

func TestOpenTwiceFailsOnLock(t *testing.T) {
	logger := testLogger(t)
	dir := t.TempDir()
	openNode(t, fastOptions(logger, dir, "a"))
	b, err := Open(t.Context(), fastOptions(logger, dir, "a"))
	if err == nil {
		b.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
	if !strings.Contains(err.Error(), "another ward server") {
		t.Errorf("second Open error = %v, want it to say another server holds the path", err)
	}
}

func TestUnbootstrappedNodeIsNotLeader(t *testing.T) {
	b := openNode(t, fastOptions(testLogger(t), t.TempDir(), "lonely"))
	time.Sleep(3 * fastHeartbeat) // long enough to have elected itself, were it to
	if b.IsLeader() {
		t.Fatal("a node without raft state made itself leader")
	}
	ctx := t.Context()
	if err := b.Put(ctx, "k", []byte("v")); !isNotLeader(err) {
		t.Errorf("Put on an unbootstrapped node = %v, want ErrNotLeader", err)
	}
	if _, err := b.Get(ctx, "k"); !isNotLeader(err) {
		t.Errorf("Get on an unbootstrapped node = %v, want ErrNotLeader", err)
	}
}

func TestBootstrapTwice(t *testing.T) {
	b := single(t)
	if err := b.Bootstrap(t.Context()); !errors.Is(err, ErrBootstrapped) {
		t.Errorf("second Bootstrap = %v, want ErrBootstrapped", err)
	}
}

func TestLeaderCh(t *testing.T) {
	b := openNode(t, fastOptions(testLogger(t), t.TempDir(), "n"))
	ch := b.LeaderCh()
	if v := <-ch; v {
		t.Fatal("LeaderCh first gave true before Bootstrap")
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	if err := b.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-ch:
		if !v {
			t.Fatal("LeaderCh gave false after Bootstrap")
		}
	case <-ctx.Done():
		t.Fatal("LeaderCh gave nothing after Bootstrap")
	}
	if v := <-b.LeaderCh(); !v {
		t.Error("a new LeaderCh subscriber did not first get the current state (true)")
	}
	if id, addr := b.Leader(); id != "n" || addr != b.Addr() {
		t.Errorf("Leader() = %q, %q; want %q, %q", id, addr, "n", b.Addr())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for v := range ch { // drains a final false, then ends when closed
		if v {
			t.Error("LeaderCh gave true after Close")
		}
	}
}

func TestBatch(t *testing.T) {
	b := single(t)
	ctx := t.Context()
	if err := b.Put(ctx, "gone", []byte("x")); err != nil {
		t.Fatal(err)
	}
	err := b.Batch(ctx, []Op{
		{Key: "a", Value: []byte("1")},
		{Key: "b/c", Value: []byte("2")},
		{Key: "gone", Delete: true},
		{Key: "a", Value: []byte("3")}, // later ops win
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := storage.List(ctx, b, "")
	if err != nil || !slices.Equal(got, []string{"a", "b/c"}) {
		t.Errorf("after Batch the store holds %q (%v), want [a b/c]", got, err)
	}
	if v, _ := b.Get(ctx, "a"); string(v) != "3" {
		t.Errorf("Get(a) = %q, want the batch's last put %q", v, "3")
	}
	// An invalid op rejects the whole batch before anything is written.
	err = b.Batch(ctx, []Op{{Key: "ok", Value: []byte("v")}, {Key: "bad/", Value: []byte("v")}})
	if err == nil || !strings.Contains(err.Error(), "op 1") {
		t.Errorf("Batch with an invalid key = %v, want an error naming op 1", err)
	}
	if _, err := b.Get(ctx, "ok"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a rejected batch wrote its valid op: Get(ok) error = %v", err)
	}
	if err := b.Batch(ctx, nil); err != nil {
		t.Errorf("empty Batch = %v, want nil", err)
	}
}

func TestClosedBackend(t *testing.T) {
	b := single(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	ctx := t.Context()
	if err := b.Put(ctx, "k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Configuration(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Configuration after Close = %v, want ErrClosed", err)
	}
}

// TestRestartKeepsData writes, closes, damages the state file in various
// ways, reopens: every acknowledged write is there.
func TestRestartKeepsData(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reused bool // whether the state file should be kept
		tamper func(t *testing.T, path string)
	}{
		{"clean", true, nil},
		// A crash leaves no clean marker: the file is rebuilt from raft.
		{"crash", false, func(t *testing.T, path string) { setClean(t, path, false) }},
		// A torn or garbage file is rebuilt too.
		{"garbage", false, func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("not a bbolt file at all, just junk"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		// A state file that claims to be ahead of the log is not trusted.
		{"ahead of log", false, func(t *testing.T, path string) { setApplied(t, path, 1<<40) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logger := testLogger(t)
			dir := t.TempDir()
			// A low threshold makes a snapshot part of the rebuild.
			opts := fastOptions(logger, dir, "n")
			opts.SnapshotThreshold, opts.TrailingLogs, opts.SnapshotInterval = 20, 5, 20*time.Millisecond
			b, err := Open(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
			defer cancel()
			if err := b.Bootstrap(ctx); err != nil {
				t.Fatal(err)
			}
			want := writeKeys(t, b, "k", 60)
			if err := b.Delete(ctx, "k/0007"); err != nil {
				t.Fatal(err)
			}
			delete(want, "k/0007")
			time.Sleep(100 * time.Millisecond) // let a snapshot happen
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(t, filepath.Join(dir, fsmFile))
			}
			opts.ClusterAddr = b.Addr()
			b = openNode(t, opts)
			if b.reusedState != tc.reused {
				t.Errorf("reopen kept the state file: %v, want %v", b.reusedState, tc.reused)
			}
			if err := b.WaitLeader(ctx); err != nil {
				t.Fatal(err)
			}
			checkKeys(t, b, "k/", want)
			if snaps, _ := b.snaps.List(); len(snaps) == 0 {
				t.Error("no snapshot was taken; the rebuild did not exercise a snapshot restore")
			}
		})
	}
}

func setClean(t *testing.T, path string, clean bool) {
	t.Helper()
	updateMeta(t, path, func(m *bbolt.Bucket) error {
		if clean {
			return m.Put(cleanKey, []byte{1})
		}
		return m.Delete(cleanKey)
	})
}

func setApplied(t *testing.T, path string, index uint64) {
	t.Helper()
	updateMeta(t, path, func(m *bbolt.Bucket) error {
		return m.Put(appliedKey, binary.BigEndian.AppendUint64(nil, index))
	})
}

func updateMeta(t *testing.T, path string, fn func(*bbolt.Bucket) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { return fn(tx.Bucket(metaBucket)) }); err != nil {
		t.Fatal(err)
	}
}

// writeKeys puts n keys under prefix and returns key → value.
func writeKeys(t testing.TB, b *Backend, prefix string, n int) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := range n {
		k, v := fmt.Sprintf("%s/%04d", prefix, i), fmt.Sprintf("value %d of %s", i, prefix)
		if err := b.Put(context.Background(), k, []byte(v)); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
		want[k] = v
	}
	return want
}

// checkKeys checks that the keys below prefix are exactly want.
func checkKeys(t testing.TB, b *Backend, prefix string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	keys, err := storage.List(ctx, b, prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(keys) != len(want) {
		t.Errorf("%d keys under %q, want %d", len(keys), prefix, len(want))
	}
	for k, v := range want {
		got, err := b.Get(ctx, k)
		if err != nil || string(got) != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, err, v)
		}
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		b := single(t)
		if err := b.Put(t.Context(), "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(t.Context(), "k"); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
