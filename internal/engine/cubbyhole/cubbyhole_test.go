package cubbyhole

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

type harness struct {
	t     *testing.T
	b     engine.Backend
	store *inmem.Backend
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	store := inmem.New()
	b, err := Factory(context.Background(), engine.Env{MountPath: "cubbyhole/", Type: "cubbyhole", Storage: store})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, b: b, store: store}
}

func (h *harness) do(token string, op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	req := &engine.Request{Operation: op, Path: path, MountPath: "cubbyhole/", Data: data}
	if token != "" {
		req.Caller = &engine.Caller{TokenID: token}
	}
	return h.b.Handle(context.Background(), req)
}

func (h *harness) ok(token string, op engine.Operation, path string, data map[string]any) *engine.Response {
	h.t.Helper()
	resp, err := h.do(token, op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s %s: %v", token, op, path, err)
	}
	return resp
}

func (h *harness) keys(token, path string) []string {
	h.t.Helper()
	resp := h.ok(token, engine.OpList, path, nil)
	if resp == nil {
		return nil
	}
	return resp.Data["keys"].([]string)
}

func TestReadWriteDeleteList(t *testing.T) {
	h := newHarness(t)
	if resp := h.ok("t1", engine.OpCreate, "response", map[string]any{"response": `{"a":1}`, "ttl": "1h"}); resp != nil {
		t.Fatalf("write answered %+v, want nil (204)", resp)
	}
	h.ok("t1", engine.OpCreate, "dir/x", map[string]any{"k": "v"})
	resp := h.ok("t1", engine.OpRead, "response", nil)
	if resp == nil || resp.Data["response"] != `{"a":1}` || resp.Data["ttl"] != "1h" {
		t.Fatalf("read = %+v", resp)
	}
	if resp.LeaseDuration != 0 || resp.LeaseID != "" {
		t.Fatalf("cubbyhole read carries a lease hint: %+v", resp)
	}
	if got := h.keys("t1", ""); !slices.Equal(got, []string{"dir/", "response"}) {
		t.Fatalf("list = %v", got)
	}
	if got := h.keys("t1", "dir/"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("list dir/ = %v", got)
	}
	h.ok("t1", engine.OpDelete, "response", nil)
	if resp := h.ok("t1", engine.OpRead, "response", nil); resp != nil {
		t.Fatalf("read after delete = %+v", resp)
	}
	if resp := h.ok("t1", engine.OpRead, "", nil); resp != nil {
		t.Fatalf("read of the root = %+v", resp)
	}

	for _, tt := range []struct {
		op   engine.Operation
		path string
		data map[string]any
		msg  string
	}{
		{engine.OpUpdate, "k", nil, "missing data fields"},
		{engine.OpUpdate, "k", map[string]any{}, "missing data fields"},
		{engine.OpUpdate, "", map[string]any{"a": 1}, "invalid path"},
		{engine.OpUpdate, "a//b", map[string]any{"a": 1}, "invalid path"},
		{engine.OpUpdate, "../t2/k", map[string]any{"a": 1}, "parent references"},
		{engine.OpRead, "a/../../t2/k", nil, "parent references"},
		{engine.OpDelete, "a/", nil, "invalid path"},
		{engine.OpList, "dir", nil, "invalid path"},
		{engine.OpList, "../", nil, "parent references"},
	} {
		_, err := h.do("t1", tt.op, tt.path, tt.data)
		if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s %q: err = %v, want 400 containing %q", tt.op, tt.path, err, tt.msg)
		}
	}
}

func TestIsolationBetweenTokens(t *testing.T) {
	h := newHarness(t)
	h.ok("t1", engine.OpCreate, "secret", map[string]any{"owner": "t1"})
	h.ok("t2", engine.OpCreate, "secret", map[string]any{"owner": "t2"})
	h.ok("t2", engine.OpCreate, "only-t2", map[string]any{"x": "y"})

	for token, want := range map[string]string{"t1": "t1", "t2": "t2"} {
		if resp := h.ok(token, engine.OpRead, "secret", nil); resp.Data["owner"] != want {
			t.Fatalf("%s reads owner %v", token, resp.Data["owner"])
		}
	}
	if resp := h.ok("t1", engine.OpRead, "only-t2", nil); resp != nil {
		t.Fatalf("t1 reads t2's secret: %+v", resp)
	}
	if got := h.keys("t1", ""); !slices.Equal(got, []string{"secret"}) {
		t.Fatalf("t1 lists %v", got)
	}
	h.ok("t1", engine.OpDelete, "only-t2", nil)
	if resp := h.ok("t2", engine.OpRead, "only-t2", nil); resp == nil {
		t.Fatal("t1's delete removed t2's secret")
	}
	ec := h.b.(engine.ExistenceChecker)
	found, supported, err := ec.Exists(context.Background(), &engine.Request{Path: "only-t2", Caller: &engine.Caller{TokenID: "t1"}})
	if found || !supported || err != nil {
		t.Fatalf("t1 Exists(only-t2) = %v, %v, %v", found, supported, err)
	}
	found, _, _ = ec.Exists(context.Background(), &engine.Request{Path: "only-t2", Caller: &engine.Caller{TokenID: "t2"}})
	if !found {
		t.Fatal("t2 Exists(only-t2) = false")
	}

	// Revoking t1 removes its data only; t2 keeps its own.
	cleaner := h.b.(engine.TokenCleaner)
	if err := cleaner.TokenRevoked(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	if left, _ := storage.List(context.Background(), h.store, Prefix("t1")); len(left) != 0 {
		t.Fatalf("t1's keys left after revocation: %v", left)
	}
	if err := cleaner.TokenRevoked(context.Background(), "never-wrote"); err != nil {
		t.Fatalf("revoking a token with no data: %v", err)
	}
	for _, bad := range []string{"", "t2/..", "/"} {
		if err := cleaner.TokenRevoked(context.Background(), bad); err == nil {
			t.Fatalf("TokenRevoked(%q) succeeded", bad)
		}
	}
	if resp := h.ok("t1", engine.OpRead, "secret", nil); resp != nil {
		t.Fatalf("t1's data survived revocation: %+v", resp)
	}
	if resp := h.ok("t2", engine.OpRead, "secret", nil); resp == nil || resp.Data["owner"] != "t2" {
		t.Fatalf("t2's data after t1's revocation: %+v", resp)
	}
	// A token ID that shares a prefix with another sees nothing of it.
	if resp := h.ok("t", engine.OpRead, "2/secret", nil); resp != nil {
		t.Fatalf("token t reads t2's data: %+v", resp)
	}
}

func TestNoCallerIsDenied(t *testing.T) {
	h := newHarness(t)
	h.ok("t1", engine.OpCreate, "secret", map[string]any{"a": 1})
	for _, token := range []string{"", "t1/../t2"} {
		for _, op := range []engine.Operation{engine.OpRead, engine.OpCreate, engine.OpUpdate, engine.OpDelete, engine.OpList} {
			req := &engine.Request{Operation: op, Path: "secret", Data: map[string]any{"a": 1}}
			if token != "" {
				req.Caller = &engine.Caller{TokenID: token, Root: true}
			}
			if op == engine.OpList {
				req.Path = ""
			}
			if _, err := h.b.Handle(context.Background(), req); !errors.Is(err, engine.ErrPermissionDenied) {
				t.Errorf("token %q %s: err = %v, want permission denied", token, op, err)
			}
		}
		req := &engine.Request{Path: "secret"}
		if token != "" {
			req.Caller = &engine.Caller{TokenID: token}
		}
		if _, _, err := h.b.(engine.ExistenceChecker).Exists(context.Background(), req); !errors.Is(err, engine.ErrPermissionDenied) {
			t.Errorf("token %q Exists: err = %v, want permission denied", token, err)
		}
	}
	// An empty Caller is no caller either.
	if _, err := h.b.Handle(context.Background(), &engine.Request{Operation: engine.OpRead, Path: "secret", Caller: &engine.Caller{}}); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Errorf("empty caller: err = %v", err)
	}
}

func TestPrefix(t *testing.T) {
	if got := Prefix("abc"); got != "abc/" {
		t.Fatalf("Prefix = %q", got)
	}
	h := newHarness(t)
	h.ok("abc", engine.OpCreate, "k", map[string]any{"a": 1})
	if _, err := h.store.Get(context.Background(), Prefix("abc")+"k"); err != nil {
		t.Fatalf("data not stored under Prefix: %v", err)
	}
}
