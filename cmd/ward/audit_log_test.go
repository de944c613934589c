package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuditCanary puts and gets a canary value through a real server with
// a file device and checks that the log has a request and a response line
// for each, with the canary, the token and its accessor only as HMACs, and
// that sys/audit-hash gives the HMAC the log holds.
func TestAuditCanary(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	logPath := filepath.Join(t.TempDir(), "audit.log")
	auEnableFile(t, root, "file", logPath)

	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/canary",
		map[string]string{"policy": `path "secret/data/canary" { capabilities = ["create", "read", "update"] }`})
	created := root.must(http.StatusOK, "POST", "auth/token/create", map[string]any{"policies": []string{"canary"}, "ttl": "1h"})
	token, _ := lcMap(t, created, "auth")["client_token"].(string)
	accessor, _ := lcMap(t, created, "auth")["accessor"].(string)
	if token == "" || accessor == "" {
		t.Fatalf("token create: %v", created)
	}
	user := root.with(token)
	canary := "canary-" + lcRandHex(t, 12)
	put := user.must(http.StatusOK, "POST", "secret/data/canary", map[string]any{"data": map[string]string{"password": canary}})
	got := user.must(http.StatusOK, "GET", "secret/data/canary", nil)
	if lcMap(t, got, "data", "data")["password"] != canary {
		t.Fatalf("read back %v", got)
	}

	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for what, secret := range map[string]string{"canary": canary, "token": token, "accessor": accessor} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds the %s in plain text", what)
		}
	}
	lines := auParseLines(t, logPath, raw)
	hash := auHash(t, root, "file", canary)
	tokenHash := auHash(t, root, "file", token)
	accessorHash := auHash(t, root, "file", accessor)

	// The token create's response carries the new token and accessor,
	// HMAC'd.
	createResp := auFind(lines, "response", "auth/token/create", "")
	if len(createResp) != 1 {
		t.Fatalf("want 1 response line for auth/token/create, got %d", len(createResp))
	}
	if a := createResp[0].str("response", "auth", "client_token"); a != tokenHash {
		t.Errorf("token create response: auth.client_token = %q, want %q", a, tokenHash)
	}
	if a := createResp[0].str("response", "auth", "accessor"); a != accessorHash {
		t.Errorf("token create response: auth.accessor = %q, want %q", a, accessorHash)
	}

	reqLines := auFind(lines, "request", "secret/data/canary", "")
	respLines := auFind(lines, "response", "secret/data/canary", "")
	if len(reqLines) != 2 || len(respLines) != 2 {
		t.Fatalf("want 2 request and 2 response lines for secret/data/canary, got %d and %d", len(reqLines), len(respLines))
	}
	for i, op := range []string{"create", "read"} {
		for _, l := range []auLine{reqLines[i], respLines[i]} {
			what := l.str("type") + " " + op
			if got := l.str("request", "operation"); got != op {
				t.Errorf("%s: operation %q", what, got)
			}
			checks := map[string][2]string{
				"auth.client_token":             {l.str("auth", "client_token"), tokenHash},
				"auth.accessor":                 {l.str("auth", "accessor"), accessorHash},
				"request.client_token":          {l.str("request", "client_token"), tokenHash},
				"request.client_token_accessor": {l.str("request", "client_token_accessor"), accessorHash},
				"request.mount_type":            {l.str("request", "mount_type"), "kv"},
				"request.mount_point":           {l.str("request", "mount_point"), "secret/"},
				"request.namespace.id":          {l.str("request", "namespace", "id"), "root"},
				"request.remote_address":        {l.str("request", "remote_address"), "127.0.0.1"},
				"auth.display_name":             {l.str("auth", "display_name"), "token"},
			}
			for field, c := range checks {
				if c[0] != c[1] {
					t.Errorf("%s: %s = %q, want %q", what, field, c[0], c[1])
				}
			}
			if pol, _ := l.val("auth", "policies").([]any); len(pol) != 2 || pol[0] != "canary" && pol[1] != "canary" {
				t.Errorf("%s: auth.policies = %v, want canary and default", what, l.val("auth", "policies"))
			}
			if l.str("time") == "" || l.val("seq") == nil {
				t.Errorf("%s: no time or seq: %s", what, l.Raw)
			}
		}
	}
	// The request ID the client got names the audit lines of its request.
	if id, _ := put["request_id"].(string); id == "" || reqLines[0].str("request", "id") != id || respLines[0].str("request", "id") != id {
		t.Errorf("put request_id %q; audit request.id %q and %q", id, reqLines[0].str("request", "id"), respLines[0].str("request", "id"))
	}
	for i, l := range []auLine{reqLines[0], respLines[0]} {
		if got := l.str("request", "data", "data", "password"); got != hash {
			t.Errorf("put %s line: request.data.data.password = %q, want sys/audit-hash's %q", []string{"request", "response"}[i], got, hash)
		}
	}
	if got := respLines[1].str("response", "data", "data", "password"); got != hash {
		t.Errorf("get response line: response.data.data.password = %q, want sys/audit-hash's %q", got, hash)
	}
	// Searching the log for the hash finds the lines that carried it: the
	// put's request line, its response line (which repeats the request)
	// and the get's response line.
	if n := strings.Count(string(raw), hash); n != 3 {
		t.Errorf("the hash of the canary occurs %d times in the log, want 3 (put request and response, get response)", n)
		for _, l := range lines {
			if strings.Contains(l.Raw, hash) {
				t.Log(l.Raw)
			}
		}
	}
	code, out, errOut := auWard(t, "audit", "verify", logPath)
	if code != 0 || !regexp.MustCompile(`^ok: \d+ lines, chain intact \(last seq \d+, last hash [0-9a-f]{64}\)\n$`).MatchString(out) {
		t.Errorf("ward audit verify: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// TestAuditOptOuts checks hmac_accessor=false and log_raw=true: each
// device keeps its own setting, and a default device beside them still
// HMACs everything.
func TestAuditOptOuts(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	dir := t.TempDir()
	auEnableFile(t, root, "hashed", filepath.Join(dir, "hashed.log"))
	auEnableFile(t, root, "accessor", filepath.Join(dir, "accessor.log"), "hmac_accessor", "false")
	auEnableFile(t, root, "raw", filepath.Join(dir, "raw.log"), "log_raw", "true")

	created := root.must(http.StatusOK, "POST", "auth/token/create", map[string]any{"policies": []string{"default"}})
	accessor, _ := lcMap(t, created, "auth")["accessor"].(string)
	canary := "canary-" + lcRandHex(t, 12)
	lcPutKV(t, root, "optout", map[string]any{"v": canary})

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hashed, acc, raw := read("hashed"), read("accessor"), read("raw")
	if strings.Contains(hashed, canary) || strings.Contains(hashed, accessor) {
		t.Error("the default device logged the canary or the accessor in plain text")
	}
	if !strings.Contains(acc, `"accessor":"`+accessor+`"`) {
		t.Error("hmac_accessor=false: the new token's accessor is not in the log in plain text")
	}
	if strings.Contains(acc, canary) {
		t.Error("hmac_accessor=false logged the canary in plain text")
	}
	if !strings.Contains(raw, canary) || !strings.Contains(raw, accessor) {
		t.Error("log_raw=true: the canary or the accessor is not in the log in plain text")
	}
	// Each device has its own key: the same value hashes differently.
	if auHash(t, root, "hashed", canary) == auHash(t, root, "accessor", canary) {
		t.Error("two devices share an HMAC key")
	}
}

// auTamperCase is one way of damaging a copy of a real log, and the line
// at which verify must report the break.
type auTamperCase struct {
	name   string
	damage func(lines []string) string // returns the new file content
	line   int                         // 1-based
}

// TestAuditVerifyDetectsTampering produces a log through the server and
// runs `ward audit verify` on damaged copies of it.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	auEnableFile(t, root, "file", logPath)
	for i := 0; i < 4; i++ {
		lcPutKV(t, root, "tamper", map[string]any{"n": lcRandHex(t, 4)})
		lcGetKV(t, root, "tamper")
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) < 10 {
		t.Fatalf("want at least 10 log lines, got %d", len(lines))
	}
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	cases := []auTamperCase{{
		// Change what line 5 says was done, keeping it valid JSON: the
		// next line's prev_hash no longer matches it, which blames it.
		name: "edited line",
		damage: func(ls []string) string {
			out := append([]string(nil), ls...)
			out[4] = strings.Replace(out[4], `"operation":"`, `"operation":"x`, 1)
			return join(out)
		},
		line: 5,
	}, {
		name: "deleted line",
		damage: func(ls []string) string {
			return join(append(append([]string(nil), ls[:3]...), ls[4:]...))
		},
		line: 4,
	}, {
		name: "swapped lines",
		damage: func(ls []string) string {
			out := append([]string(nil), ls...)
			out[6], out[7] = out[7], out[6]
			return join(out)
		},
		line: 7,
	}, {
		name: "cut-off last line",
		damage: func(ls []string) string {
			last := ls[len(ls)-1]
			return join(ls[:len(ls)-1]) + last[:len(last)/2]
		},
		line: len(lines),
	}}
	for _, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".log")
		if err := os.WriteFile(path, []byte(tc.damage(lines)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := auWard(t, "audit", "verify", path)
		want := regexp.MustCompile(`(?m)^error: ` + regexp.QuoteMeta(path) + `: line ` + strconv.Itoa(tc.line) + `: \S`)
		if code != 1 || !want.MatchString(errOut) || strings.Contains(out, "ok:") {
			t.Errorf("%s: ward audit verify: exit %d, want 1 and an error naming line %d\nstdout: %s\nstderr: %s", tc.name, code, tc.line, out, errOut)
		}
	}
	// The log itself, untouched, verifies.
	if code, out, errOut := auWard(t, "audit", "verify", logPath); code != 0 || !strings.HasPrefix(out, "ok: "+strconv.Itoa(len(lines))+" lines") {
		t.Errorf("intact log: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// TestAuditRotation renames the log, sends SIGHUP so the device reopens
// its path, and checks that the chain continues into the new file.
func TestAuditRotation(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	auEnableFile(t, root, "file", logPath)
	lcPutKV(t, root, "rotate", map[string]any{"n": "1"})
	lcGetKV(t, root, "rotate")

	old := logPath + ".1"
	if err := os.Rename(logPath, old); err != nil {
		t.Fatal(err)
	}
	// Until the signal the device still writes to the renamed file.
	lcGetKV(t, root, "rotate")
	before := len(auReadLog(t, old))
	p.Signal(syscall.SIGHUP)
	var newLines []auLine
	for i := 0; i < 100; i++ {
		lcGetKV(t, root, "rotate")
		if _, err := os.Stat(logPath); err == nil {
			if newLines = auReadLog(t, logPath); len(newLines) > 0 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(newLines) == 0 {
		t.Fatalf("no new log file at %s after SIGHUP", logPath)
	}
	lcPutKV(t, root, "rotate", map[string]any{"n": "2"})
	oldLines := auReadLog(t, old)
	if len(oldLines) < before {
		t.Fatalf("the rotated file shrank from %d to %d lines", before, len(oldLines))
	}
	newLines = auReadLog(t, logPath)
	lastOld, _ := oldLines[len(oldLines)-1].val("seq").(float64)
	firstNew, _ := newLines[0].val("seq").(float64)
	if firstNew != lastOld+1 {
		t.Errorf("the new file starts at seq %v, want %v (the old one ends at %v)", firstNew, lastOld+1, lastOld)
	}

	code, out, errOut := auWard(t, "audit", "verify", old, logPath)
	total := len(oldLines) + len(newLines)
	if code != 0 || !strings.HasPrefix(out, "ok: "+strconv.Itoa(total)+" lines, chain intact") {
		t.Errorf("verify old new: exit %d, want 0 and %d lines\nstdout: %s\nstderr: %s", code, total, out, errOut)
	}
	// Out of order, the chain does not hold.
	if code, _, errOut := auWard(t, "audit", "verify", logPath, old); code != 1 || !strings.Contains(errOut, "line ") {
		t.Errorf("verify new old: exit %d, want 1 naming a line\nstderr: %s", code, errOut)
	}
}
