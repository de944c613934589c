package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

var ctx = context.Background()

func newCore(t testing.TB, physical storage.Backend) *core.Core {
	t.Helper()
	c, err := core.New(core.Options{
		Physical: physical,
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	return c
}

// devCore is an unsealed core with secret/ (KV v2) and root token "root".
func devCore(t testing.TB) *core.Core {
	c := newCore(t, inmem.New())
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	return c
}

func call(t testing.TB, c *core.Core, tok string, op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	t.Helper()
	return c.Handle(ctx, &engine.Request{ID: "test", Operation: op, Path: path, Data: data, ClientToken: tok})
}

func mustCall(t testing.TB, c *core.Core, tok string, op engine.Operation, path string, data map[string]any) *engine.Response {
	t.Helper()
	resp, err := call(t, c, tok, op, path, data)
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

func TestInitUnsealSeal(t *testing.T) {
	c := newCore(t, inmem.New())
	if _, err := c.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 4}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("threshold > shares: %v", err)
	}
	if _, err := c.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 2, RecoveryShares: 1}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("recovery shares with shamir: %v", err)
	}
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(init.Keys) != 5 || len(init.KeysBase64) != 5 || init.RootToken == "" {
		t.Fatalf("init = %+v", init)
	}
	if _, err := c.Init(ctx, api.InitRequest{SecretShares: 1, SecretThreshold: 1}); !errors.Is(err, core.ErrAlreadyInitialized) {
		t.Fatalf("second init: %v", err)
	}
	if _, err := call(t, c, init.RootToken, engine.OpRead, "sys/mounts", nil); !errors.Is(err, engine.ErrSealed) {
		t.Fatalf("sealed request: %v", err)
	}

	// The same share twice makes no progress; hex and base64 both work.
	st, err := c.Unseal(ctx, init.Keys[0])
	if err != nil || st.Progress != 1 {
		t.Fatalf("unseal 1: %+v %v", st, err)
	}
	if st, _ = c.Unseal(ctx, init.KeysBase64[0]); st.Progress != 1 {
		t.Fatalf("duplicate share progressed: %+v", st)
	}
	if _, err := c.Unseal(ctx, "not a key!"); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("garbage share: %v", err)
	}
	if st, _ = c.ResetUnseal(ctx); st.Progress != 0 {
		t.Fatalf("reset: %+v", st)
	}
	for i, k := range []string{init.Keys[4], init.KeysBase64[2], init.Keys[1]} {
		if st, err = c.Unseal(ctx, k); err != nil {
			t.Fatalf("unseal %d: %v", i, err)
		}
	}
	if st.Sealed || c.Sealed() {
		t.Fatalf("still sealed: %+v", st)
	}
	mustCall(t, c, init.RootToken, engine.OpRead, "sys/mounts", nil)

	c.Seal()
	if _, err := call(t, c, init.RootToken, engine.OpRead, "sys/mounts", nil); !errors.Is(err, engine.ErrSealed) {
		t.Fatalf("after seal: %v", err)
	}
}

func TestWrongSharesResetProgress(t *testing.T) {
	c := newCore(t, inmem.New())
	a, err := c.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	other := newCore(t, inmem.New())
	b, err := other.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unseal(ctx, a.Keys[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unseal(ctx, b.Keys[1]); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("foreign share: %v", err)
	}
	st, _ := c.SealStatus(ctx)
	if !st.Sealed || st.Progress != 0 {
		t.Fatalf("after bad unseal: %+v", st)
	}
}

func TestCreateOnlyPolicyCannotOverwrite(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/svc-create", map[string]any{
		"policy": `path "secret/data/svc/*" { capabilities = ["create"] }`,
	})
	resp := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": []any{"svc-create"}})
	tok := resp.Auth.ClientToken

	if _, err := call(t, c, tok, engine.OpUpdate, "secret/data/svc/db", map[string]any{"data": map[string]any{"p": "1"}}); err != nil {
		t.Fatalf("create new secret: %v", err)
	}
	_, err := call(t, c, tok, engine.OpUpdate, "secret/data/svc/db", map[string]any{"data": map[string]any{"p": "2"}})
	if !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("overwrite: %v, want permission denied", err)
	}
	got := mustCall(t, c, "root", engine.OpRead, "secret/data/svc/db", nil)
	if v := secretData(t, got)["p"]; v != "1" {
		t.Fatalf("secret changed to %v", v)
	}
}

func TestUseLimitedTokenIsRevokedAfterLastUse(t *testing.T) {
	c := devCore(t)
	resp := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"num_uses": 2})
	tok := resp.Auth.ClientToken
	mustCall(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil)
	mustCall(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil)
	if _, err := call(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("third use: %v", err)
	}
}

func TestCubbyholeGoesWithItsToken(t *testing.T) {
	c := devCore(t)
	a := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", nil).Auth.ClientToken
	b := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", nil).Auth.ClientToken
	mustCall(t, c, a, engine.OpUpdate, "cubbyhole/note", map[string]any{"v": "only-a"})
	if resp := mustCall(t, c, b, engine.OpRead, "cubbyhole/note", nil); resp != nil {
		t.Fatalf("token b read a's cubbyhole: %v", resp.Data)
	}
	if resp := mustCall(t, c, "root", engine.OpRead, "cubbyhole/note", nil); resp != nil {
		t.Fatalf("root read a's cubbyhole: %v", resp.Data)
	}
	mustCall(t, c, "root", engine.OpUpdate, "auth/token/revoke", map[string]any{"token": a})
	// A new token never sees old data; the old token is gone.
	if _, err := call(t, c, a, engine.OpRead, "cubbyhole/note", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("revoked token: %v", err)
	}
}

func TestWrappedResponseUnwrapsOnce(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "secret/data/w", map[string]any{"data": map[string]any{"k": "wrapped-value"}})
	resp, err := c.Handle(ctx, &engine.Request{ID: "r1", Operation: engine.OpRead, Path: "secret/data/w", ClientToken: "root", WrapTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if resp.WrapInfo == nil || resp.Data != nil || resp.WrapInfo.CreationPath != "secret/data/w" || resp.WrapInfo.TTL != 60 {
		t.Fatalf("wrapped response = %+v", resp)
	}
	info, err := c.WrapLookup(ctx, resp.WrapInfo.Token)
	if err != nil || info["creation_path"] != "secret/data/w" {
		t.Fatalf("lookup = %v, %v", info, err)
	}

	// Many concurrent unwraps: exactly one gets the response.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := c.Unwrap(ctx, resp.WrapInfo.Token)
			if err == nil {
				if !bytes.Contains(body, []byte("wrapped-value")) {
					t.Errorf("unwrapped body = %s", body)
				}
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d unwraps succeeded, want 1", wins.Load())
	}
}

func TestDisableMountDeletesData(t *testing.T) {
	physical := inmem.New()
	c := newCore(t, physical)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/mounts/team", map[string]any{"type": "kv-v2"})
	e, err := c.Mount(core.TableMounts, "team")
	if err != nil || e == nil {
		t.Fatalf("mount = %v, %v", e, err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "team/data/x", map[string]any{"data": map[string]any{"k": "v"}})
	before, _ := storage.List(ctx, physical, "logical/"+e.UUID+"/")
	if len(before) == 0 {
		t.Fatal("no data stored under the mount")
	}
	mustCall(t, c, "root", engine.OpDelete, "sys/mounts/team", nil)
	after, _ := storage.List(ctx, physical, "logical/"+e.UUID+"/")
	if len(after) != 0 {
		t.Fatalf("data left after disable: %v", after)
	}
	for _, bad := range []map[string]any{{"type": "kv-v2", "path": "x"}, {"type": "nope"}} {
		if _, err := call(t, c, "root", engine.OpUpdate, "sys/mounts/secret/nested", bad); !errors.Is(err, engine.ErrInvalidRequest) {
			t.Errorf("mount %v under secret/: %v", bad, err)
		}
	}
	if _, err := call(t, c, "root", engine.OpDelete, "sys/mounts/sys", nil); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("disable sys/: %v", err)
	}
}

func TestRotateKeepsDataReadable(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "secret/data/r", map[string]any{"data": map[string]any{"k": "before"}})
	before, _ := c.KeyStatus()
	mustCall(t, c, "root", engine.OpUpdate, "sys/rotate", nil)
	after, _ := c.KeyStatus()
	if after.Term != before.Term+1 {
		t.Fatalf("term %d -> %d", before.Term, after.Term)
	}
	got := mustCall(t, c, "root", engine.OpRead, "secret/data/r", nil)
	if secretData(t, got)["k"] != "before" {
		t.Fatalf("read after rotate = %v", got.Data)
	}
}

func TestNonRootSeesForbiddenBeforeNotFound(t *testing.T) {
	c := devCore(t)
	tok := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "default"}).Auth.ClientToken
	_, err := call(t, c, tok, engine.OpRead, "nothing/here", nil)
	if !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("non-root unknown route: %v", err)
	}
	_, err = call(t, c, "root", engine.OpRead, "nothing/here", nil)
	if !errors.Is(err, engine.ErrUnsupportedPath) || !strings.Contains(err.Error(), "no handler") {
		t.Fatalf("root unknown route: %v", err)
	}
}

func TestTuneAppliesLiveWithoutNewEngine(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "sys/mounts/kv1", map[string]any{"type": "kv", "options": map[string]any{"version": "1"}})
	mustCall(t, c, "root", engine.OpUpdate, "kv1/app", map[string]any{"k": "v"})
	if got := mustCall(t, c, "root", engine.OpRead, "kv1/app", nil).LeaseDuration; got != 768*time.Hour {
		t.Fatalf("lease hint before tune = %v", got)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/mounts/kv1/tune", map[string]any{"default_lease_ttl": "1h", "description": "tuned"})
	if got := mustCall(t, c, "root", engine.OpRead, "kv1/app", nil).LeaseDuration; got != time.Hour {
		t.Fatalf("lease hint after tune = %v", got)
	}
	// Tuning only the max caps the inherited default.
	mustCall(t, c, "root", engine.OpUpdate, "sys/mounts/kv1/tune", map[string]any{"default_lease_ttl": "0", "max_lease_ttl": "30m"})
	if got := mustCall(t, c, "root", engine.OpRead, "kv1/app", nil).LeaseDuration; got != 30*time.Minute {
		t.Fatalf("lease hint capped by max = %v", got)
	}
	e, _ := c.Mount(core.TableMounts, "kv1")
	if e.Description != "tuned" {
		t.Fatalf("description = %q", e.Description)
	}
}

func TestUnsealSweepsDataOfDisabledMounts(t *testing.T) {
	physical := inmem.New()
	c := newCore(t, physical)
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unseal(ctx, init.Keys[0]); err != nil {
		t.Fatal(err)
	}
	// Data under a mount UUID the table does not know: what an
	// interrupted disable leaves behind.
	mustCall(t, c, init.RootToken, engine.OpUpdate, "sys/mounts/kv", map[string]any{"type": "kv"})
	mustCall(t, c, init.RootToken, engine.OpUpdate, "kv/a", map[string]any{"k": "v"})
	e, _ := c.Mount(core.TableMounts, "kv")
	keys, _ := storage.List(ctx, physical, "logical/"+e.UUID+"/")
	for _, k := range keys {
		raw, _ := physical.Get(ctx, "logical/"+e.UUID+"/"+k)
		_ = physical.Put(ctx, "logical/orphan-uuid/"+k, raw)
	}
	c.Seal()
	if _, err := c.Unseal(ctx, init.Keys[0]); err != nil {
		t.Fatal(err)
	}
	if left, _ := storage.List(ctx, physical, "logical/orphan-uuid/"); len(left) != 0 {
		t.Fatalf("orphaned data survived unseal: %v", left)
	}
	if kept, _ := storage.List(ctx, physical, "logical/"+e.UUID+"/"); len(kept) == 0 {
		t.Fatal("live mount data was swept")
	}
}

// A deny on an exact path holds however the path is spelled: with a
// trailing slash, or a policy name in another case.
func TestExactDenyCannotBeSidestepped(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/admin", map[string]any{"policy": `path "*" { capabilities = ["sudo", "read", "update", "create", "delete", "list"] }`})
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/delegate", map[string]any{"policy": `
path "sys/policies/acl/*"     { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/policies/acl/admin" { capabilities = ["deny"] }
path "auth/token/*"           { capabilities = ["create", "update"] }
path "auth/token/create"      { capabilities = ["deny"] }
`})
	tok := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "delegate"}).Auth.ClientToken
	attempts := []struct {
		op   engine.Operation
		path string
	}{
		{engine.OpUpdate, "sys/policies/acl/admin/"},
		{engine.OpDelete, "sys/policies/acl/admin/"},
		{engine.OpUpdate, "sys/policies/acl/ADMIN"},
		{engine.OpDelete, "sys/policies/acl/Admin"},
		{engine.OpUpdate, "sys/policies/acl/admin "},
		{engine.OpUpdate, "auth/token/create/"},
	}
	for _, a := range attempts {
		_, err := call(t, c, tok, a.op, a.path, map[string]any{"policy": `path "x" { capabilities = ["read"] }`})
		if err == nil {
			t.Errorf("%s %q succeeded", a.op, a.path)
		}
	}
	if text, ok, _ := c.Policy("admin"); !ok || !strings.Contains(text, "sudo") {
		t.Fatalf("admin policy changed: %q %v", text, ok)
	}
}

// The legacy cubbyhole/response read and sys/wrapping/unwrap race for one
// wrapping token: only one of them may get the response.
func TestWrappedResponseOnceAcrossUnwrapAndLegacyRead(t *testing.T) {
	c := devCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "secret/data/w", map[string]any{"data": map[string]any{"k": "v"}})
	for round := 0; round < 20; round++ {
		resp, err := c.Handle(ctx, &engine.Request{ID: "r", Operation: engine.OpRead, Path: "secret/data/w", ClientToken: "root", WrapTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		wt := resp.WrapInfo.Token
		var wins atomic.Int32
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := c.Unwrap(ctx, wt); err == nil {
				wins.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			if r, err := call(t, c, wt, engine.OpRead, "cubbyhole/response", nil); err == nil && r != nil {
				wins.Add(1)
			}
		}()
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d readers got the wrapped response", round, wins.Load())
		}
	}
}

// secretData decodes the "data" of a KV v2 read, which the engine hands
// over as the stored JSON.
func secretData(t testing.TB, resp *engine.Response) map[string]any {
	t.Helper()
	var m map[string]any
	raw, err := json.Marshal(resp.Data["data"])
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil || m == nil {
		t.Fatalf("data = %#v: %v", resp.Data["data"], err)
	}
	return m
}
