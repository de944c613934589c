package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// fakeMethod logs in anyone as the "user" in the body, with the
// "namespace" in the body as alias metadata.
func fakeMethod(_ context.Context, env engine.Env) (engine.Backend, error) {
	return engine.NewMux(engine.Path{
		Pattern:         "login",
		Unauthenticated: true,
		Write: func(_ context.Context, req *engine.Request) (*engine.Response, error) {
			user, _ := req.Data["user"].(string)
			if user == "" {
				return nil, engine.BadRequest("invalid user")
			}
			ns, _ := req.Data["namespace"].(string)
			var cidrs []string
			if c, ok := req.Data["cidr"].(string); ok {
				cidrs = []string{c}
			}
			return &engine.Response{Login: &engine.Login{
				BoundCIDRs:  cidrs,
				Alias:       engine.Alias{Name: user, Metadata: map[string]string{"namespace": ns}},
				Policies:    []string{"own-folder"},
				Metadata:    map[string]string{"user": user},
				DisplayName: user,
				TTL:         2 * time.Hour,
				Renewable:   true,
			}}, nil
		},
	}), nil
}

func loginCore(t *testing.T) *core.Core {
	t.Helper()
	c, err := core.New(core.Options{
		Physical:    inmem.New(),
		Engines:     map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		Credentials: map[string]engine.Factory{"fake": fakeMethod},
		System:      func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/auth/fake", map[string]any{"type": "fake", "config": map[string]any{"max_lease_ttl": "1h"}})
	return c
}

func TestLoginIssuesTokenWithEntity(t *testing.T) {
	c := loginCore(t)
	// A stale token sent along does not stop a login.
	resp, err := c.Handle(ctx, &engine.Request{ID: "l", Operation: engine.OpUpdate, Path: "auth/fake/login", ClientToken: "stale", Data: map[string]any{"user": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	a := resp.Auth
	if a == nil || !strings.HasPrefix(a.ClientToken, "ws.") || a.EntityID == "" || !a.Orphan || !a.Renewable {
		t.Fatalf("login auth = %+v", a)
	}
	if a.LeaseDuration != 3600 {
		t.Fatalf("lease_duration = %d, want the mount's max of 3600", a.LeaseDuration)
	}
	if strings.Join(a.Policies, ",") != "default,own-folder" || a.Metadata["user"] != "alice" {
		t.Fatalf("policies %v metadata %v", a.Policies, a.Metadata)
	}
	// The same alias logs in to the same entity.
	again := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "alice"}).Auth
	if again.EntityID != a.EntityID {
		t.Fatalf("second login entity %s, first %s", again.EntityID, a.EntityID)
	}
	look := mustCall(t, c, a.ClientToken, engine.OpRead, "auth/token/lookup-self", nil)
	if look.Data["entity_id"] != a.EntityID || look.Data["display_name"] != "fake-alice" || look.Data["path"] != "auth/fake/login" {
		t.Fatalf("lookup-self = %v", look.Data)
	}
	// A failed login gets no token.
	if _, err := call(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("bad login: %v", err)
	}
}

// The templated policy gives each identity exactly its own folder, from
// the alias metadata its login set.
func TestTemplatedPolicyFromLoginAlias(t *testing.T) {
	c := loginCore(t)
	mounts := mustCall(t, c, "root", engine.OpRead, "sys/auth", nil).Data
	acc := mounts["fake/"].(map[string]any)["accessor"].(string)
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/own-folder", map[string]any{"policy": `
path "secret/data/k8s/{{identity.entity.aliases.` + acc + `.metadata.namespace}}/{{identity.entity.aliases.` + acc + `.name}}/*" {
  capabilities = ["read", "list"]
}`})
	for _, p := range []string{"secret/data/k8s/default/a/db", "secret/data/k8s/default/b/db"} {
		mustCall(t, c, "root", engine.OpUpdate, p, map[string]any{"data": map[string]any{"k": p}})
	}
	a := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "a", "namespace": "default"}).Auth.ClientToken
	if got := mustCall(t, c, a, engine.OpRead, "secret/data/k8s/default/a/db", nil); got == nil {
		t.Fatal("a cannot read its own folder")
	}
	if _, err := call(t, c, a, engine.OpRead, "secret/data/k8s/default/b/db", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("a reading b's folder: %v", err)
	}
	// A name that would widen the path gets nothing.
	wild := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "*", "namespace": "default"}).Auth.ClientToken
	if _, err := call(t, c, wild, engine.OpRead, "secret/data/k8s/default/a/db", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("alias * reading a's folder: %v", err)
	}
}

func TestLoginTokenBoundToCIDRs(t *testing.T) {
	c := loginCore(t)
	tok := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "ci", "cidr": "10.1.0.0/16"}).Auth.ClientToken
	lookup := func(remote string) error {
		_, err := c.Handle(ctx, &engine.Request{ID: "r", Operation: engine.OpRead, Path: "auth/token/lookup-self", ClientToken: tok, RemoteAddr: remote})
		return err
	}
	if err := lookup("10.1.2.3:5555"); err != nil {
		t.Fatalf("from inside the CIDR: %v", err)
	}
	if err := lookup("10.2.0.1:5555"); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("from outside the CIDR: %v", err)
	}
}

func TestDisabledEntityTokensRefused(t *testing.T) {
	c := loginCore(t)
	a := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "eve"}).Auth
	mustCall(t, c, a.ClientToken, engine.OpRead, "auth/token/lookup-self", nil)
	mustCall(t, c, "root", engine.OpUpdate, "identity/entity/id/"+a.EntityID, map[string]any{"disabled": true})
	if _, err := call(t, c, a.ClientToken, engine.OpRead, "auth/token/lookup-self", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("token of a disabled entity: %v", err)
	}
	if _, err := call(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "eve"}); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("login of a disabled entity: %v", err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "identity/entity/id/"+a.EntityID, map[string]any{"disabled": false})
	mustCall(t, c, a.ClientToken, engine.OpRead, "auth/token/lookup-self", nil)
}

func TestDisablingAuthMethodRevokesItsTokens(t *testing.T) {
	c := loginCore(t)
	tok := mustCall(t, c, "", engine.OpUpdate, "auth/fake/login", map[string]any{"user": "bob"}).Auth.ClientToken
	other := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", nil).Auth.ClientToken
	mustCall(t, c, "root", engine.OpDelete, "sys/auth/fake", nil)
	if _, err := call(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("token of a disabled method: %v", err)
	}
	mustCall(t, c, other, engine.OpRead, "auth/token/lookup-self", nil)
}

// rootMethod is a misconfigured method whose role grants root.
func rootMethod(_ context.Context, env engine.Env) (engine.Backend, error) {
	return engine.NewMux(engine.Path{
		Pattern: "login", Unauthenticated: true,
		Write: func(context.Context, *engine.Request) (*engine.Response, error) {
			return &engine.Response{Login: &engine.Login{Alias: engine.Alias{Name: "eve"}, Policies: []string{"ROOT "}, Renewable: true}}, nil
		},
	}), nil
}

func TestLoginCannotMintRoot(t *testing.T) {
	c, err := core.New(core.Options{
		Physical:    inmem.New(),
		Engines:     map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		Credentials: map[string]engine.Factory{"rooty": rootMethod},
		System:      func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Seal()
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/auth/rooty", map[string]any{"type": "rooty"})
	resp, err := call(t, c, "", engine.OpUpdate, "auth/rooty/login", nil)
	if !errors.Is(err, engine.ErrInvalidRequest) || (resp != nil && resp.Auth != nil) {
		t.Fatalf("login with root policy = %+v, %v; want refused without a token", resp, err)
	}
}
