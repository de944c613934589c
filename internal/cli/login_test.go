package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestTokenFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if tok, err := readTokenFile(); tok != "" || err != nil {
		t.Fatalf("missing file: %q, %v", tok, err)
	}
	p, err := writeTokenFile("hvs.first")
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(home, ".ward-token") {
		t.Errorf("token file at %s", p)
	}
	info, err := os.Stat(p)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v", info.Mode(), err)
	}
	if _, err := writeTokenFile("hvs.second"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := readTokenFile(); tok != "hvs.second" {
		t.Errorf("read back %q", tok)
	}
	os.WriteFile(p, []byte("  hvs.spaced \n\n"), 0o600)
	if tok, _ := readTokenFile(); tok != "hvs.spaced" {
		t.Errorf("whitespace not trimmed: %q", tok)
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLogin(t *testing.T) {
	f := setup(t)
	t.Setenv("WARD_TOKEN", "")

	r := must(t, runCLI(t, "", "login", "root"), 0)
	contains(t, r.out, "Success! You are now authenticated")
	row(t, r.out, "token", "root")
	row(t, r.out, "policies", `["root"]`)
	if req := f.lastTo("auth/token/lookup-self"); req.Token != "root" {
		t.Errorf("lookup-self sent token %q", req.Token)
	}
	b, err := os.ReadFile(filepath.Join(os.Getenv("HOME"), ".ward-token"))
	if err != nil || string(b) != "root" {
		t.Fatalf("token file = %q, %v", b, err)
	}
	// Later commands find the saved token.
	must(t, runCLI(t, "", "policy", "list"), 0)
	if f.last().Token != "root" {
		t.Errorf("saved token not used: %q", f.last().Token)
	}

	r = must(t, runCLI(t, "", "login", "hvs.bogus"), 1)
	contains(t, r.err, "check token", "403")
	if b, _ := os.ReadFile(filepath.Join(os.Getenv("HOME"), ".ward-token")); string(b) != "root" {
		t.Errorf("failed login replaced the saved token with %q", b)
	}

	f.tokens["hvs.piped"] = []string{"default"}
	must(t, runCLI(t, "hvs.piped\n", "login", "-"), 0)
	if tok, _ := readTokenFile(); tok != "hvs.piped" {
		t.Errorf("token from stdin saved as %q", tok)
	}
	r = must(t, runCLI(t, "", "login", "-no-store", "-format=json", "root"), 0)
	var s struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil || s.Auth.ClientToken != "root" {
		t.Errorf("json login = %q, %v", r.out, err)
	}
	if tok, _ := readTokenFile(); tok != "hvs.piped" {
		t.Error("-no-store saved the token")
	}

	t.Setenv("WARD_TOKEN", "root")
	r = must(t, runCLI(t, "", "login", "root"), 0)
	contains(t, r.err, "warning: WARD_TOKEN")

	r = must(t, runCLI(t, "", "login", "-method=github"), 2)
	contains(t, r.err, `unknown login method "github"`)
}

func TestTokenCommands(t *testing.T) {
	f := setup(t)
	r := must(t, runCLI(t, "", "token", "create", "-policy=a", "-policy=b,c", "-metadata=team=x",
		"-ttl=1h", "-renewable=false", "-display-name=ci"), 0)
	row(t, r.out, "token_policies", `["default" "a" "b" "c"]`)
	row(t, r.out, "token_duration", "1h")
	row(t, r.out, "token_renewable", "false")
	row(t, r.out, "token_meta_team", "x")
	b := f.last().Body
	if f.last().Path != "auth/token/create" || b["ttl"] != "1h" || b["renewable"] != false || b["display_name"] != "ci" ||
		len(b["policies"].([]any)) != 3 || b["meta"].(map[string]any)["team"] != "x" {
		t.Errorf("create body = %v", b)
	}
	r = must(t, runCLI(t, "", "token", "create", "-orphan", "-field=token"), 0)
	if f.last().Path != "auth/token/create-orphan" || r.out == "" || r.out[:9] != "hvs.child" {
		t.Errorf("orphan -field=token: %q via %s", r.out, f.last().Path)
	}
	must(t, runCLI(t, "", "token", "create", "-ttl=forever"), 2)

	r = must(t, runCLI(t, "", "token", "lookup"), 0)
	row(t, r.out, "id", "root")
	row(t, r.out, "expire_time", "<nil>")
	must(t, runCLI(t, "", "token", "lookup", "root"), 0)
	if req := f.last(); req.Path != "auth/token/lookup" || req.Body["token"] != "root" {
		t.Errorf("lookup TOKEN = %+v", req)
	}

	r = must(t, runCLI(t, "", "token", "renew", "-increment=1h"), 0)
	row(t, r.out, "token_duration", "2h")
	if req := f.last(); req.Body["increment"] != json.Number("3600") {
		t.Errorf("renew body = %v", req.Body)
	}

	for _, tc := range []struct {
		args []string
		path string
	}{
		{[]string{"-self"}, "auth/token/revoke-self"},
		{[]string{"hvs.x"}, "auth/token/revoke"},
		{[]string{"-accessor", "acc1"}, "auth/token/revoke-accessor"},
		{[]string{"-mode=orphan", "hvs.x"}, "auth/token/revoke-orphan"},
	} {
		r := must(t, runCLI(t, "", append([]string{"token", "revoke"}, tc.args...)...), 0)
		contains(t, r.out, "Success! Revoked token")
		if f.last().Path != tc.path {
			t.Errorf("revoke %v went to %s", tc.args, f.last().Path)
		}
	}
	must(t, runCLI(t, "", "token", "revoke", "-self", "hvs.x"), 2)
	must(t, runCLI(t, "", "token", "revoke", "-mode=path", "hvs.x"), 2)

	r = must(t, runCLI(t, "", "token", "capabilities", "secret/data/x"), 0)
	if r.out != "read, update\n" {
		t.Errorf("capabilities = %q", r.out)
	}
	if req := f.last(); req.Path != "sys/capabilities-self" {
		t.Errorf("capabilities went to %s", req.Path)
	}
}

func TestWrapTTL(t *testing.T) {
	setup(t)
	must(t, runCLI(t, "", "token", "create", "-wrap-ttl=soon"), 2)
}
