package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestPolicyCommands(t *testing.T) {
	f := setup(t)
	file := filepath.Join(t.TempDir(), "app.hcl")
	rules := "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n"
	os.WriteFile(file, []byte(rules), 0o644)

	r := must(t, runCLI(t, "", "policy", "write", "app", file), 0)
	contains(t, r.out, "Success! Uploaded policy: app")
	if f.policies["app"] != rules {
		t.Errorf("stored rules = %q", f.policies["app"])
	}
	must(t, runCLI(t, `path "x" { capabilities = ["list"] }`, "policy", "write", "fromstdin", "-"), 0)
	if f.policies["fromstdin"] == "" {
		t.Error("policy from stdin not stored")
	}
	must(t, runCLI(t, "", "policy", "write", "app", filepath.Join(t.TempDir(), "missing.hcl")), 1)

	r = must(t, runCLI(t, "", "policy", "read", "app"), 0)
	if r.out != rules {
		t.Errorf("read = %q", r.out)
	}
	r = must(t, runCLI(t, "", "policy", "read", "-format=json", "app"), 0)
	var p map[string]string
	if err := json.Unmarshal([]byte(r.out), &p); err != nil || p["name"] != "app" || p["policy"] != rules {
		t.Errorf("read json = %q", r.out)
	}
	r = must(t, runCLI(t, "", "policy", "read", "nope"), 1)
	contains(t, r.err, `error: no policy named "nope"`)

	r = must(t, runCLI(t, "", "policy", "list"), 0)
	if r.out != "app\ndefault\nfromstdin\nroot\n" {
		t.Errorf("list = %q", r.out)
	}
	must(t, runCLI(t, "", "policy", "delete", "app"), 0)
	if _, ok := f.policies["app"]; ok {
		t.Error("policy not deleted")
	}
	r = must(t, runCLI(t, "", "policy", "delete", "default"), 1)
	contains(t, r.err, "cannot delete default policy")
}

func TestPolicyFmt(t *testing.T) {
	setup(t)
	file := filepath.Join(t.TempDir(), "p.hcl")
	os.WriteFile(file, []byte("path \"a/*\"   {\ncapabilities=[\"read\",\"list\"]\n}"), 0o640)
	r := must(t, runCLI(t, "", "policy", "fmt", file), 0)
	contains(t, r.out, "Success! Formatted policy: "+file)
	b, _ := os.ReadFile(file)
	want := "path \"a/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
	if string(b) != want {
		t.Errorf("formatted:\n%s\nwant:\n%s", b, want)
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", info.Mode())
	}

	bad := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(bad, []byte("path \"a\" {"), 0o644)
	must(t, runCLI(t, "", "policy", "fmt", bad), 1)
	if b, _ := os.ReadFile(bad); string(b) != "path \"a\" {" {
		t.Error("a failed fmt changed the file")
	}
}
