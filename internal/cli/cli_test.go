package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/api"
)

type result struct {
	out, err string
	code     int
}

// isolate points the CLI at addr with token "root" and a fresh HOME, and
// blanks every other variable the CLI reads.
func isolate(t *testing.T, addr string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	for _, n := range []string{"ADDR", "TOKEN", "CACERT", "SKIP_VERIFY", "FORMAT"} {
		t.Setenv("WARD_"+n, "")
		t.Setenv("VAULT_"+n, "")
	}
	t.Setenv("WARD_ADDR", addr)
	t.Setenv("WARD_TOKEN", "root")
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := Run(args, strings.NewReader(stdin), &out, &errb)
	return result{out: out.String(), err: errb.String(), code: code}
}

// setup starts a fake server and isolates the environment.
func setup(t *testing.T) *fakeServer {
	f := newFakeServer(t)
	isolate(t, f.srv.URL)
	return f
}

func must(t *testing.T, r result, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.out, r.err)
	}
	return r
}

func contains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

// row checks that a table in out has a line "key<4+ spaces>value".
func row(t *testing.T, out, key, value string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` {4,}` + regexp.QuoteMeta(value) + `$`)
	if !re.MatchString(out) {
		t.Errorf("table lacks row %q = %q:\n%s", key, value, out)
	}
}

func TestTopLevel(t *testing.T) {
	setup(t)
	r := must(t, runCLI(t, "", nil...), 0)
	contains(t, r.out, "Usage: ward <command>", "kv put", "operator unseal", "WARD_ADDR", "Exit codes")
	r = must(t, runCLI(t, "", "frobnicate"), 2)
	contains(t, r.err, `error: unknown command "frobnicate"`, "hint:")
	r = must(t, runCLI(t, "", "kv"), 0)
	contains(t, r.out, "Usage: ward kv <subcommand>", "metadata get", "put")
	must(t, runCLI(t, "", "kv", "frobnicate"), 2)
	r = must(t, runCLI(t, "", "kv", "metadata"), 0)
	contains(t, r.out, "get", "put", "delete")
	r = must(t, runCLI(t, "", "version"), 0)
	if r.out != "Ward v"+api.Version+"\n" {
		t.Errorf("version = %q", r.out)
	}
	r = must(t, runCLI(t, "", "help", "kv", "put"), 0)
	contains(t, r.out, "Usage: ward kv put")
}

// Every command explains itself with a usage line, an example and its own
// flags, and exits 0 for -h.
func TestEveryCommandHasHelp(t *testing.T) {
	setup(t)
	for name := range commands {
		if name == "server" {
			continue
		}
		for _, h := range []string{"-h", "--help"} {
			r := runCLI(t, "", append(strings.Fields(name), h)...)
			if r.code != 0 || !strings.HasPrefix(r.out, "Usage: ward "+name) || !strings.Contains(r.out, "Example") {
				t.Errorf("%s %s: code %d, help:\n%s%s", name, h, r.code, r.out, r.err)
			}
		}
	}
	r := runCLI(t, "", "kv", "put", "-h")
	contains(t, r.out, "-cas", "-mount", "KEY=@FILE", "Global flags")
	if strings.Contains(r.out, "-tls-skip-verify\n") {
		t.Error("global flags listed among the command's own")
	}
}

func TestUsageErrors(t *testing.T) {
	setup(t)
	cases := [][]string{
		{"kv", "get"},                        // missing PATH
		{"kv", "get", "a", "b"},              // extra argument
		{"kv", "put", "secret/x"},            // no data
		{"kv", "put", "secret/x", "novalue"}, // not KEY=VALUE
		{"kv", "get", "-bogus", "secret/x"},  // unknown flag
		{"status", "-format=yaml"},           // unknown format
		{"token", "revoke"},                  // nothing to revoke
		{"write", "secret/x"},                // no data without -force
		{"operator", "init", "-key-shares=2", "-key-threshold=3"},
		{"login", "-method=ldap"},
	}
	for _, args := range cases {
		r := runCLI(t, "", args...)
		if r.code != 2 || !strings.HasPrefix(r.err, "error: ") || !strings.Contains(r.err, "hint: run `ward ") {
			t.Errorf("%v: code %d, stderr %q", args, r.code, r.err)
		}
	}
}

// A mistyped argument may be a secret; usage errors must not echo it.
func TestUsageErrorsDoNotEchoArguments(t *testing.T) {
	setup(t)
	for _, args := range [][]string{
		{"kv", "put", "secret/x", "hunter2-secret"},
		{"operator", "unseal", "key-share", "hunter2-secret"},
	} {
		r := must(t, runCLI(t, "", args...), 2)
		if strings.Contains(r.err, "hunter2") {
			t.Errorf("%v: stderr echoes the argument: %s", args, r.err)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	f := setup(t)
	must(t, runCLI(t, "", "kv", "put", "secret/app", "user=u", "-cas=0"), 0)
	if opts := f.last().Body["options"].(map[string]any); opts["cas"] != json.Number("0") {
		t.Errorf("cas after data not applied: %v", opts)
	}
	r := must(t, runCLI(t, "", "kv", "get", "secret/app", "-format=json"), 0)
	var s api.Secret
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("json output: %v\n%s", err, r.out)
	}
	// "--" ends flag parsing: a value that starts with "-" stays data.
	must(t, runCLI(t, "", "kv", "put", "secret/dash", "--", "-weird=value"), 0)
	if d := f.kv2["dash"][0].data; d["-weird"] != "value" {
		t.Errorf("data after -- = %v", d)
	}
}

func TestKVv2(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw.txt")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)

	r := must(t, runCLI(t, "stdin-value\n", "kv", "put", "secret/app", "user=u", "password=@"+pw, "note=-"), 0)
	contains(t, r.out, "== Secret Path ==\nsecret/data/app\n", "== Metadata ==", "version            1", "deletion_time      n/a")
	req := f.last()
	if req.Method != "PUT" || req.Path != "secret/data/app" {
		t.Errorf("put went to %s %s", req.Method, req.Path)
	}
	data := req.Body["data"].(map[string]any)
	if data["user"] != "u" || data["password"] != "from-file\n" || data["note"] != "stdin-value" {
		t.Errorf("put data = %q", data)
	}

	r = must(t, runCLI(t, "", "kv", "get", "secret/app"), 0)
	want := "== Secret Path ==\nsecret/data/app\n\n== Metadata ==\n" +
		"Key                Value\n---                -----\n" +
		"created_time       2024-01-01T00:00:00Z\ncustom_metadata    <nil>\ndeletion_time      n/a\n" +
		"destroyed          false\nversion            1\n\n== Data ==\n" +
		"Key         Value\n---         -----\nnote        stdin-value\npassword    from-file\n\nuser        u\n"
	if r.out != want {
		t.Errorf("kv get table:\n%s\nwant:\n%s", r.out, want)
	}
	r = must(t, runCLI(t, "", "kv", "get", "-field=user", "secret/app"), 0)
	if r.out != "u\n" {
		t.Errorf("-field = %q", r.out)
	}
	must(t, runCLI(t, "", "kv", "get", "-field=nope", "secret/app"), 1)
	r = must(t, runCLI(t, "", "kv", "get", "-mount=secret", "app"), 0)
	contains(t, r.out, "secret/data/app")

	// JSON on stdin keeps types.
	must(t, runCLI(t, `{"port": 5432, "tls": true}`, "kv", "put", "secret/app", "-"), 0)
	if d := f.last().Body["data"].(map[string]any); d["port"] != json.Number("5432") || d["tls"] != true {
		t.Errorf("JSON data = %#v", d)
	}
	r = must(t, runCLI(t, "", "kv", "get", "-version=1", "-format=json", "secret/app"), 0)
	if f.last().Query != "version=1" {
		t.Errorf("version query = %q", f.last().Query)
	}
	contains(t, r.out, `"user": "u"`)

	r = must(t, runCLI(t, "", "kv", "put", "-cas=1", "secret/app", "a=b"), 1)
	contains(t, r.err, "error: ", "check-and-set parameter did not match", "hint: the key changed")

	must(t, runCLI(t, "", "kv", "patch", "secret/app", "user=v"), 0)
	if req := f.last(); req.Method != "PATCH" {
		t.Errorf("patch sent %s", req.Method)
	}
	if d := f.kv2["app"][2].data; d["user"] != "v" || d["port"] != json.Number("5432") {
		t.Errorf("patched data = %v", d)
	}
	f.noPatch = true
	must(t, runCLI(t, "", "kv", "patch", "secret/app", "user=w"), 0)
	if req := f.last(); req.Method != "PUT" || req.Body["options"].(map[string]any)["cas"] != json.Number("3") {
		t.Errorf("fallback write = %+v", req)
	}

	r = must(t, runCLI(t, "", "kv", "list", "secret/"), 0)
	if r.out != "Keys\n----\napp\n" {
		t.Errorf("list = %q", r.out)
	}
	must(t, runCLI(t, "", "kv", "delete", "secret/app"), 0)
	r = must(t, runCLI(t, "", "kv", "get", "secret/app"), 0)
	contains(t, r.out, "== Metadata ==", "deletion_time      2024-01-02")
	contains(t, r.err, "deleted or destroyed")
	if strings.Contains(r.out, "== Data ==") {
		t.Error("deleted version printed a data section")
	}
	must(t, runCLI(t, "", "kv", "undelete", "-versions=4", "secret/app"), 0)
	if req := f.last(); req.Path != "secret/undelete/app" || len(req.Body["versions"].([]any)) != 1 {
		t.Errorf("undelete = %+v", req)
	}
	must(t, runCLI(t, "", "kv", "undelete", "secret/app"), 2) // -versions required
	must(t, runCLI(t, "", "kv", "destroy", "-versions=1,2", "secret/app"), 0)
	must(t, runCLI(t, "", "kv", "delete", "-versions=1", "secret/app"), 0)
	if req := f.last(); req.Path != "secret/delete/app" {
		t.Errorf("delete -versions went to %s", req.Path)
	}
	r = must(t, runCLI(t, "", "kv", "get", "secret/missing"), 1)
	contains(t, r.err, "error: no value found at secret/data/missing")
	r = must(t, runCLI(t, "", "kv", "get", "secret/data/app"), 1)
	contains(t, r.err, "hint: kv commands add data/ themselves")
}

func TestKVMetadata(t *testing.T) {
	f := setup(t)
	must(t, runCLI(t, "", "kv", "put", "secret/app", "a=1"), 0)
	must(t, runCLI(t, "", "kv", "put", "secret/app", "a=2"), 0)
	r := must(t, runCLI(t, "", "kv", "metadata", "get", "secret/app"), 0)
	contains(t, r.out, "== Metadata Path ==\nsecret/metadata/app", "== Version 1 ==", "== Version 2 ==")
	row(t, r.out, "current_version", "2")
	if strings.Index(r.out, "== Version 1 ==") > strings.Index(r.out, "== Version 2 ==") {
		t.Error("versions not in order")
	}
	must(t, runCLI(t, "", "kv", "metadata", "put", "-max-versions=5", "-cas-required", "-delete-version-after=1h",
		"-custom-metadata=owner=ops", "-custom-metadata=team=a", "secret/app"), 0)
	b := f.last().Body
	cm := b["custom_metadata"].(map[string]any)
	if b["max_versions"] != json.Number("5") || b["cas_required"] != true || b["delete_version_after"] != "1h0m0s" ||
		cm["owner"] != "ops" || cm["team"] != "a" {
		t.Errorf("metadata put body = %v", b)
	}
	must(t, runCLI(t, "", "kv", "metadata", "put", "-max-versions=2", "secret/app"), 0)
	if _, sent := f.last().Body["cas_required"]; sent {
		t.Error("unset -cas-required was sent")
	}
	must(t, runCLI(t, "", "kv", "metadata", "delete", "secret/app"), 0)
	if _, ok := f.kv2["app"]; ok {
		t.Error("metadata delete did not reach the server")
	}
	must(t, runCLI(t, "", "kv", "metadata", "get", "kv/app"), 2) // v1 mount
}

func TestKVv1(t *testing.T) {
	f := setup(t)
	r := must(t, runCLI(t, "", "kv", "put", "kv/app/db", "k=v"), 0)
	contains(t, r.out, "Success! Data written to: kv/app/db")
	if f.last().Path != "kv/app/db" || f.last().Body["k"] != "v" {
		t.Errorf("v1 put = %+v", f.last())
	}
	r = must(t, runCLI(t, "", "kv", "get", "kv/app/db"), 0)
	row(t, r.out, "refresh_interval", "1h")
	row(t, r.out, "k", "v")
	must(t, runCLI(t, "", "kv", "put", "-cas=0", "kv/app/db", "k=v"), 2)
	r = must(t, runCLI(t, "", "kv", "list", "-format=json", "kv/app"), 0)
	var keys []string
	if err := json.Unmarshal([]byte(r.out), &keys); err != nil || len(keys) != 1 || keys[0] != "db" {
		t.Errorf("list json = %q (%v)", r.out, err)
	}
	must(t, runCLI(t, "", "kv", "delete", "kv/app/db"), 0)
	must(t, runCLI(t, "", "kv", "get", "kv/app/db"), 1)
}

func TestStatusExitCodes(t *testing.T) {
	f := setup(t)
	r := must(t, runCLI(t, "", "status"), 0)
	row(t, r.out, "Seal Type", "shamir")
	row(t, r.out, "Sealed", "false")
	row(t, r.out, "HA Enabled", "false")
	f.sealed = true
	r = must(t, runCLI(t, "", "status"), 2)
	row(t, r.out, "Unseal Progress", "0/3")
	r = must(t, runCLI(t, "", "status", "-format=json"), 2)
	var st map[string]any
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || st["sealed"] != true || st["ha_enabled"] != false {
		t.Errorf("status json: %v %v", st, err)
	}
	r = must(t, runCLI(t, "", "kv", "get", "secret/app"), 1)
	contains(t, r.err, "Vault is sealed", "hint: the server is sealed: unseal it with `ward operator unseal`")
}

func TestOperatorInitAndUnseal(t *testing.T) {
	f := setup(t)
	f.initialized, f.sealed = false, true
	t.Setenv("WARD_TOKEN", "")
	must(t, runCLI(t, "", "operator", "init", "-status"), 2)
	r := must(t, runCLI(t, "", "operator", "init"), 0)
	contains(t, r.out, "Unseal Key 1: key1==", "Unseal Key 5: key5==", "Initial Root Token: hvs.newroot", "5 key shares", "threshold of 3")
	if b := f.last().Body; b["secret_shares"] != json.Number("5") || b["secret_threshold"] != json.Number("3") {
		t.Errorf("init body = %v", b)
	}
	r = must(t, runCLI(t, "", "operator", "init"), 1)
	contains(t, r.err, "already initialized")
	r = must(t, runCLI(t, "", "operator", "init", "-status"), 0)
	contains(t, r.out, "Ward is initialized")

	r = must(t, runCLI(t, "", "operator", "unseal", "key1=="), 0)
	row(t, r.out, "Unseal Progress", "1/3")
	r = must(t, runCLI(t, "", "operator", "unseal", "-reset"), 0)
	row(t, r.out, "Unseal Progress", "0/3")
	must(t, runCLI(t, "", "operator", "unseal", "key1=="), 0)
	must(t, runCLI(t, "key2==\n", "operator", "unseal"), 0) // from stdin
	if k := f.lastTo("sys/unseal").Body["key"]; k != "key2==" {
		t.Errorf("stdin key sent as %v", k)
	}
	r = must(t, runCLI(t, "", "operator", "unseal", "-format=json", "key3=="), 0)
	var st api.SealStatus
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || st.Sealed {
		t.Errorf("after 3 shares: %+v %v", st, err)
	}
	r = must(t, runCLI(t, "", "operator", "unseal", "wrong"), 1)
	contains(t, r.err, "invalid key")
	must(t, runCLI(t, "", "operator", "unseal"), 2) // empty stdin: no key
}

func TestErrorHints(t *testing.T) {
	f := setup(t)
	t.Setenv("WARD_TOKEN", "wrong")
	r := must(t, runCLI(t, "", "policy", "list"), 1)
	contains(t, r.err, "error: list policies: code 403", "permission denied", "hint: check that WARD_TOKEN")
	t.Setenv("WARD_TOKEN", "")
	r = must(t, runCLI(t, "", "policy", "list"), 1)
	contains(t, r.err, "hint: no token is set: run `ward login` or set WARD_TOKEN")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("WARD_ADDR", addr)
	r = must(t, runCLI(t, "", "status"), 1)
	contains(t, r.err, "error: ", "hint: is a server running at "+addr+"? Set WARD_ADDR or -address")

	r = must(t, runCLI(t, "", "status", "-address="+f.srv.URL, "-tls-skip-verify"), 0)
	t.Setenv("WARD_ADDR", "https://"+strings.TrimPrefix(f.srv.URL, "http://"))
	r = must(t, runCLI(t, "", "status"), 1)
	contains(t, r.err, "hint: the server speaks plain HTTP")
	t.Setenv("WARD_SKIP_VERIFY", "maybe")
	must(t, runCLI(t, "", "status"), 2)
}

func TestVaultEnvFallback(t *testing.T) {
	f := setup(t)
	os.Unsetenv("WARD_ADDR")
	os.Unsetenv("WARD_TOKEN")
	t.Setenv("VAULT_ADDR", f.srv.URL)
	t.Setenv("VAULT_TOKEN", "root")
	must(t, runCLI(t, "", "policy", "list"), 0)
	if f.last().Token != "root" {
		t.Errorf("VAULT_TOKEN not used: %q", f.last().Token)
	}
	os.Unsetenv("WARD_FORMAT")
	t.Setenv("VAULT_FORMAT", "json")
	r := must(t, runCLI(t, "", "policy", "list"), 0)
	var names []string
	if err := json.Unmarshal([]byte(r.out), &names); err != nil {
		t.Errorf("VAULT_FORMAT=json ignored: %q", r.out)
	}
}

func TestSecretsAndAuth(t *testing.T) {
	f := setup(t)
	r := must(t, runCLI(t, "", "secrets", "enable", "kv-v2"), 0)
	contains(t, r.out, "Success! Enabled the kv-v2 secrets engine at: kv-v2/")
	req := f.last()
	if req.Method != "POST" || req.Path != "sys/mounts/kv-v2/" || req.Body["type"] != "kv" ||
		req.Body["options"].(map[string]any)["version"] != "2" {
		t.Errorf("enable kv-v2 = %+v", req)
	}
	must(t, runCLI(t, "", "secrets", "enable", "-path=team/", "-version=2", "-description=team secrets", "-max-lease-ttl=1h", "kv"), 0)
	req = f.last()
	if req.Path != "sys/mounts/team/" || req.Body["description"] != "team secrets" ||
		req.Body["config"].(map[string]any)["max_lease_ttl"] != "1h" || req.Body["options"].(map[string]any)["version"] != "2" {
		t.Errorf("enable with flags = %+v", req)
	}
	must(t, runCLI(t, "", "secrets", "enable", "-default-lease-ttl=soon", "kv"), 2)

	r = must(t, runCLI(t, "", "secrets", "list"), 0)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "Path ") || !strings.HasPrefix(lines[1], "---- ") ||
		!strings.HasPrefix(lines[2], "cubbyhole/ ") || !strings.Contains(r.out, "kv_aaaa1111") {
		t.Errorf("secrets list:\n%s", r.out)
	}
	r = must(t, runCLI(t, "", "secrets", "list", "-detailed"), 0)
	contains(t, r.out, "Default TTL", "map[version:2]", "local", "1h")
	must(t, runCLI(t, "", "secrets", "tune", "-description=new", "secret"), 0)
	if req := f.last(); req.Path != "sys/mounts/secret/tune" || req.Body["description"] != "new" {
		t.Errorf("tune = %+v", req)
	}
	must(t, runCLI(t, "", "secrets", "tune", "secret"), 2)
	must(t, runCLI(t, "", "secrets", "disable", "team"), 0)
	if req := f.last(); req.Method != "DELETE" || req.Path != "sys/mounts/team/" {
		t.Errorf("disable = %+v", req)
	}

	must(t, runCLI(t, "", "auth", "enable", "-path=people", "userpass"), 0)
	if req := f.last(); req.Path != "sys/auth/people/" || req.Body["type"] != "userpass" {
		t.Errorf("auth enable = %+v", req)
	}
	r = must(t, runCLI(t, "", "auth", "list"), 0)
	contains(t, r.out, "token/", "auth_token_1234")
	must(t, runCLI(t, "", "auth", "disable", "auth/people"), 0)
	if req := f.last(); req.Path != "sys/auth/people/" {
		t.Errorf("auth disable = %+v", req)
	}
}

func TestGenericCommands(t *testing.T) {
	f := setup(t)
	must(t, runCLI(t, "", "write", "kv/cfg", "num_uses=5", "renewable=false", "list=a", "list=b"), 0)
	b := f.last().Body
	if b["num_uses"] != "5" || b["renewable"] != "false" {
		t.Errorf("write must send strings: %#v", b)
	}
	if l, ok := b["list"].([]any); !ok || len(l) != 2 {
		t.Errorf("repeated key = %#v", b["list"])
	}
	r := must(t, runCLI(t, "", "read", "kv/cfg"), 0)
	row(t, r.out, "num_uses", "5")
	r = must(t, runCLI(t, "", "read", "-field=num_uses", "kv/cfg"), 0)
	if r.out != "5\n" {
		t.Errorf("read -field = %q", r.out)
	}
	must(t, runCLI(t, "", "read", "kv/none"), 1)
	r = must(t, runCLI(t, "", "list", "kv/"), 0)
	contains(t, r.out, "Keys\n----\ncfg\n")
	must(t, runCLI(t, "", "delete", "kv/cfg"), 0)
	r = must(t, runCLI(t, "", "write", "nowhere/x", "a=b"), 1)
	contains(t, r.err, "no handler for route", "hint: nothing is mounted there")

	r = must(t, runCLI(t, "", "unwrap", "wrap1"), 0)
	row(t, r.out, "secret_id", "s3cr3t")
	if req := f.last(); req.Body["token"] != "wrap1" || req.Token != "root" {
		t.Errorf("unwrap = %+v", req)
	}
	must(t, runCLI(t, "", "unwrap", "bogus"), 1)
}

func TestWrappedResponses(t *testing.T) {
	setup(t)
	must(t, runCLI(t, "", "kv", "put", "secret/app", "a=b"), 0)
	r := must(t, runCLI(t, "", "kv", "get", "-wrap-ttl=5m", "secret/app"), 0)
	row(t, r.out, "wrapping_token:", "wrap1")
	row(t, r.out, "wrapping_token_creation_path:", "secret/data/app") // the mount lookup was not wrapped
	row(t, r.out, "wrapping_token_ttl:", "5m")
	r = must(t, runCLI(t, "", "read", "-wrap-ttl=5m", "-field=wrapping_token", "secret/data/app"), 0)
	if r.out != "wrap1\n" {
		t.Errorf("-field=wrapping_token = %q", r.out)
	}
	r = must(t, runCLI(t, "", "kv", "get", "-wrap-ttl=5m", "-format=json", "secret/app"), 0)
	var s api.Secret
	if err := json.Unmarshal([]byte(r.out), &s); err != nil || s.WrapInfo == nil || s.WrapInfo.Token != "wrap1" {
		t.Errorf("wrapped json = %q, %v", r.out, err)
	}
}

func TestSortedCommandNames(t *testing.T) {
	names := sortedNames("")
	if !sort.StringsAreSorted(names) || len(names) < 30 {
		t.Errorf("commands = %v", names)
	}
}
