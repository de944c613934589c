package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLifecycleConfigErrors checks that `ward server -config` refuses bad
// configurations with exit status 2 and an error naming the file, the line
// and the field, before it opens storage or a port.
func TestLifecycleConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, hcl string
		want      []string // in stderr, besides the file name
	}{{
		name: "unknown listener field",
		hcl: "storage \"bolt\" {\n  path = \"" + filepath.ToSlash(dir) + "/data\"\n}\n" +
			"listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n  tls_disabel = true\n}\n",
		want: []string{":7:", "tls_disabel"},
	}, {
		name: "unknown top-level field",
		hcl: "storage \"bolt\" {\n  path = \"" + filepath.ToSlash(dir) + "/data\"\n}\n" +
			"listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n\ndisable_mlok = true\n",
		want: []string{":9:", "disable_mlok"},
	}, {
		name: "missing storage path",
		hcl:  "# no path\n\nstorage \"bolt\" {\n}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n",
		want: []string{":3:", "path"},
	}, {
		name: "audit option typo",
		hcl: "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n" +
			"audit \"file\" {\n  options {\n    file_path = \"" + filepath.ToSlash(dir) + "/audit.log\"\n    log_raw = \"flase\"\n  }\n}\n",
		want: []string{":6:", "log_raw", "true or false"},
	}, {
		name: "missing TLS files",
		hcl:  "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n}\n",
		want: []string{":2:", "tls_cert_file"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".hcl")
			if err := os.WriteFile(path, []byte(tc.hcl), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stderr := lcRunWard(t, "server", "-config="+path)
			if code != 2 {
				t.Fatalf("exit status %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range append([]string{path}, tc.want...) {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
			if !strings.Contains(stderr, path+tc.want[0]) {
				t.Errorf("stderr does not position the error as %s%s:\n%s", path, tc.want[0], stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("a refused configuration created its storage directory (%v)", err)
	}
	// A file that does not exist is also a configuration error.
	missing := filepath.Join(dir, "nope.hcl")
	if code, stderr := lcRunWard(t, "server", "-config="+missing); code != 2 || !strings.Contains(stderr, missing) {
		t.Errorf("missing config file: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestLifecycleDevFlags checks -dev-root-token-id and -dev-listen-address.
func TestLifecycleDevFlags(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	rootID := "lc-dev-root-" + lcRandHex(t, 4)
	p := startWard(t, addr, "http", nil, "server", "-dev", "-dev-root-token-id="+rootID, "-dev-listen-address="+addr)
	if p.Addr != "http://"+addr {
		t.Fatalf("address %q", p.Addr)
	}
	c := newLCClient(t, p.Addr, rootID)
	self := c.must(http.StatusOK, "GET", "auth/token/lookup-self", nil)
	if pols, _ := lcMap(t, self, "data")["policies"].([]any); len(pols) != 1 || pols[0] != "root" {
		t.Fatalf("lookup-self with the dev root token: %v", self)
	}
	lcPutKV(t, c, "dev/x", map[string]any{"a": "b"})
	lcWantErrors(t, c.with("root").do("GET", "secret/data/dev/x", nil), http.StatusForbidden, "permission denied")
	lcEventually(t, "the dev banner", func() bool { return strings.Contains(p.Stdout.String(), "Root Token: "+rootID) })
	if !strings.Contains(p.Stdout.String(), addr) {
		t.Errorf("the dev banner does not show the address %s:\n%s", addr, p.Stdout.String())
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}
}

// lcRunWard runs ward to completion (at most 10 seconds) and returns its
// exit status and stderr.
func lcRunWard(t testing.TB, args ...string) (int, string) {
	t.Helper()
	wardPath, err := exec.LookPath("ward")
	if err != nil {
		t.Fatalf("ward is not on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wardPath, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ward %s did not exit within 10s", strings.Join(args, " "))
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
