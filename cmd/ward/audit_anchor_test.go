package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A log rewritten consistently from some line on, or cut short cleanly,
// passes the offline chain check; anchored at the server's head with
// -device, verify catches both.
func TestAuditVerifyAnchoredAtServer(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	c := newLCClient(t, p.Addr, "root")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	auEnableFile(t, c, "file", logPath)
	for i := 0; i < 5; i++ {
		c.must(200, "GET", "sys/mounts", nil)
	}

	verify := func(file string) (int, string) {
		t.Helper()
		cmd := exec.Command("ward", "audit", "verify", "-device=file", file)
		cmd.Env = append(os.Environ(), "WARD_ADDR="+p.Addr, "WARD_TOKEN=root")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String()
	}
	if code, out := verify(logPath); code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("verify -device on the live log = %d\n%s", code, out)
	}

	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")

	// An insider edits line 3 and recomputes every later prev_hash.
	rewritten := make([]string, len(lines))
	copy(rewritten, lines)
	rewritten[2] = strings.Replace(rewritten[2], `"operation":"read"`, `"operation":"list"`, 1)
	if rewritten[2] == lines[2] {
		t.Fatalf("line 3 has no operation to change: %s", lines[2])
	}
	for i := 3; i < len(rewritten); i++ {
		var e map[string]any
		if err := json.Unmarshal([]byte(rewritten[i]), &e); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(rewritten[i-1]))
		old := `"prev_hash":"` + e["prev_hash"].(string) + `"`
		rewritten[i] = strings.Replace(rewritten[i], old, `"prev_hash":"`+hex.EncodeToString(sum[:])+`"`, 1)
	}
	forged := filepath.Join(dir, "forged.log")
	if err := os.WriteFile(forged, []byte(strings.Join(rewritten, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := auWard(t, "audit", "verify", forged); code != 0 {
		t.Fatalf("a consistent rewrite should pass the offline check (it is what -device is for): %d %s", code, out)
	}
	if code, out := verify(forged); code != 1 || !strings.Contains(out, "rewritten") {
		t.Fatalf("verify -device on a rewritten log = %d\n%s", code, out)
	}

	// Cutting the last lines off cleanly.
	cut := filepath.Join(dir, "cut.log")
	if err := os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-3], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(cut); code != 1 || !strings.Contains(out, "cut off the end") {
		t.Fatalf("verify -device on a shortened log = %d\n%s", code, out)
	}
}
