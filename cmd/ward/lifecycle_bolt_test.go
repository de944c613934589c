package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
)

// TestLifecycleBolt takes a bolt-backed server from a config file through
// init, sealed refusals, unseal (with mistakes along the way), writes, a
// clean SIGTERM stop and a restart unsealed with other shares.
func TestLifecycleBolt(t *testing.T) {
	t.Parallel()
	cfgDir, dataDir := t.TempDir(), t.TempDir()
	hcl := lcBoltHCL(dataDir)
	p := startConfig(t, cfgDir, hcl)
	c := newLCClient(t, p.Addr, "")

	// Not initialized yet.
	if got := c.must(http.StatusOK, "GET", "sys/init", nil); got["initialized"] != false {
		t.Fatalf("sys/init before init: %v", got)
	}
	st := lcSealStatus(t, c)
	if st["initialized"] != false || st["sealed"] != true || lcInt(t, st, "t") != 0 || lcInt(t, st, "n") != 0 {
		t.Fatalf("seal-status before init: %v", st)
	}
	h := c.must(http.StatusNotImplemented, "GET", "sys/health", nil)
	if h["initialized"] != false || h["sealed"] != true {
		t.Fatalf("sys/health before init: %v", h)
	}
	c.must(299, "GET", "sys/health?uninitcode=299", nil)
	// The Go client's Sys().Health() sends every code as 299.
	c.must(299, "GET", "sys/health?standbycode=299&drsecondarycode=299&performancestandbycode=299&sealedcode=299&uninitcode=299", nil)
	lcWantErrors(t, c.do("GET", "sys/health?uninitcode=abc", nil), http.StatusBadRequest, "uninitcode")
	if r := c.do("HEAD", "sys/health", nil); r.Status != http.StatusNotImplemented || len(r.Body) != 0 {
		t.Fatalf("HEAD sys/health before init: HTTP %d, body %q", r.Status, r.Body)
	}
	lcWantSealed(t, c.do("GET", "secret/data/x", nil), "GET before init")
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]string{"key": hex.EncodeToString(make([]byte, 33))}), http.StatusBadRequest, "not initialized")

	// Bad init parameters are refused and leave the server uninitialized.
	lcWantErrors(t, c.do("PUT", "sys/init", map[string]int{"secret_shares": 3, "secret_threshold": 5}), http.StatusBadRequest, "secret_threshold")
	lcWantErrors(t, c.do("PUT", "sys/init", map[string]any{"secret_shares": 5, "secret_threshold": 3, "recovery_shares": 5}), http.StatusBadRequest, "recovery")
	if got := c.must(http.StatusOK, "GET", "sys/init", nil); got["initialized"] != false {
		t.Fatalf("sys/init after refused inits: %v", got)
	}

	keys := lcInit(t, c, 5, 3)
	root := c.with(keys.Root)
	if got := c.must(http.StatusOK, "GET", "sys/init", nil); got["initialized"] != true {
		t.Fatalf("sys/init after init: %v", got)
	}
	lcWantErrors(t, c.do("PUT", "sys/init", map[string]int{"secret_shares": 5, "secret_threshold": 3}), http.StatusBadRequest, "already initialized")

	// Sealed: every logical request, with or without a token, is 503.
	lcCheckSealed(t, c, keys.Root)
	st = lcSealStatus(t, c)
	if st["initialized"] != true || st["sealed"] != true || lcInt(t, st, "t") != 3 || lcInt(t, st, "n") != 5 || lcInt(t, st, "progress") != 0 {
		t.Fatalf("seal-status after init: %v", st)
	}
	if st["type"] != "shamir" {
		t.Errorf("seal-status type = %v, want shamir", st["type"])
	}

	// Mistakes while unsealing never take the server down.
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]string{"key": "not a key!"}), http.StatusBadRequest, "key")
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]any{"key": 12}), http.StatusBadRequest, "key")
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]any{}), http.StatusBadRequest, "key")
	lcWantErrors(t, c.do("PUT", "sys/unseal", "{not json"), http.StatusBadRequest, "JSON")
	lcUnsealProgress(t, c, keys.Hex[0], 1)
	lcUnsealProgress(t, c, keys.Base64[0], 1) // the same share again, in base64
	lcUnsealProgress(t, c, keys.Hex[0], 1)
	if st := c.must(http.StatusOK, "PUT", "sys/unseal", map[string]bool{"reset": true}); lcInt(t, st, "progress") != 0 || st["sealed"] != true {
		t.Fatalf("unseal reset: %v", st)
	}
	// Two good shares and a forged one: the threshold is reached, the
	// combination fails, progress resets and the server stays sealed.
	forged := make([]byte, len(lcHex(t, keys.Hex[0])))
	if _, err := rand.Read(forged); err != nil {
		t.Fatal(err)
	}
	lcUnsealProgress(t, c, keys.Hex[1], 1)
	lcUnsealProgress(t, c, keys.Base64[2], 2)
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]string{"key": hex.EncodeToString(forged)}), http.StatusBadRequest, "unseal")
	st = lcSealStatus(t, c)
	if st["sealed"] != true || lcInt(t, st, "progress") != 0 {
		t.Fatalf("after a forged share: %v", st)
	}
	// A share of the wrong length is refused at once and does not count.
	lcUnsealProgress(t, c, keys.Hex[1], 1)
	lcUnsealProgress(t, c, keys.Hex[2], 2)
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]string{"key": "abcd"}), http.StatusBadRequest, "key")
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]string{"key": keys.Hex[0] + "00"}), http.StatusBadRequest, "key")
	if st := lcSealStatus(t, c); st["sealed"] != true || lcInt(t, st, "progress") != 2 {
		t.Fatalf("after shares of the wrong length: %v", st)
	}
	c.must(http.StatusOK, "PUT", "sys/unseal", map[string]bool{"reset": true})
	lcAlive(t, p)
	lcCheckSealed(t, c, keys.Root)

	// Unseal with three shares, mixing hex and base64.
	lcUnseal(t, c, keys.Hex[0], keys.Base64[1], keys.Hex[2])
	st = lcSealStatus(t, c)
	if st["sealed"] != false || st["cluster_id"] == "" || st["cluster_id"] == nil {
		t.Fatalf("seal-status after unseal: %v", st)
	}
	c.must(http.StatusOK, "GET", "sys/health", nil)
	lcWantErrors(t, c.do("PUT", "sys/unseal", map[string]bool{"reset": true}), http.StatusBadRequest, "unsealed")
	if st := c.must(http.StatusOK, "PUT", "sys/unseal", map[string]string{"key": keys.Hex[4]}); st["sealed"] != false {
		t.Fatalf("unseal while unsealed: %v", st)
	}

	// Data: a KV v2 mount with versions, a policy and tokens.
	lcEnableKV2(t, root)
	lcPutKV(t, root, "app/db", map[string]any{"password": "first"})
	if v := lcPutKV(t, root, "app/db", map[string]any{"password": "second", "user": "app"}); v != 2 {
		t.Fatalf("second write of app/db is version %d", v)
	}
	lcPutKV(t, root, "other/x", map[string]any{"n": 1})
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/app-read", map[string]string{
		"policy": `path "secret/data/app/*" { capabilities = ["read"] }`,
	})
	appTok := lcCreateToken(t, root, "app-read")
	app := c.with(appTok)
	lcCheckAppToken(t, app)

	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0\n%s", code, p.Stderr.String())
	}

	// Restart on the same directory: sealed again, and another subset of
	// shares opens it.
	p = startConfig(t, cfgDir, hcl)
	c = newLCClient(t, p.Addr, "")
	root, app = c.with(keys.Root), c.with(appTok)
	st = lcSealStatus(t, c)
	if st["initialized"] != true || st["sealed"] != true || lcInt(t, st, "progress") != 0 || lcInt(t, st, "t") != 3 {
		t.Fatalf("seal-status after restart: %v", st)
	}
	lcCheckSealed(t, c, keys.Root)
	lcUnseal(t, c, keys.Base64[4], keys.Hex[3], keys.Base64[1])

	got := lcGetKV(t, root, "app/db")
	if got["password"] != "second" || got["user"] != "app" {
		t.Fatalf("app/db after restart: %v", got)
	}
	old := root.must(http.StatusOK, "GET", "secret/data/app/db?version=1", nil)
	if lcMap(t, old, "data", "data")["password"] != "first" {
		t.Fatalf("app/db version 1 after restart: %v", old)
	}
	meta := root.must(http.StatusOK, "GET", "secret/metadata/app/db", nil)
	if lcInt(t, lcMap(t, meta, "data"), "current_version") != 2 {
		t.Fatalf("app/db metadata after restart: %v", meta)
	}
	if got := lcGetKV(t, root, "other/x"); got["n"] == nil {
		t.Fatalf("other/x after restart: %v", got)
	}
	pol := root.must(http.StatusOK, "GET", "sys/policies/acl/app-read", nil)
	if lcMap(t, pol, "data")["policy"] != `path "secret/data/app/*" { capabilities = ["read"] }` {
		t.Fatalf("policy after restart: %v", pol)
	}
	lcCheckAppToken(t, app)
	self := root.must(http.StatusOK, "GET", "auth/token/lookup-self", nil)
	if pols, _ := lcMap(t, self, "data")["policies"].([]any); len(pols) != 1 || pols[0] != "root" {
		t.Fatalf("root token after restart: %v", self)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("second SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}
}

// lcCheckSealed sends a spread of logical requests, with and without a
// token, and wants the sealed answer to each.
func lcCheckSealed(t *testing.T, c *lcClient, root string) {
	t.Helper()
	for _, tok := range []string{"", root, "not-a-token"} {
		cc := c.with(tok)
		for _, rq := range []struct{ method, path string }{
			{"GET", "secret/data/app/db"},
			{"POST", "secret/data/app/db"},
			{"DELETE", "secret/data/app/db"},
			{"LIST", "secret/metadata/"},
			{"GET", "secret/metadata/?list=true"},
			{"GET", "sys/mounts"},
			{"POST", "sys/mounts/kv2"},
			{"GET", "sys/policies/acl"},
			{"PUT", "sys/policies/acl/x"},
			{"POST", "auth/token/create"},
			{"GET", "auth/token/lookup-self"},
			{"PUT", "sys/seal"},
			{"GET", "cubbyhole/x"},
			{"GET", "no/such/mount"},
		} {
			var body any
			if rq.method == "POST" || rq.method == "PUT" {
				body = map[string]any{"data": map[string]string{"a": "b"}}
			}
			lcWantSealed(t, cc.do(rq.method, rq.path, body), rq.method+" "+rq.path)
		}
	}
	st := c.do("GET", "sys/health", nil)
	if st.Status != http.StatusServiceUnavailable || st.json(t)["sealed"] != true {
		t.Fatalf("sys/health while sealed: HTTP %d %s", st.Status, st.Body)
	}
	c.must(299, "GET", "sys/health?sealedcode=299", nil)
}

// lcUnsealProgress submits one share and wants the server still sealed
// with the given progress.
func lcUnsealProgress(t *testing.T, c *lcClient, key string, progress int) {
	t.Helper()
	st := c.must(http.StatusOK, "PUT", "sys/unseal", map[string]string{"key": key})
	if st["sealed"] != true || lcInt(t, st, "progress") != progress || lcInt(t, st, "t") != 3 {
		t.Fatalf("unseal: want sealed with progress %d, got %v", progress, st)
	}
}

// lcCheckAppToken checks what the app-read token may and may not do.
func lcCheckAppToken(t *testing.T, app *lcClient) {
	t.Helper()
	if got := lcGetKV(t, app, "app/db"); got["password"] != "second" {
		t.Fatalf("app token reads app/db: %v", got)
	}
	lcWantErrors(t, app.do("GET", "secret/data/other/x", nil), http.StatusForbidden, "permission denied")
	lcWantErrors(t, app.do("POST", "secret/data/app/db", map[string]any{"data": map[string]string{"password": "x"}}), http.StatusForbidden, "permission denied")
	lcWantErrors(t, app.do("GET", "sys/mounts", nil), http.StatusForbidden, "permission denied")
}

func lcHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
