package raft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// TestSnapshotSaveRestore saves a snapshot on a 3-node cluster and restores
// it into a fresh single node, which then holds exactly the cluster's keys,
// also after a restart.
func TestSnapshotSaveRestore(t *testing.T) {
	c := newCluster(t, 3, nil)
	_, leader := c.leader()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	want := writeKeys(t, leader, "secret", 40)
	if err := leader.Delete(ctx, "secret/0005"); err != nil {
		t.Fatal(err)
	}
	delete(want, "secret/0005")
	var snap bytes.Buffer
	if err := leader.SaveSnapshot(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	// A second save with nothing new in between works too.
	var again bytes.Buffer
	if err := leader.SaveSnapshot(ctx, &again); err != nil {
		t.Fatalf("second SaveSnapshot: %v", err)
	}
	// Written after the save: not in the snapshot.
	if err := leader.Put(ctx, "secret/late", []byte("x")); err != nil {
		t.Fatal(err)
	}

	logger := testLogger(t)
	opts := fastOptions(logger, t.TempDir(), "fresh")
	fresh := openNode(t, opts)
	if err := fresh.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	writeKeys(t, fresh, "secret", 60) // overlapping keys, all replaced
	if err := fresh.Put(ctx, "other", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	if err := fresh.RestoreSnapshot(ctx, bytes.NewReader(snap.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, fresh, "secret/", want)
	if all, _ := storage.List(ctx, fresh, ""); len(all) != len(want) {
		t.Errorf("after restore the store holds %d keys, want %d", len(all), len(want))
	}
	// Writes after the restore apply on top of it.
	if err := fresh.Put(ctx, "after", []byte("restore")); err != nil {
		t.Fatal(err)
	}
	want["after"] = "restore"

	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	opts.ClusterAddr = fresh.Addr()
	fresh = openNode(t, opts)
	if err := fresh.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, fresh, "secret/", filterPrefix(want, "secret/"))
	if v, err := fresh.Get(ctx, "after"); err != nil || string(v) != "restore" {
		t.Errorf("after restart Get(after) = %q, %v", v, err)
	}
}

// TestSnapshotRestoreReplicates restores into a cluster: the followers
// take the restored state too.
func TestSnapshotRestoreReplicates(t *testing.T) {
	src := single(t)
	want := writeKeys(t, src, "s", 10)
	var snap bytes.Buffer
	if err := src.SaveSnapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}

	c := newCluster(t, 3, nil)
	li, leader := c.leader()
	writeKeys(t, leader, "gone", 5)
	if err := leader.RestoreSnapshot(t.Context(), &snap, nil); err != nil {
		t.Fatal(err)
	}
	for i, b := range c.nodes {
		if i == li {
			continue
		}
		waitFor(t, b.NodeID()+" to install the restored state", func() bool {
			_, stale := localValue(b, "gone/0000")
			v, ok := localValue(b, "s/0009")
			return !stale && ok && v == want["s/0009"]
		})
	}
}

func TestSnapshotRestoreRejectsDamage(t *testing.T) {
	src := single(t)
	writeKeys(t, src, "s", 5)
	var buf bytes.Buffer
	if err := src.SaveSnapshot(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dst := single(t)
	if err := dst.Put(t.Context(), "keep", []byte("me")); err != nil {
		t.Fatal(err)
	}
	hdrLen := int(binary.BigEndian.Uint32(good[9:13]))
	stateStart := 13 + hdrLen

	// withSum recomputes the checksum so that a change reaches the later
	// checks.
	withSum := func(b []byte) []byte {
		body := b[:len(b)-sha256.Size]
		sum := sha256.Sum256(body)
		return append(bytes.Clone(body), sum[:]...)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unexpected EOF"},
		{"bad magic", append([]byte("NOTWARD!"), good[8:]...), "bad magic"},
		{"future version", append(append(bytes.Clone(good[:8]), 9), good[9:]...), "format version 9"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
		{"flipped state byte", flip(good, stateStart+100), "checksum mismatch"},
		{"flipped checksum", flip(good, len(good)-1), "checksum mismatch"},
		{"trailing data", append(bytes.Clone(good), 0), "after the checksum"},
		{"state not bbolt", withSum(fill(good, stateStart, len(good)-sha256.Size, 0x5a)), "not a state file"},
		{"state damaged", withSum(fill(good, stateStart, stateStart+4096, 0x5a)), "snapshot state is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := dst.RestoreSnapshot(t.Context(), bytes.NewReader(tc.data), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("RestoreSnapshot = %v, want an error mentioning %q", err, tc.want)
			}
			if v, err := dst.Get(t.Context(), "keep"); err != nil || string(v) != "me" {
				t.Errorf("a rejected restore changed the state: Get(keep) = %q, %v", v, err)
			}
			if _, err := dst.Get(t.Context(), "s/0000"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a rejected restore wrote snapshot keys: Get = %v", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0xff
	return out
}

func fill(b []byte, from, to int, v byte) []byte {
	out := bytes.Clone(b)
	for i := from; i < to && i < len(out); i++ {
		out[i] = v
	}
	return out
}

// TestSaveSnapshotWriterError checks that SaveSnapshot reports a failing
// writer and leaves the node working.
func TestSaveSnapshotWriterError(t *testing.T) {
	b := single(t)
	writeKeys(t, b, "s", 3)
	werr := errors.New("disk full")
	err := b.SaveSnapshot(t.Context(), failingWriter{werr})
	if !errors.Is(err, werr) {
		t.Errorf("SaveSnapshot to a failing writer = %v, want it to wrap %v", err, werr)
	}
	// The node still works.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := b.Put(ctx, "after", nil); err != nil {
		t.Error(err)
	}
	var buf bytes.Buffer
	if err := b.SaveSnapshot(ctx, &buf); err != nil || buf.Len() == 0 {
		t.Errorf("SaveSnapshot after a failed one = %v (%d bytes)", err, buf.Len())
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

var _ io.Writer = failingWriter{}
