package sys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/sys"
)

// fakeRaft is a sys.Core whose raft methods are scripted; any other
// method panics (the embedded interface is nil).
type fakeRaft struct {
	sys.Core
	peers     []storage.Peer
	cfgErr    error
	removed   []string
	stepDowns int
}

func (f *fakeRaft) RaftConfiguration(context.Context) ([]storage.Peer, error) {
	return f.peers, f.cfgErr
}

func (f *fakeRaft) RaftRemovePeer(_ context.Context, id string) error {
	f.removed = append(f.removed, id)
	return nil
}

func (f *fakeRaft) StepDown(context.Context) error {
	f.stepDowns++
	return nil
}

var three = []storage.Peer{
	{NodeID: "a", Address: "10.0.0.1:8201", Leader: true, Voter: true},
	{NodeID: "b", Address: "10.0.0.2:8201", Voter: true},
	{NodeID: "c", Address: "10.0.0.3:8201", Voter: false},
}

func handle(t *testing.T, b engine.Backend, op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	t.Helper()
	return b.Handle(context.Background(), &engine.Request{Operation: op, Path: path, Data: data})
}

func TestRaftConfigurationShape(t *testing.T) {
	f := &fakeRaft{peers: three}
	resp, err := handle(t, sys.New(f), engine.OpRead, "storage/raft/configuration", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := resp.Data["config"].(map[string]any)
	servers := cfg["servers"].([]any)
	if cfg["index"] != 0 || len(servers) != 3 {
		t.Fatalf("config = %v", cfg)
	}
	first := servers[0].(map[string]any)
	want := map[string]any{"node_id": "a", "address": "10.0.0.1:8201", "leader": true, "voter": true, "protocol_version": "3"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("servers[0][%s] = %v, want %v", k, first[k], v)
		}
	}
	if len(first) != len(want) {
		t.Errorf("servers[0] has fields %v, want exactly %v", first, want)
	}
	if servers[2].(map[string]any)["voter"] != false {
		t.Errorf("a non-voter shows as %v", servers[2])
	}
}

func TestRaftRemovePeer(t *testing.T) {
	f := &fakeRaft{peers: three}
	b := sys.New(f)
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"missing server_id", nil, "server_id"},
		{"unknown member", map[string]any{"server_id": "zz"}, `"zz"`},
		{"wrong type", map[string]any{"server_id": 7}, "server_id"},
	} {
		_, err := handle(t, b, engine.OpUpdate, "storage/raft/remove-peer", tc.data)
		if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a 400 naming %s", tc.name, err, tc.want)
		}
	}
	if len(f.removed) != 0 {
		t.Fatalf("bad requests removed %v", f.removed)
	}
	resp, err := handle(t, b, engine.OpUpdate, "storage/raft/remove-peer", map[string]any{"server_id": "b", "dr_operation_token": ""})
	if err != nil || resp != nil || len(f.removed) != 1 || f.removed[0] != "b" {
		t.Errorf("remove b: %v, %v; removed %v", resp, err, f.removed)
	}
}

func TestStepDown(t *testing.T) {
	b := sys.New(&fakeRaft{}).(engine.SpecialPaths)
	if sudo, _ := b.Special("step-down", engine.OpUpdate); !sudo {
		t.Error("step-down is not root-protected")
	}
	for _, p := range []string{"storage/raft/configuration", "storage/raft/remove-peer"} {
		if sudo, unauth := b.Special(p, engine.OpUpdate); sudo || unauth {
			t.Errorf("%s: sudo %t, unauthenticated %t; want neither, as in Vault", p, sudo, unauth)
		}
	}

	f := &fakeRaft{peers: three}
	if _, err := handle(t, sys.New(f), engine.OpUpdate, "step-down", nil); err != nil || f.stepDowns != 1 {
		t.Errorf("step-down: %v, %d calls", err, f.stepDowns)
	}
}
