package policy

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustParse(t testing.TB, name, text string) *Policy {
	t.Helper()
	p, err := Parse(name, text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", name, err)
	}
	return p
}

func TestParseTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		p := mustParse(t, "t", readTestdata(t, filepath.Base(f)))
		if len(p.Paths) == 0 {
			t.Errorf("%s: no paths parsed", f)
		}
	}
}

func TestParseBasics(t *testing.T) {
	p := mustParse(t, "Team-A", readTestdata(t, "team.hcl"))
	if p.Name != "team-a" {
		t.Errorf("name = %q, want lower-cased", p.Name)
	}
	if p.Raw != readTestdata(t, "team.hcl") {
		t.Error("Raw is not the given text")
	}
	want := []struct {
		pattern string
		caps    Capability
	}{
		{"secret/data/team-a/*", Create | Read | Update | Patch | List},
		{"secret/metadata/team-a/*", Read | List | Delete},
		{"secret/data/team-a/prod/*", Deny},
		{"secret/data/+/shared", Read},
		{"transit/encrypt/team-a", Update}, // leading "/" dropped
	}
	if len(p.Paths) != len(want) {
		t.Fatalf("got %d paths, want %d", len(p.Paths), len(want))
	}
	for i, w := range want {
		if got := p.Paths[i]; got.Pattern != w.pattern || got.Capabilities != w.caps {
			t.Errorf("path %d = %q %s, want %q %s", i, got.Pattern, got.Capabilities, w.pattern, w.caps)
		}
	}
}

func TestParseJSONMatchesHCL(t *testing.T) {
	h := mustParse(t, "t", readTestdata(t, "team.hcl"))
	j := mustParse(t, "t", readTestdata(t, "team.json"))
	if !reflect.DeepEqual(h.Paths, j.Paths) {
		t.Errorf("JSON paths differ from HCL:\n%+v\n%+v", j.Paths, h.Paths)
	}
}

func TestParseJSONParameters(t *testing.T) {
	// The JSON parser flattens a block whose values are all objects into
	// separate items; the result must still be one rule.
	p := mustParse(t, "t", `{"path": {"a/*": {
		"allowed_parameters": {"Name": ["x", 5, 1.5]},
		"denied_parameters": {"bad": []}
	}}}`)
	if len(p.Paths) != 1 {
		t.Fatalf("got %d rules, want 1: %+v", len(p.Paths), p.Paths)
	}
	r := p.Paths[0]
	if got := r.AllowedParameters["name"]; !reflect.DeepEqual(got, []string{"x", "5", "1.5"}) {
		t.Errorf("allowed name = %q", got)
	}
	if got, ok := r.DeniedParameters["bad"]; !ok || len(got) != 0 {
		t.Errorf("denied bad = %q, %v", got, ok)
	}
}

func TestParseLegacyPolicyKey(t *testing.T) {
	const write = Create | Read | Update | Delete | List
	tests := []struct {
		value string
		want  Capability
	}{
		{"deny", Deny},
		{"read", Read | List},
		{"write", write},
		{"sudo", write | Sudo},
	}
	for _, tt := range tests {
		p := mustParse(t, "t", `path "a" { policy = "`+tt.value+`" }`)
		if got := p.Paths[0].Capabilities; got != tt.want {
			t.Errorf("policy = %q: got %s, want %s", tt.value, got, tt.want)
		}
	}
	// Legacy and modern keys are unioned; deny beats both.
	p := mustParse(t, "t", readTestdata(t, "legacy.hcl"))
	got := map[string]Capability{}
	for _, r := range p.Paths {
		got[r.Pattern] = r.Capabilities
	}
	want := map[string]Capability{
		"sys/*": Deny, "secret/*": write, "secret/super-secret": Deny, "secret/public": Read | List | Update,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("legacy.hcl = %v, want %v", got, want)
	}
}

func TestParseMergesRepeatedBlocks(t *testing.T) {
	p := mustParse(t, "t", `
path "a/*" {
  capabilities = ["read"]
  allowed_parameters = { "x" = ["1"] }
  min_wrapping_ttl = "10m"
}
path "b" { capabilities = ["list"] }
path "a/*" {
  capabilities = ["update"]
  allowed_parameters = { "x" = ["2"], "y" = [] }
  required_parameters = ["Z"]
  min_wrapping_ttl = "5m"
}`)
	if len(p.Paths) != 2 || p.Paths[0].Pattern != "a/*" || p.Paths[1].Pattern != "b" {
		t.Fatalf("paths = %+v", p.Paths)
	}
	r := p.Paths[0]
	if r.Capabilities != Read|Update {
		t.Errorf("caps = %s", r.Capabilities)
	}
	if want := map[string][]string{"x": {"1", "2"}, "y": {}}; !reflect.DeepEqual(r.AllowedParameters, want) {
		t.Errorf("allowed = %v, want %v", r.AllowedParameters, want)
	}
	if !reflect.DeepEqual(r.RequiredParameters, []string{"z"}) {
		t.Errorf("required = %v", r.RequiredParameters)
	}
	if r.MinWrappingTTL != 5*time.Minute {
		t.Errorf("min wrapping = %v, want the lower 5m", r.MinWrappingTTL)
	}
}

func TestParseWrappingTTL(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
	}{
		{`"90s"`, 90 * time.Second},
		{`"1h30m"`, 90 * time.Minute},
		{`300`, 300 * time.Second},
		{`"300"`, 300 * time.Second},
		{`"2d"`, 48 * time.Hour},
	}
	for _, tt := range tests {
		p := mustParse(t, "t", `path "a" { max_wrapping_ttl = `+tt.value+` }`)
		if got := p.Paths[0].MaxWrappingTTL; got != tt.want {
			t.Errorf("max_wrapping_ttl = %s: got %v, want %v", tt.value, got, tt.want)
		}
	}
	// Equal bounds are allowed (Vault rejects only max < min).
	mustParse(t, "t", `path "a" { min_wrapping_ttl = "1m"
max_wrapping_ttl = 60 }`)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // the whole message, or a substring when prefixed by "~"
		line       int
	}{
		{"dev", "path \"secret/*\" {\n  capabilities = [\"read\"]\n  capabilitiez = [\"read\"]\n}",
			`parse policy "dev": line 3: unknown key "capabilitiez" in path "secret/*"`, 3},
		{"dev", "\n\npath \"secret/*\" {\n  capabilities = [\"reed\"]\n}",
			`parse policy "dev": line 4: unknown capability "reed" in path "secret/*"`, 4},
		{"dev", `path "a" { capabilities = ["subscribe"] }`, `~unknown capability "subscribe"`, 1},
		{"dev", `path "a" { capabilities = [1] }`, "~capabilities must be a list of strings", 1},
		{"dev", "path \"a\" {}\npath \"secret/*/foo\" {}",
			`parse policy "dev": line 2: path "secret/*/foo": "*" is only allowed as the last character`, 2},
		{"dev", `path "secret/**" {}`, `~"*" is only allowed as the last character`, 1},
		{"dev", `path "secret/+*" {}`, `~"+*" is not allowed`, 1},
		{"dev", `path "" {}`, "~empty path pattern", 1},
		{"dev", `path "a/{{identity.entity.id" {}`, `~"{{" without "}}"`, 1},
		{"dev", `path "a/identity.entity.id}}" {}`, `~"}}" without "{{"`, 1},
		{"dev", `path "a/{{ {{identity.entity.id}} }}" {}`, `~"{{" inside`, 1},
		{"dev", `path "a/{{identity.entity.nmae}}" {}`, `~unknown template "{{identity.entity.nmae}}"`, 1},
		{"dev", `path "a/{{identity.entity.metadata.}}" {}`, `~unknown template`, 1},
		{"dev", `path "a/{{identity.entity.id}}*/b" {}`, `~"*" is only allowed as the last character`, 1},
		{"dev", "path \"a\" {\n min_wrapping_ttl = \"2m\"\n max_wrapping_ttl = \"1m\"\n}",
			`parse policy "dev": line 1: path "a": max_wrapping_ttl must not be less than min_wrapping_ttl`, 1},
		{"dev", `path "a" { max_wrapping_ttl = "soon" }`, `~max_wrapping_ttl: invalid duration "soon"`, 1},
		{"dev", `path "a" { max_wrapping_ttl = -5 }`, "~max_wrapping_ttl: -5 seconds is out of range", 1},
		{"dev", `path "a" { policy = "admin" }`, `~policy must be "deny", "read", "write" or "sudo", not "admin"`, 1},
		{"dev", `path "a" { mfa_methods = ["totp"] }`, "~mfa_methods is not supported by Ward", 1},
		{"dev", `path "a" { control_group = { max_ttl = "1h" } }`, "~control_group is not supported by Ward", 1},
		{"dev", `path "a" { allowed_parameters = ["x"] }`, "~allowed_parameters: must be a block", 1},
		{"dev", `path "a" { allowed_parameters = { "x" = [["y"]] } }`, `~values of "x" must be literals`, 1},
		{"dev", "\nrules \"a\" {}", `parse policy "dev": line 2: unknown top-level key "rules" (expected "path")`, 2},
		{"dev", `{"path": {"a": "read"}}`, `~path "a": expected a block, got a string`, 0},
		{"dev", `{"path": {"a": {"allowed_parameters": {"x": [true]}}}}`, "~invalid JSON: lists may hold only", 0},
		{"dev", `{"path": {"a": {"capabilities": [["deny"]]}}}`, "~invalid JSON: lists may hold only", 0},
		{"dev", `{"path": {"a": {}}} {}`, "~invalid JSON: trailing data", 0},
		{"dev", `{"path": {"a": {},}}`, "~invalid JSON", 0},
		{"dev", "path \"a\" {\n  capabilities = [\"read\"]\n", "~invalid syntax", 3},
		{"dev", `path "a" { capabilities = ["read"] capabilities = ["list"] }`, "~was already set", 0},
		{"dev", `{"path": {"a": {"capabilities": ["read"], "capabilitiez": []}}}`,
			`parse policy "dev": unknown key "capabilitiez" in path "a"`, 0},
		{"", `path "a" {}`, `parse policy "": name is empty`, 0},
		{"a/b", `path "a" {}`, `~name must not contain "/"`, 0},
		{"a..b", `path "a" {}`, `~name must not contain ".."`, 0},
		{"ROOT", `path "a" {}`, `parse policy "ROOT": name "root" is reserved`, 0},
		{" x", `path "a" {}`, "~whitespace", 0},
		{"a\x00", `path "a" {}`, "~control characters", 0},
	}
	for _, tt := range tests {
		p, err := Parse(tt.name, tt.text)
		if err == nil {
			t.Errorf("Parse(%q, %q) succeeded, want %q", tt.name, tt.text, tt.want)
			continue
		}
		if p != nil {
			t.Errorf("Parse(%q) returned a policy with an error", tt.text)
		}
		msg := err.Error()
		if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
			if !strings.Contains(msg, sub) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.text, msg, sub)
			}
		} else if msg != tt.want {
			t.Errorf("Parse(%q) error =\n  %q, want\n  %q", tt.text, msg, tt.want)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("error %T is not a *ParseError", err)
		} else if tt.line > 0 && pe.Line != tt.line {
			t.Errorf("Parse(%q) line = %d, want %d", tt.text, pe.Line, tt.line)
		}
	}
}

func TestParseIgnoredKeys(t *testing.T) {
	p := mustParse(t, "t", `
name = "ignored"
path "a" {
  capabilities          = ["read"]
  comment               = "note"
  subscribe_event_types = ["kv*"]
  mfa_methods           = []
}`)
	if len(p.Paths) != 1 || p.Paths[0].Capabilities != Read {
		t.Errorf("paths = %+v", p.Paths)
	}
}

func TestParseEmptyPolicy(t *testing.T) {
	p := mustParse(t, "empty", "# nothing yet\n")
	if len(p.Paths) != 0 {
		t.Errorf("paths = %+v", p.Paths)
	}
}

func TestDecodeText(t *testing.T) {
	text := readTestdata(t, "team.hcl")
	enc := base64.StdEncoding.EncodeToString([]byte(text))
	if got := DecodeText(enc); got != text {
		t.Errorf("DecodeText(base64) = %q, want the HCL", got)
	}
	if got := DecodeText("  " + enc + "\n"); got != text {
		t.Error("DecodeText does not trim surrounding whitespace")
	}
	if got := DecodeText(text); got != text {
		t.Error("DecodeText changed plain HCL")
	}
	// Valid base64 that is not a policy stays as it is.
	junk := base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0x00})
	if got := DecodeText(junk); got != junk {
		t.Errorf("DecodeText(%q) = %q", junk, got)
	}
	notHCL := base64.StdEncoding.EncodeToString([]byte(`path "a" {`))
	if got := DecodeText(notHCL); got != notHCL {
		t.Errorf("DecodeText decoded text that does not parse: %q", got)
	}
}

func TestBuiltinPolicies(t *testing.T) {
	def := mustParse(t, DefaultName, DefaultPolicy)
	rw := mustParse(t, ResponseWrappingName, ResponseWrappingPolicy)
	acl, err := Compile([]*Policy{def}, TemplateData{EntityID: "e-1", EntityName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want Capability
	}{
		{"auth/token/lookup-self", Read},
		{"auth/token/renew-self", Update},
		{"auth/token/revoke-self", Update},
		{"sys/capabilities-self", Update},
		{"identity/entity/id/e-1", Read},
		{"identity/entity/id/e-2", 0},
		{"identity/entity/name/alice", Read},
		{"sys/internal/ui/resultant-acl", Read},
		{"sys/renew", Update},
		{"sys/leases/renew", Update},
		{"sys/leases/lookup", Update},
		{"cubbyhole/anything/here", Create | Read | Update | Delete | List},
		{"sys/wrapping/wrap", Update},
		{"sys/wrapping/lookup", Update},
		{"sys/wrapping/unwrap", Update},
		{"sys/tools/hash", Update},
		{"sys/tools/hash/sha2-256", Update},
		{"sys/control-group/request", Update},
		{"identity/oidc/provider/p1/authorize", Read | Update},
		{"secret/data/x", 0},
		{"auth/token/create", 0},
	}
	for _, tt := range tests {
		if got := acl.Capabilities(tt.path); got != tt.want {
			t.Errorf("default: Capabilities(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
	acl, err = Compile([]*Policy{rw}, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Capability{
		"cubbyhole/response": Create | Read, "sys/wrapping/unwrap": Update, "cubbyhole/other": 0,
	} {
		if got := acl.Capabilities(path); got != want {
			t.Errorf("response-wrapping: Capabilities(%q) = %s, want %s", path, got, want)
		}
	}
}

func TestParseDeepNesting(t *testing.T) {
	deep := []string{
		`path "a" { x = ` + strings.Repeat("[", 100000) + ` }`,
		`{"path":` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}",
	}
	for _, text := range deep {
		start := time.Now()
		_, err := Parse("x", text)
		if err == nil || !strings.Contains(err.Error(), "nesting deeper than 32 levels") {
			t.Errorf("deep input: err = %.100v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("deep input took %v", d)
		}
	}
	// Brackets in strings and comments do not count.
	many := strings.Repeat("[{", 40)
	text := "# " + many + "\n// " + many + "\n/* " + many + " */\n" +
		`path "a/` + many + `\"" { comment = "` + many + `" }`
	if _, err := Parse("x", text); err != nil {
		t.Errorf("brackets in strings/comments: %v", err)
	}
}
