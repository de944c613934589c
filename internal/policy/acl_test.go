package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// compileTexts parses each text as a policy named p0, p1, … and compiles them.
func compileTexts(t testing.TB, ident TemplateData, texts ...string) *ACL {
	t.Helper()
	var ps []*Policy
	for i, text := range texts {
		ps = append(ps, mustParse(t, fmt.Sprintf("p%d", i), text))
	}
	acl, err := Compile(ps, ident)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return acl
}

// hclList renders a list of strings in HCL.
func hclList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// rules renders pattern→capabilities pairs as one policy text.
func rules(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		var caps []string
		if pairs[i+1] != "" {
			caps = strings.Split(pairs[i+1], ",")
		}
		fmt.Fprintf(&b, "path %q { capabilities = %s }\n", pairs[i], hclList(caps))
	}
	return b.String()
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		rules []string // pattern, capabilities pairs
		path  string
		want  Capability
	}{
		{"exact beats glob deny", []string{"secret/*", "deny", "secret/foo", "read"}, "secret/foo", Read},
		{"glob deny elsewhere", []string{"secret/*", "deny", "secret/foo", "read"}, "secret/bar", Deny},
		{"exact only matches itself", []string{"secret/foo", "read"}, "secret/foo/bar", 0},
		{"no match is zero", []string{"secret/*", "read"}, "sys/mounts", 0},
		{"star matches its own prefix", []string{"secret/foo*", "read"}, "secret/foo", Read},
		{"star is a string prefix", []string{"secret/foo*", "read"}, "secret/food", Read},
		{"star crosses segments", []string{"secret/foo*", "read"}, "secret/foo/bar/baz", Read},
		{"longer prefix wins", []string{"secret/*", "read", "secret/team/*", "list"}, "secret/team/x", List},
		{"shorter prefix elsewhere", []string{"secret/*", "read", "secret/team/*", "list"}, "secret/other", Read},
		{"bare star", []string{"*", "read"}, "anything/at/all", Read},
		// Rule 1: the first wildcard later wins.
		{"foo/a* over foo/+", []string{"foo/+", "list", "foo/a*", "read"}, "foo/ab", Read},
		{"foo/bar/+/baz over foo/+/bar/baz", []string{"foo/+/bar/baz", "list", "foo/bar/+/baz", "read"}, "foo/bar/bar/baz", Read},
		// Rule 2: not ending in * wins.
		{"foo/+/bar over foo/+/ba*", []string{"foo/+/ba*", "list", "foo/+/bar", "read"}, "foo/x/bar", Read},
		{"foo/+ over foo/*", []string{"foo/*", "list", "foo/+", "read"}, "foo/x", Read},
		{"foo/* where foo/+ cannot match", []string{"foo/*", "list", "foo/+", "read"}, "foo/x/y", List},
		// Rule 3: fewer + segments win.
		{"fewer plus", []string{"foo/+/+/baz", "list", "foo/+/bar/baz", "read"}, "foo/x/bar/baz", Read},
		// Rule 4: longer wins.
		{"foo/+/bar/ba* over foo/+/bar/b*", []string{"foo/+/bar/b*", "list", "foo/+/bar/ba*", "read"}, "foo/x/bar/baz", Read},
		// Rule 5: lexicographically larger wins.
		{"lexicographic", []string{"a/+/+/c", "list", "a/+/b/+", "read"}, "a/x/b/c", Read},
		// "+" is exactly one segment.
		{"plus one segment", []string{"secret/+/teamb", "read"}, "secret/x/teamb", Read},
		{"plus not two segments", []string{"secret/+/teamb", "read"}, "secret/x/y/teamb", 0},
		{"plus plus", []string{"secret/+/+/teamb", "read"}, "secret/x/y/teamb", Read},
		{"plus matches empty segment", []string{"secret/+/teamb", "read"}, "secret//teamb", Read},
		{"plus needs the rest", []string{"secret/+/teamb", "read"}, "secret/x/teamb/more", 0},
		{"plus then star", []string{"secret/+/team*", "read"}, "secret/x/teamb/more", Read},
		{"plus then slash star", []string{"secret/+/*", "read"}, "secret/x/", Read},
		{"plus then slash star needs slash", []string{"secret/+/*", "read"}, "secret/x", 0},
		{"plus at the end", []string{"secret/+", "read"}, "secret/x", Read},
		{"plus at the end not deeper", []string{"secret/+", "read"}, "secret/x/y", 0},
		{"leading plus", []string{"+/config", "read"}, "kv/config", Read},
		{"plus inside a segment is literal", []string{"a/b+c", "read"}, "a/b+c", Read},
		{"plus inside a segment is literal (miss)", []string{"a/b+c", "read"}, "a/bxc", 0},
		// Deny only applies within the deciding pattern.
		{"deny in the chosen pattern", []string{"secret/foo", "read,deny,sudo"}, "secret/foo", Deny},
		{"more specific grant beats broader deny", []string{"secret/team/*", "deny", "secret/team/pub/*", "read"}, "secret/team/pub/x", Read},
		{"more specific deny beats broader grant", []string{"secret/*", "read", "secret/team/prod/*", "deny"}, "secret/team/prod/x", Deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acl := compileTexts(t, TemplateData{}, rules(tt.rules...))
			if got := acl.Capabilities(tt.path); got != tt.want {
				t.Errorf("Capabilities(%q) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}

func TestMergeAcrossPolicies(t *testing.T) {
	acl := compileTexts(t, TemplateData{},
		rules("secret/*", "read", "secret/a", "read", "secret/b", "list"),
		rules("secret/*", "list,update", "secret/a", "deny", "other/*", "read"),
		rules("secret/b", "create"),
	)
	tests := []struct {
		path string
		want Capability
	}{
		{"secret/x", Read | List | Update}, // unioned
		{"secret/a", Deny},                 // deny wins
		{"secret/b", List | Create},
		{"other/y", Read},
	}
	for _, tt := range tests {
		if got := acl.Capabilities(tt.path); got != tt.want {
			t.Errorf("Capabilities(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestCompileDoesNotModifyPolicies(t *testing.T) {
	a := mustParse(t, "a", `path "x" {
  capabilities = ["update"]
  allowed_parameters = { "k" = ["1"] }
}`)
	b := mustParse(t, "b", `path "x" {
  capabilities = ["create"]
  allowed_parameters = { "k" = ["2"] }
}`)
	for range 2 {
		if _, err := Compile([]*Policy{a, b}, TemplateData{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Paths[0].AllowedParameters["k"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("policy a changed: %q", got)
	}
	if a.Paths[0].Capabilities != Update {
		t.Errorf("policy a caps changed: %s", a.Paths[0].Capabilities)
	}
}

func TestRootACL(t *testing.T) {
	other := mustParse(t, "other", rules("*", "deny"))
	acl, err := Compile([]*Policy{other, {Name: RootName}}, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	if !acl.Root() {
		t.Fatal("Root() = false")
	}
	if got := acl.Capabilities("sys/seal"); got != All {
		t.Errorf("root Capabilities = %s", got)
	}
	res := acl.Allowed(Check{Path: "sys/raw/x", Op: Delete, NeedSudo: true})
	if !res.Allowed || !res.RootPrivs {
		t.Errorf("root Allowed = %+v", res)
	}
	if !acl.AnyCapabilityUnder("anything/") {
		t.Error("root AnyCapabilityUnder = false")
	}

	acl, err = Compile([]*Policy{other}, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	if acl.Root() {
		t.Error("non-root ACL reports Root")
	}
}

func TestCompileRejectsNil(t *testing.T) {
	if _, err := Compile([]*Policy{nil}, TemplateData{}); err == nil {
		t.Error("Compile accepted a nil policy")
	}
	bad := &Policy{Name: "x", Paths: []PathRule{{Pattern: "a/*/b", Capabilities: Read}}}
	if _, err := Compile([]*Policy{bad}, TemplateData{}); err == nil {
		t.Error("Compile accepted an invalid hand-built pattern")
	}
}

func TestEmptyACL(t *testing.T) {
	acl, err := Compile(nil, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	if got := acl.Capabilities("secret/x"); got != 0 {
		t.Errorf("Capabilities = %s", got)
	}
	if res := acl.Allowed(Check{Path: "secret/x", Op: Read}); res.Allowed || res.Reason == "" {
		t.Errorf("Allowed = %+v", res)
	}
}

func TestListTrailingSlash(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, rules(
		"secret/metadata/app", "list",
		"kv/team*", "list",
		"kv/team/", "read",
	))
	tests := []struct {
		path string
		op   Capability
		want bool
	}{
		// An exact rule without the slash serves a list of "p/".
		{"secret/metadata/app/", List, true},
		{"secret/metadata/app/", Read, false},
		// Exact "kv/team/" decides before the glob for "kv/team".
		{"kv/team/", List, false},
		{"kv/team/", Read, true},
		{"kv/teams/", List, true},
	}
	for _, tt := range tests {
		res := acl.Allowed(Check{Path: tt.path, Op: tt.op})
		if res.Allowed != tt.want {
			t.Errorf("Allowed(%q, %s) = %+v, want %v", tt.path, tt.op, res, tt.want)
		}
	}
}

func TestAnyCapabilityUnder(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, rules(
		"secret/data/app/config", "read",
		"kv/*", "deny",
		"apps/+/shared/*", "read",
		"sys/mounts", "read",
		"tra*", "update",
		"pki/+/issue", "update",
		"empty/x", "",
	))
	tests := []struct {
		prefix string
		want   bool
	}{
		{"secret/", true},          // exact rule below
		{"secret/data/app/", true}, //
		{"secret/data/other/", false},
		{"kv/", false}, // only denied
		{"apps/", true},
		{"apps/x/", true},
		{"apps/x/sh", true},
		{"apps/x/y/", false},
		{"sys/", true},
		{"sys/mounts/", false}, // the exact rule is not below it
		{"transit/", true},     // tra* covers it
		{"tr", true},
		{"pki/", true},
		{"pki/roles/", true}, // pki/roles/issue would match pki/+/issue
		{"pki/roles/x", false},
		{"pki/x/issue", true},
		{"database/", false},
		{"empty/", false}, // a rule granting nothing does not count
	}
	for _, tt := range tests {
		if got := acl.AnyCapabilityUnder(tt.prefix); got != tt.want {
			t.Errorf("AnyCapabilityUnder(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

// TestIndexMatchesBruteForce checks the radix index against a linear scan
// that applies the precedence rules directly, over random patterns.
func TestIndexMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	segs := []string{"a", "b", "ab", "+", "ba", ""}
	randPattern := func() string {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = segs[rng.IntN(len(segs))]
		}
		p := strings.Join(parts, "/")
		if rng.IntN(2) == 0 && !strings.HasSuffix(p, "+") {
			p += "*"
		}
		return p
	}
	randPath := func() string {
		n := 1 + rng.IntN(5)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = []string{"a", "b", "ab", "ba", "abc", ""}[rng.IntN(6)]
		}
		return strings.Join(parts, "/")
	}
	capsList := []Capability{Read, List, Update, Deny, Create | Sudo}
	for round := range 200 {
		var text strings.Builder
		n := 1 + rng.IntN(30)
		for range n {
			p := randPattern()
			if p == "" || p == "/" {
				continue
			}
			fmt.Fprintf(&text, "path %q { capabilities = %s }\n", p, hclList(capsList[rng.IntN(len(capsList))].Names()))
		}
		pol, err := Parse("r", text.String())
		if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, text.String())
		}
		acl, err := Compile([]*Policy{pol}, TemplateData{})
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			path := randPath()
			var best *glob
			var want Capability
			for i := range pol.Paths {
				g := compileGlob(pol.Paths[i].Pattern)
				if g.match(path) && (best == nil || higher(&g, best)) {
					best, want = &g, pol.Paths[i].Capabilities
				}
			}
			if got := acl.Capabilities(path); got != want {
				t.Fatalf("round %d: Capabilities(%q) = %s, want %s (pattern %q)\n%s",
					round, path, got, want, best.pattern, text.String())
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		match, under  bool
	}{
		{"secret/foo", "secret/foo", true, true},
		{"secret/foo", "secret/fo", false, true},
		{"secret/foo", "secret/foo/", false, false},
		{"secret/foo*", "secret/foo/x", true, true},
		{"secret/foo*", "secret/f", false, true},
		{"secret/+/x", "secret/a/x", true, true},
		{"secret/+/x", "secret/a", false, true},
		{"secret/+/x", "secret/a/", false, true},
		{"secret/+/x", "secret/a/y", false, false},
		{"secret/+/x*", "secret/a/xyz/q", true, true},
		{"+", "", true, true},
		{"+", "a/", false, false},
		{"*", "", true, true},
	}
	for _, tt := range tests {
		g := compileGlob(tt.pattern)
		if got := g.match(tt.path); got != tt.match {
			t.Errorf("%q match %q = %v, want %v", tt.pattern, tt.path, got, tt.match)
		}
		if got := g.matchesUnder(tt.path); got != tt.under {
			t.Errorf("%q matchesUnder %q = %v, want %v", tt.pattern, tt.path, got, tt.under)
		}
	}
}
