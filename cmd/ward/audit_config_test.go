package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestAuditConfigDeclared declares a file device in the configuration
// file: it records from the first unsealed request, cannot be disabled
// through the API, and after a restart the same device (same HMAC key)
// continues the same chain in the same file.
func TestAuditConfigDeclared(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	hcl := lcBoltHCL(filepath.Join(dir, "data"),
		`audit "file" {`,
		`  description = "declared in the file"`,
		`  options {`,
		`    file_path = `+strconv.Quote(filepath.ToSlash(logPath)),
		`    mode      = "0640"`,
		`  }`,
		`}`)
	p := startConfig(t, dir, hcl)
	c := newLCClient(t, p.Addr, "")
	keys := lcInit(t, c, 1, 1)
	lcUnseal(t, c, keys.Hex[0])
	root := c.with(keys.Root)
	lcEnableKV2(t, root)
	lcPutKV(t, root, "declared", map[string]any{"v": "1"})

	list := lcMap(t, root.must(http.StatusOK, "GET", "sys/audit", nil), "data")
	dev, _ := list["file/"].(map[string]any)
	if dev == nil || dev["type"] != "file" || dev["description"] != "declared in the file" {
		t.Fatalf("sys/audit = %v, want the declared file/ device", list)
	}
	if opts, _ := dev["options"].(map[string]any); opts["file_path"] != filepath.ToSlash(logPath) {
		t.Errorf("declared device options = %v", dev["options"])
	}
	lcWantErrors(t, root.do("DELETE", "sys/audit/file", nil), http.StatusBadRequest, "configuration")
	if info, err := os.Stat(logPath); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("log file: %v, mode %v, want 0640", err, info.Mode())
	}
	hashBefore := auHash(t, root, "file", "same-key")
	before := auReadLog(t, logPath)
	if len(auFind(before, "request", "secret/data/declared", "create")) != 1 {
		t.Fatalf("the declared device did not record the write:\n%v", before)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, p.Stderr.String())
	}

	p = startConfig(t, dir, hcl)
	c = newLCClient(t, p.Addr, "")
	lcUnseal(t, c, keys.Hex[0])
	root = c.with(keys.Root)
	if got := lcGetKV(t, root, "declared")["v"]; got != "1" {
		t.Fatalf("after restart: %v", got)
	}
	if h := auHash(t, root, "file", "same-key"); h != hashBefore {
		t.Errorf("after restart the device hashes differently (%s, was %s): its key was not kept", h, hashBefore)
	}
	after := auReadLog(t, logPath)
	if len(after) <= len(before) {
		t.Fatalf("no lines were added after the restart (%d lines)", len(after))
	}
	lastSeq, _ := before[len(before)-1].val("seq").(float64)
	if seq, _ := after[len(before)].val("seq").(float64); seq != lastSeq+1 {
		t.Errorf("after the restart the chain went on at seq %v, want %v", seq, lastSeq+1)
	}
	if prev := after[len(before)].str("prev_hash"); prev == "" {
		t.Error("the first line after the restart has no prev_hash")
	}
	code, out, errOut := auWard(t, "audit", "verify", logPath)
	if code != 0 || !strings.HasPrefix(out, "ok: "+strconv.Itoa(len(after))+" lines, chain intact") {
		t.Errorf("verify across the restart: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// TestAuditVaultClient drives the audit endpoints with Vault's Go client,
// unchanged.
func TestAuditVaultClient(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	vc := vaultClient(t, p.Addr, "root")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "vault.log")
	err := vc.Sys().EnableAuditWithOptions("vault-file", &vaultapi.EnableAuditOptions{
		Type: "file", Description: "through the Vault client", Options: map[string]string{"file_path": logPath},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.Sys().EnableAudit("legacy", "file", "", map[string]string{"file_path": filepath.Join(dir, "legacy.log")}); err != nil {
		t.Fatalf("deprecated EnableAudit: %v", err)
	}
	list, err := vc.Sys().ListAudit()
	if err != nil {
		t.Fatal(err)
	}
	a := list["vault-file/"]
	if len(list) != 2 || a == nil || a.Type != "file" || a.Description != "through the Vault client" ||
		a.Options["file_path"] != logPath || a.Path != "vault-file/" || list["legacy/"] == nil {
		t.Fatalf("ListAudit = %+v (vault-file/: %+v)", list, a)
	}

	h, err := vc.Sys().AuditHash("vault-file", "find-me")
	if err != nil || !strings.HasPrefix(h, "hmac-sha256:") {
		t.Fatalf("AuditHash = %q, %v", h, err)
	}
	if _, err := vc.Logical().Write("secret/data/vc", map[string]any{"data": map[string]any{"k": "find-me"}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), h) || strings.Contains(string(raw), "find-me") {
		t.Errorf("the log should hold the AuditHash value and not the plain one:\n%s", raw)
	}
	_, err = vc.Sys().AuditHash("nothere", "x")
	wantStatus(t, err, http.StatusBadRequest, "nothere")

	if err := vc.Sys().DisableAudit("vault-file"); err != nil {
		t.Fatal(err)
	}
	if err := vc.Sys().DisableAudit("legacy"); err != nil {
		t.Fatal(err)
	}
	if list, err := vc.Sys().ListAudit(); err != nil || len(list) != 0 {
		t.Errorf("ListAudit after disabling = %+v, %v", list, err)
	}
}
