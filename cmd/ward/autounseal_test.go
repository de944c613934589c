package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// These tests run two real servers: A, a central Ward whose transit key
// protects B's root key, and B, which unseals itself through A.

// sealHub is server A: bolt storage at a fixed address so that it can be
// stopped and started again where B expects it.
type sealHub struct {
	t         *testing.T
	dir, addr string
	unsealKey string
	root      string
	proc      *serverProc
	// token may use the transit key "autounseal" and nothing else.
	token string
}

func startSealHub(t *testing.T) *sealHub {
	h := &sealHub{t: t, dir: t.TempDir(), addr: freeAddr(t)}
	h.start()
	c := newLCClient(t, h.proc.Addr, "")
	init := lcInit(t, c, 1, 1)
	h.unsealKey, h.root = init.Base64[0], init.Root
	lcUnseal(t, c, h.unsealKey)
	c = c.with(h.root)
	c.must(http.StatusNoContent, "POST", "sys/mounts/transit", map[string]any{"type": "transit"})
	c.must(http.StatusOK, "POST", "transit/keys/autounseal", map[string]any{})
	c.must(http.StatusNoContent, "PUT", "sys/policies/acl/autounseal", map[string]string{"policy": `
path "transit/encrypt/autounseal" { capabilities = ["update"] }
path "transit/decrypt/autounseal" { capabilities = ["update"] }`})
	h.token = lcCreateToken(t, c, "autounseal")
	return h
}

func (h *sealHub) start() {
	hcl := lcBoltHCL(h.dir)
	path := filepath.Join(h.dir, "ward.hcl")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hcl, h.addr)), 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.proc = startWard(h.t, h.addr, "http", nil, "server", "-config="+path)
}

// restart starts A again after a stop and unseals it.
func (h *sealHub) restart() {
	h.start()
	lcUnseal(h.t, newLCClient(h.t, h.proc.Addr, ""), h.unsealKey)
}

// transitSealHCL is B's seal block pointing at hub; extra lines go inside
// the block.
func transitSealHCL(h *sealHub, extra ...string) string {
	return fmt.Sprintf("seal \"transit\" {\n  address = %q\n  token = %q\n  key_name = \"autounseal\"\n  mount_path = \"transit/\"\n%s\n}\n",
		"http://"+h.addr, h.token, strings.Join(extra, "\n"))
}

// startAt is startConfig at a chosen address, so a node keeps its address
// across restarts.
func startAt(t *testing.T, dir, addr, hcl string) *serverProc {
	t.Helper()
	path := filepath.Join(dir, "ward.hcl")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hcl, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	return startWard(t, addr, "http", nil, "server", "-config="+path)
}

// waitUnsealed polls seal-status until the server is unsealed or the
// deadline passes, and returns how long it took.
func waitUnsealed(t *testing.T, c *vaultapi.Client, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st, err := c.Sys().SealStatus()
		if err == nil && !st.Sealed {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("still sealed after %v (last status %+v, %v)", within, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAutoUnsealThroughTransit(t *testing.T) {
	hub := startSealHub(t)
	dir, addr := t.TempDir(), freeAddr(t)
	hcl := lcBoltHCL(dir, transitSealHCL(hub))
	b := startAt(t, dir, addr, hcl)
	vc := vaultClient(t, b.Addr, "")

	st, err := vc.Sys().SealStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.Initialized || !st.Sealed || st.Type != "transit" || !st.RecoverySeal {
		t.Fatalf("fresh B seal-status = %+v", st)
	}
	// Unseal share counts make no sense with an auto-unseal seal.
	_, err = vc.Sys().Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 3})
	wantStatus(t, err, http.StatusBadRequest, "recovery_shares")
	initResp, err := vc.Sys().Init(&vaultapi.InitRequest{RecoveryShares: 5, RecoveryThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(initResp.Keys) != 0 || len(initResp.RecoveryKeys) != 5 || len(initResp.RecoveryKeysB64) != 5 || initResp.RootToken == "" {
		t.Fatalf("init = %d keys, %d recovery keys, %d base64", len(initResp.Keys), len(initResp.RecoveryKeys), len(initResp.RecoveryKeysB64))
	}
	// Init leaves an auto-unseal server unsealed.
	st, err = vc.Sys().SealStatus()
	if err != nil || st.Sealed || !st.Initialized || st.T != 3 || st.N != 5 || st.Migration {
		t.Fatalf("B after init = %+v, %v", st, err)
	}
	vc.SetToken(initResp.RootToken)
	if err := vc.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.KVv2("secret").Put(t.Context(), "db", map[string]any{"password": "hunter2"}); err != nil {
		t.Fatal(err)
	}
	// Recovery shares authorize generate-root.
	anon := withToken(t, vc, "")
	anon.ClearToken()
	gr, err := anon.Sys().GenerateRootInit("", "")
	if err != nil || gr.Required != 3 {
		t.Fatalf("generate-root start = %+v, %v", gr, err)
	}
	otp := gr.OTP
	for _, k := range initResp.RecoveryKeysB64[2:] {
		if gr, err = anon.Sys().GenerateRootUpdate(k, gr.Nonce); err != nil {
			t.Fatal(err)
		}
	}
	if !gr.Complete {
		t.Fatalf("generate-root after 3 recovery shares = %+v", gr)
	}
	self, err := withToken(t, vc, vaultDecodeRoot(t, gr.EncodedToken, otp)).Auth().Token().LookupSelf()
	if err != nil || fmt.Sprint(self.Data["policies"]) != "[root]" {
		t.Fatalf("lookup-self with the generated root token = %v, %v", self, err)
	}

	// B restarts and serves without any unseal call.
	if code := b.Stop(); code != 0 {
		t.Fatalf("B exit code %d", code)
	}
	b = startAt(t, dir, addr, hcl)
	took := waitUnsealed(t, vc, 10*time.Second)
	t.Logf("B unsealed itself %v after answering", took)
	readSecret(t, vc, "hunter2")

	// With A down, B stays sealed, serves seal-status and health, and says why.
	b.Stop()
	hub.proc.Stop()
	b = startAt(t, dir, addr, hcl)
	time.Sleep(1500 * time.Millisecond)
	st, err = vc.Sys().SealStatus()
	if err != nil || !st.Sealed || !st.Initialized || st.Type != "transit" {
		t.Fatalf("B with A down: %+v, %v", st, err)
	}
	health := rawCall(t, "GET", b.Addr, "sys/health", "", nil)
	if health.Status != http.StatusServiceUnavailable {
		t.Fatalf("sys/health with A down: HTTP %d", health.Status)
	}
	if log := b.Stderr.String(); !strings.Contains(log, "auto-unseal: waiting for the seal") || !strings.Contains(log, "connection refused") {
		t.Fatalf("B's log does not say why it waits:\n%s", log)
	}
	if strings.Contains(b.Stderr.String(), hub.token) {
		t.Fatal("B's log holds the seal token")
	}
	// An auto-unseal server takes no unseal shares outside a migration.
	_, err = vc.Sys().Unseal(initResp.RecoveryKeysB64[0])
	wantStatus(t, err, http.StatusBadRequest, "unseals itself")
	// A comes back: B unseals within seconds.
	hub.restart()
	took = waitUnsealed(t, vc, 10*time.Second)
	t.Logf("B unsealed %v after A came back", took)
	readSecret(t, vc, "hunter2")

	// Neither the seal token nor the secret is in B's storage files.
	b.Stop()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	scanned := 0
	for _, f := range files {
		if filepath.Base(f) == "ward.hcl" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // a directory
		}
		scanned++
		for _, canary := range []string{hub.token, "hunter2"} {
			if strings.Contains(string(raw), canary) {
				t.Fatalf("%s holds %q in the clear", f, canary)
			}
		}
	}
	if scanned == 0 {
		t.Fatalf("scanned %d files of B's data directory, want the bolt file", scanned)
	}
}

func readSecret(t *testing.T, vc *vaultapi.Client, want string) {
	t.Helper()
	s, err := vc.KVv2("secret").Get(t.Context(), "db")
	if err != nil {
		t.Fatal(err)
	}
	if s.Data["password"] != want {
		t.Fatalf("secret/db = %v, want password %q", s.Data, want)
	}
}

// TestSealMigration moves an existing Shamir server to the transit seal and
// back, keeping its data and its operators' shares.
func TestSealMigration(t *testing.T) {
	hub := startSealHub(t)
	dir, addr := t.TempDir(), freeAddr(t)
	shamirHCL := lcBoltHCL(dir)
	c := startAt(t, dir, addr, shamirHCL)
	vc := vaultClient(t, c.Addr, "")
	initResp, err := vc.Sys().Init(&vaultapi.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	shares := initResp.KeysB64
	for _, k := range shares[:2] {
		if _, err := vc.Sys().Unseal(k); err != nil {
			t.Fatal(err)
		}
	}
	vc.SetToken(initResp.RootToken)
	if err := vc.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.KVv2("secret").Put(t.Context(), "db", map[string]any{"password": "hunter2"}); err != nil {
		t.Fatal(err)
	}
	c.Stop()

	// Shamir -> transit: the seal block is added; the node waits for -migrate.
	c = startAt(t, dir, addr, lcBoltHCL(dir, transitSealHCL(hub)))
	st, err := vc.Sys().SealStatus()
	if err != nil || !st.Sealed || !st.Migration || st.Type != "transit" || st.T != 2 {
		t.Fatalf("pending migration status = %+v, %v", st, err)
	}
	_, err = vc.Sys().Unseal(shares[0])
	wantStatus(t, err, http.StatusBadRequest, "migrate")
	for i, k := range []string{shares[2], shares[0]} {
		st, err = vc.Sys().UnsealWithOptions(&vaultapi.UnsealOpts{Key: k, Migrate: true})
		if err != nil {
			t.Fatalf("migrate unseal %d: %v", i, err)
		}
	}
	if st.Sealed || st.Migration || st.Type != "transit" || !st.RecoverySeal || st.N != 3 || st.T != 2 {
		t.Fatalf("after migration: %+v", st)
	}
	readSecret(t, vc, "hunter2")
	c.Stop()
	c = startAt(t, dir, addr, lcBoltHCL(dir, transitSealHCL(hub)))
	waitUnsealed(t, vc, 10*time.Second)
	readSecret(t, vc, "hunter2")
	c.Stop()

	// Transit -> Shamir: the transit block is marked disabled; the old unseal
	// shares, now recovery shares, become unseal shares again.
	back := lcBoltHCL(dir, transitSealHCL(hub, "  disabled = true"))
	c = startAt(t, dir, addr, back)
	st, err = vc.Sys().SealStatus()
	if err != nil || !st.Sealed || !st.Migration || st.Type != "shamir" {
		t.Fatalf("pending migration back: %+v, %v", st, err)
	}
	// A wrong share set is refused and migrates nothing.
	bogus := "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh"
	for _, k := range []string{shares[1], bogus} {
		st, err = vc.Sys().UnsealWithOptions(&vaultapi.UnsealOpts{Key: k, Migrate: true})
	}
	wantStatus(t, err, http.StatusBadRequest, "do not combine to this server's key")
	for _, k := range []string{shares[1], shares[2]} {
		if st, err = vc.Sys().UnsealWithOptions(&vaultapi.UnsealOpts{Key: k, Migrate: true}); err != nil {
			t.Fatal(err)
		}
	}
	if st.Sealed || st.Migration || st.Type != "shamir" || st.RecoverySeal || st.N != 3 || st.T != 2 {
		t.Fatalf("after migrating back: %+v", st)
	}
	readSecret(t, vc, "hunter2")
	c.Stop()
	startAt(t, dir, addr, shamirHCL)
	for _, k := range shares[1:] {
		if st, err = vc.Sys().Unseal(k); err != nil {
			t.Fatal(err)
		}
	}
	if st.Sealed {
		t.Fatalf("Shamir unseal after migrating back: %+v", st)
	}
	readSecret(t, vc, "hunter2")
}

// TestAutoUnsealConfigErrors: a server whose root key is protected by a
// transit seal refuses to start without the seal block.
func TestAutoUnsealConfigErrors(t *testing.T) {
	hub := startSealHub(t)
	dir, addr := t.TempDir(), freeAddr(t)
	b := startAt(t, dir, addr, lcBoltHCL(dir, transitSealHCL(hub)))
	vc := vaultClient(t, b.Addr, "")
	if _, err := vc.Sys().Init(&vaultapi.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1}); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	path := filepath.Join(dir, "ward.hcl")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(lcBoltHCL(dir), addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := lcRunWard(t, "server", "-config="+path)
	if code == 0 || !strings.Contains(out, `the root key is protected by the transit seal, but the configuration has no seal "transit" block`) {
		t.Fatalf("start without the seal block: exit %d:\n%s", code, out)
	}
}
