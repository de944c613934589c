package main

import (
	"net/http"
	"testing"
)

// lcInmemHCL is a config for an in-memory server, %s for the address.
const lcInmemHCL = "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"%s\"\n  tls_disable = true\n}\ndisable_mlock = true\n"

// TestLifecycleSeal checks sys/seal: it needs root or sudo, seals at once
// (every request after it is 503), and leaves a server that unseals again
// with its data and tokens intact.
func TestLifecycleSeal(t *testing.T) {
	t.Parallel()
	p := startConfig(t, t.TempDir(), lcInmemHCL)
	c := newLCClient(t, p.Addr, "")
	keys := lcInit(t, c, 3, 2)
	lcUnseal(t, c, keys.Hex[0], keys.Hex[1])
	root := c.with(keys.Root)
	lcEnableKV2(t, root)
	lcPutKV(t, root, "app/db", map[string]any{"password": "p1"})

	// A token that may do anything but sudo.
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/everything", map[string]string{
		"policy": `path "*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }`,
	})
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/sealer", map[string]string{
		"policy": `path "sys/seal" { capabilities = ["update", "sudo"] }`,
	})
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/sudo-only", map[string]string{
		"policy": `path "sys/seal" { capabilities = ["sudo"] }`,
	})
	everything := c.with(lcCreateToken(t, root, "everything"))
	sudoOnly := c.with(lcCreateToken(t, root, "sudo-only"))
	sealer := c.with(lcCreateToken(t, root, "sealer"))

	if got := lcGetKV(t, everything, "app/db"); got["password"] != "p1" {
		t.Fatalf("everything token reads: %v", got)
	}
	everything.must(http.StatusOK, "GET", "sys/mounts", nil)
	lcWantErrors(t, everything.do("PUT", "sys/seal", nil), http.StatusForbidden, "permission denied")
	lcWantErrors(t, everything.do("POST", "sys/seal", map[string]any{}), http.StatusForbidden, "permission denied")
	lcWantErrors(t, c.do("PUT", "sys/seal", nil), http.StatusForbidden, "permission denied")
	lcWantErrors(t, c.with("ws.not-a-token").do("PUT", "sys/seal", nil), http.StatusForbidden, "permission denied")
	// sudo without update is not enough either.
	lcWantErrors(t, sudoOnly.do("PUT", "sys/seal", nil), http.StatusForbidden, "permission denied")
	if st := lcSealStatus(t, c); st["sealed"] != false {
		t.Fatalf("refused seals sealed the server: %v", st)
	}

	// Root seals: 204 with no body, then everything is 503.
	if r := root.do("PUT", "sys/seal", nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("root seal: HTTP %d %q", r.Status, r.Body)
	}
	lcAfterSeal(t, p, c, keys.Root, everything.token)
	lcUnseal(t, c, keys.Base64[2], keys.Hex[0])
	if got := lcGetKV(t, everything, "app/db"); got["password"] != "p1" {
		t.Fatalf("after unseal: %v", got)
	}

	// A token with sudo on sys/seal seals too.
	if r := sealer.do("POST", "sys/seal", nil); r.Status != http.StatusNoContent {
		t.Fatalf("sudo token seal: HTTP %d %s", r.Status, r.Body)
	}
	lcAfterSeal(t, p, c, keys.Root, sealer.token)
	lcUnseal(t, c, keys.Hex[1], keys.Base64[0])
	lcPutKV(t, root, "app/db", map[string]any{"password": "p2"})
	if got := lcGetKV(t, everything, "app/db"); got["password"] != "p2" {
		t.Fatalf("after the second unseal: %v", got)
	}
	sealer.must(http.StatusOK, "GET", "auth/token/lookup-self", nil)
}

// lcAfterSeal checks a server that was just sealed: still running, sealed
// in seal-status and health, 503 to every request, sealing again is 503.
func lcAfterSeal(t *testing.T, p *serverProc, c *lcClient, tokens ...string) {
	t.Helper()
	lcAlive(t, p)
	st := lcSealStatus(t, c)
	if st["sealed"] != true || st["initialized"] != true || lcInt(t, st, "progress") != 0 {
		t.Fatalf("seal-status after seal: %v", st)
	}
	if r := c.do("GET", "sys/health", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("sys/health after seal: HTTP %d %s", r.Status, r.Body)
	}
	for _, tok := range tokens {
		cc := c.with(tok)
		lcWantSealed(t, cc.do("GET", "secret/data/app/db", nil), "read")
		lcWantSealed(t, cc.do("GET", "auth/token/lookup-self", nil), "lookup-self")
		lcWantSealed(t, cc.do("PUT", "sys/seal", nil), "seal")
	}
}
