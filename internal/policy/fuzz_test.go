package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that an error always comes with
// a nil policy and is a *ParseError, that parsing is deterministic, and
// that a compiled policy grants exactly what it declared on its own exact
// patterns.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("dev", string(b))
	}
	f.Add("default", DefaultPolicy)
	f.Add("response-wrapping", ResponseWrappingPolicy)
	f.Add("x", `path "a/{{identity.entity.id" {}`)
	f.Add("x", `{"path": {"a": {"allowed_parameters": {"k": [1, "v"]}}}}`)
	f.Add("x", "path \"a\" {\n  capabilities = <<EOT\nread\nEOT\n}")
	f.Add("x", `path "a" { min_wrapping_ttl = 1.5 }`)
	f.Add("Root", ``)

	f.Fuzz(func(t *testing.T, name, text string) {
		p, err := Parse(name, text)
		if err != nil {
			if p != nil {
				t.Fatalf("error %v with a non-nil policy", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			return
		}
		again, err := Parse(name, text)
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("Parse is not deterministic: %v", err)
		}
		acl, err := Compile([]*Policy{p}, TemplateData{})
		if err != nil {
			t.Fatalf("Compile of a parsed policy: %v", err)
		}
		for _, r := range p.Paths {
			g := compileGlob(r.Pattern)
			if r.Templated || !g.exact() {
				continue
			}
			if got := acl.Capabilities(r.Pattern); got != r.Capabilities {
				t.Fatalf("Capabilities(%q) = %s, declared %s", r.Pattern, got, r.Capabilities)
			}
		}
		_ = acl.AnyCapabilityUnder("secret/")
		_ = acl.Allowed(Check{Path: "secret/x", Op: Update, Params: map[string]any{"a": "b,c"}})
	})
}
