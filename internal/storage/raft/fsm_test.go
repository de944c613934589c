package raft

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	hraft "github.com/hashicorp/raft"
)

func openTestFSM(t *testing.T) *fsm {
	t.Helper()
	f, _, err := openFSM(filepath.Join(t.TempDir(), fsmFile), slog.New(slog.DiscardHandler), func(uint64) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.close() })
	return f
}

func command(index uint64, ops ...Op) *hraft.Log {
	return &hraft.Log{Index: index, Term: 1, Type: hraft.LogCommand, Data: encodeOps(ops)}
}

func put(k, v string) Op { return Op{Key: k, Value: []byte(v)} }

func fsmValue(t *testing.T, f *fsm, key string) string {
	t.Helper()
	v, ok, err := f.get(key)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "<missing>"
	}
	return string(v)
}

// TestFSMSkipsAppliedEntries replays entries the state already holds, as a
// restart does: they are not applied again.
func TestFSMSkipsAppliedEntries(t *testing.T) {
	f := openTestFSM(t)
	if resp := f.Apply(command(5, put("k", "v5"))); resp != nil {
		t.Fatalf("Apply = %v", resp)
	}
	f.Apply(command(5, put("k", "replayed")))
	f.Apply(command(3, put("k", "older"), put("other", "older")))
	if got := fsmValue(t, f, "k"); got != "v5" {
		t.Errorf("after replaying entries <= 5, k = %q, want %q", got, "v5")
	}
	if got := fsmValue(t, f, "other"); got != "<missing>" {
		t.Errorf("a replayed older entry wrote other = %q", got)
	}
	f.Apply(command(6, put("k", "v6")))
	if got := fsmValue(t, f, "k"); got != "v6" {
		t.Errorf("entry 6 not applied: k = %q", got)
	}
	if applied, _ := readMeta(f.db); applied != 6 {
		t.Errorf("applied index = %d, want 6", applied)
	}
}

func TestFSMApplyBatch(t *testing.T) {
	f := openTestFSM(t)
	logs := []*hraft.Log{
		command(1, put("a", "1")),
		{Index: 2, Type: hraft.LogConfiguration, Data: []byte("not a command")},
		{Index: 3, Type: hraft.LogCommand, Data: []byte("garbage")},
		command(4, put("b", "2"), Op{Key: "a", Delete: true}),
	}
	resp := f.ApplyBatch(logs)
	if len(resp) != len(logs) {
		t.Fatalf("%d responses for %d logs", len(resp), len(logs))
	}
	for i, want := range []bool{false, false, true, false} {
		err, _ := resp[i].(error)
		if (err != nil) != want || (want && !errors.Is(err, errBadCommand)) {
			t.Errorf("response %d = %v, want error: %v", i, resp[i], want)
		}
	}
	if got := fsmValue(t, f, "a"); got != "<missing>" {
		t.Errorf("a = %q, want deleted", got)
	}
	if got := fsmValue(t, f, "b"); got != "2" {
		t.Errorf("b = %q, want 2", got)
	}
	// The malformed entry counts as applied: a replay does not retry it.
	if applied, _ := readMeta(f.db); applied != 4 {
		t.Errorf("applied index = %d, want 4", applied)
	}
}

type bufferSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *bufferSink) ID() string    { return "test" }
func (s *bufferSink) Cancel() error { s.cancelled = true; return nil }
func (s *bufferSink) Close() error  { return nil }

func TestFSMSnapshotRestore(t *testing.T) {
	src := openTestFSM(t)
	src.Apply(command(10, put("x/1", "one"), put("x/2", "two")))
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Writes after Snapshot are not in it.
	src.Apply(command(11, put("x/3", "three")))
	var sink bufferSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()

	dst := openTestFSM(t)
	dst.Apply(command(50, put("old", "gone")))
	if err := dst.Restore(readCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	got, err := dst.list("x/")
	if err != nil || len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("after Restore list(x/) = %q, %v; want [1 2]", got, err)
	}
	if v := fsmValue(t, dst, "old"); v != "<missing>" {
		t.Errorf("Restore kept old state: old = %q", v)
	}
	// The snapshot's index (10) came from elsewhere: it is reset so entry
	// 2 of this cluster still applies.
	dst.Apply(command(2, put("after", "restore")))
	if v := fsmValue(t, dst, "after"); v != "restore" {
		t.Errorf("entry after Restore not applied: after = %q", v)
	}

	// A stream that is not a state file changes nothing.
	if err := dst.Restore(readCloser(bytes.NewReader([]byte("junk")))); err == nil {
		t.Error("Restore of junk succeeded")
	}
	if v := fsmValue(t, dst, "x/1"); v != "one" {
		t.Errorf("a failed Restore changed the state: x/1 = %q", v)
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func readCloser(r *bytes.Reader) nopCloser { return nopCloser{r} }
