package client

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
)

func TestLifecycle(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/sys/seal-status", 200, `{"type":"shamir","initialized":true,"sealed":true,"t":3,"n":5,"progress":1,"version":"0.1.0"}`)
	f.on("PUT", "/v1/sys/init", 200, `{"keys":["aa"],"keys_base64":["qg=="],"root_token":"hvs.root"}`)
	f.on("PUT", "/v1/sys/unseal", 200, `{"sealed":false,"t":3,"n":5,"progress":0}`)
	f.on("PUT", "/v1/sys/seal", 204, "")
	f.on("GET", "/v1/sys/health", 299, `{"initialized":true,"sealed":true,"server_time_utc":1700000000,"version":"0.1.0"}`)
	f.on("GET", "/v1/sys/leader", 200, `{"ha_enabled":false}`)
	sys := f.client(t, "").Sys()

	st, err := sys.SealStatus(ctx)
	if err != nil || st.T != 3 || !st.Sealed || st.Progress != 1 {
		t.Fatalf("seal status: %+v, %v", st, err)
	}
	ir, err := sys.Init(ctx, &api.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil || ir.RootToken != "hvs.root" {
		t.Fatalf("init: %+v, %v", ir, err)
	}
	if b := f.last().Body; b["secret_shares"] != 5.0 || b["secret_threshold"] != 3.0 {
		t.Errorf("init body = %v", b)
	}
	st, err = sys.Unseal(ctx, "qg==")
	if err != nil || st.Sealed {
		t.Fatalf("unseal: %+v, %v", st, err)
	}
	if f.last().Body["key"] != "qg==" {
		t.Errorf("unseal body = %v", f.last().Body)
	}
	if _, err := sys.UnsealReset(ctx); err != nil || f.last().Body["reset"] != true {
		t.Errorf("reset: %v, body %v", err, f.last().Body)
	}
	if err := sys.Seal(ctx); err != nil {
		t.Error(err)
	}
	h, err := sys.Health(ctx)
	if err != nil || !h.Sealed || h.ServerTimeUTC != 1700000000 {
		t.Fatalf("health: %+v, %v", h, err)
	}
	for _, p := range []string{"sealedcode=299", "uninitcode=299", "standbycode=299"} {
		if !strings.Contains(f.last().Query, p) {
			t.Errorf("health query %q lacks %s", f.last().Query, p)
		}
	}
	l, err := sys.Leader(ctx)
	if err != nil || l.HAEnabled {
		t.Errorf("leader: %+v, %v", l, err)
	}
}

func TestInitAlreadyDone(t *testing.T) {
	f := newFake(t)
	f.on("PUT", "/v1/sys/init", 400, `{"errors":["Vault is already initialized"]}`)
	_, err := f.client(t, "").Sys().Init(context.Background(), &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if StatusCode(err) != 400 || !strings.HasPrefix(err.Error(), "init: ") {
		t.Errorf("err = %v", err)
	}
}

func TestMounts(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("POST", "/v1/sys/mounts/kv2/", 204, "")
	f.on("POST", "/v1/sys/mounts/kv2/tune", 204, "")
	f.on("POST", "/v1/sys/auth/up/tune", 204, "")
	f.on("DELETE", "/v1/sys/mounts/kv2/", 204, "")
	f.on("POST", "/v1/sys/auth/userpass/", 204, "")
	f.on("GET", "/v1/sys/mounts", 200, `{"secret/":{"type":"kv"},"data":{
		"secret/":{"type":"kv","accessor":"kv_1234abcd","options":{"version":"2"},"config":{"default_lease_ttl":0,"max_lease_ttl":0}},
		"sys/":{"type":"system","accessor":"system_1","options":null,"config":{"default_lease_ttl":0,"max_lease_ttl":0}}}}`)
	sys := f.client(t, "t").Sys()

	if err := sys.Mount(ctx, "/kv2", &MountInput{Type: "kv-v2", Description: "d"}); err != nil {
		t.Fatal(err)
	}
	b := f.last().Body
	if b["type"] != "kv" || b["options"].(map[string]any)["version"] != "2" || b["description"] != "d" {
		t.Errorf("mount body = %v", b)
	}
	desc := "new"
	if err := sys.TuneMount(ctx, "kv2", &MountConfigInput{MaxLeaseTTL: "1h", Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if b := f.last().Body; b["max_lease_ttl"] != "1h" || b["description"] != "new" || b["default_lease_ttl"] != nil {
		t.Errorf("tune body = %v", b)
	}
	if err := sys.TuneMount(ctx, "auth/up", &MountConfigInput{}); err != nil {
		t.Errorf("auth tune: %v", err)
	}
	if err := sys.Unmount(ctx, "kv2"); err != nil {
		t.Fatal(err)
	}
	if err := sys.EnableAuth(ctx, "userpass", &MountInput{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	if err := sys.DisableAuth(ctx, "nothere"); StatusCode(err) != 404 {
		t.Errorf("disable of an unknown route: err = %v, want a 404 error", err)
	}
	m, err := sys.ListMounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["secret/"].Options["version"] != "2" || m["secret/"].Accessor != "kv_1234abcd" {
		t.Errorf("mounts = %+v", m)
	}
}

func TestPolicies(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/sys/policies/acl/dev", 204, "")
	f.on("GET", "/v1/sys/policies/acl/dev", 200, `{"data":{"name":"dev","policy":"path \"x\" {}"}}`)
	f.on("GET", "/v1/sys/policies/acl", 200, `{"data":{"keys":["default","dev","root"]}}`)
	f.on("DELETE", "/v1/sys/policies/acl/dev", 204, "")
	sys := f.client(t, "t").Sys()

	if err := sys.PutPolicy(ctx, "dev", `path "x" {}`); err != nil {
		t.Fatal(err)
	}
	if f.last().Body["policy"] != `path "x" {}` {
		t.Errorf("put body = %v", f.last().Body)
	}
	rules, err := sys.Policy(ctx, "dev")
	if err != nil || rules != `path "x" {}` {
		t.Errorf("policy = %q, %v", rules, err)
	}
	if _, err := sys.Policy(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing policy: err = %v", err)
	}
	names, err := sys.ListPolicies(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"default", "dev", "root"}) {
		t.Errorf("list = %v, %v", names, err)
	}
	if err := sys.DeletePolicy(ctx, "dev"); err != nil {
		t.Error(err)
	}
}

func TestKeysAndCapabilities(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/sys/rotate", 204, "")
	f.on("GET", "/v1/sys/key-status", 200, `{"term":2,"data":{"term":2,"install_time":"2024-01-01T00:00:00Z","encryptions":7}}`)
	f.on("PUT", "/v1/sys/capabilities-self", 200, `{"data":{"secret/x":["read","list"],"capabilities":["read","list"]}}`)
	f.on("PUT", "/v1/sys/capabilities", 200, `{"data":{"capabilities":["deny"]}}`)
	sys := f.client(t, "t").Sys()

	if err := sys.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := sys.KeyStatus(ctx)
	if err != nil || ks.Term != 2 || ks.Encryptions != 7 {
		t.Errorf("key status = %+v, %v", ks, err)
	}
	caps, err := sys.Capabilities(ctx, "", "secret/x")
	if err != nil || !reflect.DeepEqual(caps, []string{"read", "list"}) {
		t.Errorf("self caps = %v, %v", caps, err)
	}
	caps, err = sys.Capabilities(ctx, "other", "secret/y")
	if err != nil || !reflect.DeepEqual(caps, []string{"deny"}) {
		t.Errorf("caps = %v, %v", caps, err)
	}
	if b := f.last().Body; b["token"] != "other" || b["paths"].([]any)[0] != "secret/y" {
		t.Errorf("capabilities body = %v", b)
	}
}

func TestTokens(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	auth := `{"auth":{"client_token":"hvs.new","accessor":"acc","policies":["default","dev"],"metadata":{"who":"me"},"lease_duration":3600,"renewable":true}}`
	f.on("POST", "/v1/auth/token/create", 200, auth)
	f.on("POST", "/v1/auth/token/create-orphan", 200, auth)
	f.on("PUT", "/v1/auth/token/renew-self", 200, auth)
	f.on("PUT", "/v1/auth/token/renew", 200, auth)
	f.on("GET", "/v1/auth/token/lookup-self", 200, `{"data":{"id":"hvs.me","ttl":0,"policies":["root"],"expire_time":null}}`)
	f.on("POST", "/v1/auth/token/lookup-accessor", 200, `{"data":{"id":"","accessor":"acc"}}`)
	f.on("PUT", "/v1/auth/token/revoke-accessor", 204, "")
	f.on("PUT", "/v1/auth/token/revoke-self", 204, "")
	f.on("PUT", "/v1/auth/token/revoke-orphan", 204, "")
	f.on("PUT", "/v1/auth/userpass/login/bob", 200, auth)
	c := f.client(t, "hvs.me")
	tk := c.Tokens()

	no := false
	s, err := tk.Create(ctx, &TokenRequest{Policies: []string{"dev"}, TTL: "1h", Renewable: &no, Metadata: map[string]string{"who": "me"}})
	if err != nil || s.Auth.ClientToken != "hvs.new" || s.Auth.Metadata["who"] != "me" {
		t.Fatalf("create: %+v, %v", s, err)
	}
	b := f.last().Body
	if b["ttl"] != "1h" || b["renewable"] != false || b["meta"].(map[string]any)["who"] != "me" || b["id"] != nil {
		t.Errorf("create body = %v", b)
	}
	if _, err := tk.CreateOrphan(ctx, nil); err != nil {
		t.Error(err)
	}
	if _, err := tk.RenewSelf(ctx, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	if f.last().Body["increment"] != 5400.0 {
		t.Errorf("renew-self body = %v", f.last().Body)
	}
	if _, err := tk.Renew(ctx, "hvs.other", 0); err != nil || f.last().Body["token"] != "hvs.other" || f.last().Body["increment"] != nil {
		t.Errorf("renew: %v, body %v", err, f.last().Body)
	}
	s, err = tk.LookupSelf(ctx)
	if err != nil || s.Data["id"] != "hvs.me" {
		t.Errorf("lookup-self: %+v, %v", s, err)
	}
	if _, err := tk.LookupAccessor(ctx, "acc"); err != nil || f.last().Body["accessor"] != "acc" {
		t.Errorf("lookup-accessor: %v", err)
	}
	if _, err := tk.Lookup(ctx, "hvs.x"); StatusCode(err) != 404 {
		t.Errorf("lookup on a missing route: %v", err)
	}
	for name, fn := range map[string]func() error{
		"accessor": func() error { return tk.RevokeAccessor(ctx, "acc") },
		"self":     func() error { return tk.RevokeSelf(ctx) },
		"orphan":   func() error { return tk.RevokeOrphan(ctx, "hvs.x") },
	} {
		if err := fn(); err != nil {
			t.Errorf("revoke %s: %v", name, err)
		}
	}
	if err := tk.Revoke(ctx, "hvs.x"); err == nil {
		t.Error("revoke on a missing route succeeded")
	}
	s, err = c.Login(ctx, "auth/userpass/login/bob", map[string]any{"password": "pw"})
	if err != nil || s.Auth.ClientToken != "hvs.new" {
		t.Errorf("login: %v", err)
	}
}

func TestUnwrap(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/sys/wrapping/unwrap", 200, `{"data":{"secret_id":"s1"}}`)
	c := f.client(t, "hvs.mine")

	s, err := c.Unwrap(ctx, "hvs.wrap")
	if err != nil || s.Data["secret_id"] != "s1" {
		t.Fatalf("unwrap: %v, %v", s, err)
	}
	if got := f.last(); got.Body["token"] != "hvs.wrap" || got.Header.Get("X-Vault-Token") != "hvs.mine" {
		t.Errorf("with own token: body %v, header token %q", got.Body, got.Header.Get("X-Vault-Token"))
	}
	if _, err := f.client(t, "").Unwrap(ctx, "hvs.wrap"); err != nil {
		t.Fatal(err)
	}
	if got := f.last(); got.Body != nil || got.Header.Get("X-Vault-Token") != "hvs.wrap" {
		t.Errorf("without own token: body %v, header %q", got.Body, got.Header.Get("X-Vault-Token"))
	}
	if _, err := c.WithWrapTTL("1m").Unwrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.last(); got.Header.Get("X-Vault-Token") != "hvs.mine" || got.Header.Get("X-Vault-Wrap-TTL") != "" {
		t.Errorf("self unwrap headers = %v", got.Header)
	}
}

func TestUnwrapLegacyCubbyhole(t *testing.T) {
	f := newFake(t)
	f.on("GET", "/v1/cubbyhole/response", 200, `{"data":{"response":"{\"data\":{\"k\":\"v\"}}"}}`)
	s, err := f.client(t, "hvs.mine").Unwrap(context.Background(), "hvs.wrap")
	if err != nil || s == nil || s.Data["k"] != "v" {
		t.Fatalf("legacy unwrap: %v, %v", s, err)
	}
	if f.last().Header.Get("X-Vault-Token") != "hvs.wrap" {
		t.Error("legacy read did not use the wrapping token")
	}
}
