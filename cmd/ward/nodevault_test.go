package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeVaultDir holds the node-vault compatibility suite: a pinned
// node-vault in package.json/package-lock.json and test.mjs, which drives
// a server with it through node's built-in test runner.
const nodeVaultDir = "../../compat/nodevault"

// TestNodeVault runs compat/nodevault/test.mjs with node-vault, unchanged,
// against a fresh dev server. It is skipped only when node is not
// installed; .ci/run installs node and npm, so CI always runs it.
func TestNodeVault(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: skipping the node-vault compatibility test (install nodejs and npm to run it)")
	}
	dir, err := filepath.Abs(nodeVaultDir)
	if err != nil {
		t.Fatal(err)
	}
	installNodeModules(t, dir)

	srv := startDev(t)
	unsealKey := devUnsealKey(t, srv)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// TAP output carries the "# pass N" / "# fail N" summary on every
	// node version from 18 on, whatever the terminal.
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap", "test.mjs")
	cmd.Dir = dir
	cmd.Env = append(envWithoutVault(), "VAULT_ADDR="+srv.Addr, "VAULT_TOKEN=root",
		"VAULT_UNSEAL_KEY="+unsealKey)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test test.mjs did not finish within 60s:\n%s", out)
	}
	if err != nil {
		t.Fatalf("node --test test.mjs: %v\n%s\nserver log:\n%s", err, out, srv.Stderr.String())
	}
	// The runner's summary must show tests that ran, and none failed or
	// skipped.
	if !strings.Contains(string(out), "# fail 0\n") || !strings.Contains(string(out), "# skipped 0\n") ||
		strings.Contains(string(out), "# pass 0\n") {
		t.Fatalf("node --test test.mjs passed without a clean summary:\n%s", out)
	}
}

// devUnsealKey returns the unseal key from the dev server's banner, which
// lets test.mjs seal and unseal the server. The banner is printed just
// after the listener opens, so it may lag the first answer a little.
func devUnsealKey(t *testing.T, srv *serverProc) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := srv.Stdout.String()
		if _, after, ok := strings.Cut(out, "Unseal Key: "); ok {
			if line, _, ok := strings.Cut(after, "\n"); ok && strings.TrimSpace(line) != "" {
				return strings.TrimSpace(line)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no unseal key in the dev banner within 5s:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// installNodeModules runs `npm ci` in dir unless node_modules exists.
func installNodeModules(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "node-vault")); err == nil {
		return
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not, and %s has no node_modules: install npm (apt-get install npm)", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v (timed out: %v)\n%s", dir, err, ctx.Err() != nil, out)
	}
}

// envWithoutVault returns the environment less VAULT_* variables, so that
// a developer's VAULT_NAMESPACE or VAULT_PREFIX cannot reach node-vault.
func envWithoutVault() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	return env
}
