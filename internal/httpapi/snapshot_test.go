package httpapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/httpapi"
	"github.com/wardsec/ward/internal/storage/raft"
	"github.com/wardsec/ward/internal/sys"
)

// The snapshot endpoints on a server without raft storage: the pipeline's
// checks run first, the body is never parsed as JSON, and errors are the
// usual JSON error bodies. Streaming on raft is tested end to end in
// cmd/ward (ha_ops_test.go).
func TestSnapshotEndpointsWithoutRaft(t *testing.T) {
	srv := newServer(t, httpapi.Options{MaxRequestSize: 16})
	garbage := "\x00\x01not json and longer than the request size limit"
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		contains                 string
	}{
		{"save without a token", "GET", "/v1/sys/storage/raft/snapshot", "", []string{"X-Vault-Token", ""}, 403, "permission denied"},
		{"restore with a bad token", "POST", "/v1/sys/storage/raft/snapshot", garbage, []string{"X-Vault-Token", "hvs.nope"}, 403, "permission denied"},
		{"force with a bad token", "PUT", "/v1/sys/storage/raft/snapshot-force", garbage, []string{"X-Vault-Token", "hvs.nope"}, 403, "permission denied"},
		{"save", "GET", "/v1/sys/storage/raft/snapshot", "", nil, 400, "storage is not raft"},
		{"restore takes a raw body of any size", "POST", "/v1/sys/storage/raft/snapshot", garbage, nil, 400, "storage is not raft"},
		{"force restore", "POST", "/v1/sys/storage/raft/snapshot-force", garbage, nil, 400, "storage is not raft"},
		{"bearer token", "GET", "/v1/sys/storage/raft/snapshot", "", []string{"X-Vault-Token", "", "Authorization", "Bearer root"}, 400, "storage is not raft"},
		{"delete", "DELETE", "/v1/sys/storage/raft/snapshot", "", nil, 405, "unsupported method"},
		{"force is write-only", "GET", "/v1/sys/storage/raft/snapshot-force", "", nil, 405, "unsupported method"},
		{"repeated slashes collapse", "GET", "/v1/sys/storage/raft//snapshot", "", []string{"X-Vault-Token", ""}, 403, "permission denied"},
	} {
		r := do(t, srv, tc.method, tc.path, tc.body, tc.headers...)
		if r.status != tc.status || !strings.Contains(r.body, tc.contains) {
			t.Errorf("%s: %d %s, want %d containing %q", tc.name, r.status, r.body, tc.status, tc.contains)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q, want application/json for an error", tc.name, ct)
		}
	}
}

// raftServer runs the API over a one-node raft cluster, initialized and
// unsealed; it returns the server and the root token.
func raftServer(t *testing.T, opts httpapi.Options) (*httptest.Server, string) {
	t.Helper()
	b, err := raft.Open(context.Background(), raft.Options{
		Dir: t.TempDir(), NodeID: "solo", ClusterAddr: "127.0.0.1:0",
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.New(core.Options{
		Physical: b,
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Seal(); b.Close() })
	ctx := context.Background()
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Unseal(ctx, init.KeysBase64[0]); err != nil || st.Sealed {
		t.Fatalf("unseal: %+v, %v", st, err)
	}
	srv := httptest.NewServer(httpapi.New(c, opts))
	t.Cleanup(srv.Close)
	return srv, init.RootToken
}

// On raft, a snapshot streams out as octet-stream, and a restore's body is
// not bounded by the request size limit (it is far larger than 64 bytes).
func TestSnapshotRoundTripOnRaft(t *testing.T) {
	srv, root := raftServer(t, httpapi.Options{MaxRequestSize: 64})
	tok := []string{"X-Vault-Token", root}
	if r := do(t, srv, "POST", "/v1/sys/mounts/kv", `{"type":"kv"}`, tok...); r.status != 204 {
		t.Fatalf("mount: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", "/v1/kv/a", `{"v":"before"}`, tok...); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	snap := do(t, srv, "GET", "/v1/sys/storage/raft/snapshot", "", tok...)
	if snap.status != 200 || snap.header.Get("Content-Type") != "application/octet-stream" || len(snap.body) < 1024 {
		t.Fatalf("save: %d %q, %d bytes", snap.status, snap.header.Get("Content-Type"), len(snap.body))
	}
	if strings.Contains(snap.body, "before") {
		t.Error("the snapshot holds a secret value in plaintext")
	}
	if r := do(t, srv, "PUT", "/v1/kv/a", `{"v":"after"}`, tok...); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "POST", "/v1/sys/storage/raft/snapshot", snap.body, tok...); r.status != 204 {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", "/v1/kv/a", "", tok...); r.status != 200 || !strings.Contains(r.body, `"v":"before"`) {
		t.Errorf("after restore: %d %s, want the value from before the snapshot", r.status, r.body)
	}
	// A damaged snapshot changes nothing.
	damaged := snap.body[:len(snap.body)-1] + "x"
	if r := do(t, srv, "POST", "/v1/sys/storage/raft/snapshot", damaged, tok...); r.status < 400 {
		t.Errorf("restore of a damaged snapshot: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", "/v1/kv/a", "", tok...); r.status != 200 || !strings.Contains(r.body, `"v":"before"`) {
		t.Errorf("after a refused restore: %d %s", r.status, r.body)
	}
}
