package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicies builds 100 policies of 50 paths each: a mix of exact paths,
// prefixes and "+" segments spread over a few mounts, as a large deployment
// might hold. It also returns request paths that hit and miss them.
func benchPolicies(tb testing.TB) ([]*Policy, []string) {
	tb.Helper()
	var policies []*Policy
	var paths []string
	for i := range 100 {
		var b strings.Builder
		for j := range 50 {
			mount := []string{"secret/data", "kv", "transit/encrypt", "database/creds"}[j%4]
			switch j % 3 {
			case 0:
				fmt.Fprintf(&b, "path \"%s/team%d/app%d\" { capabilities = [\"read\"] }\n", mount, i, j)
				paths = append(paths, fmt.Sprintf("%s/team%d/app%d", mount, i, j))
			case 1:
				fmt.Fprintf(&b, "path \"%s/team%d/svc%d/*\" { capabilities = [\"read\", \"list\"] }\n", mount, i, j)
				paths = append(paths, fmt.Sprintf("%s/team%d/svc%d/config/db", mount, i, j))
			case 2:
				fmt.Fprintf(&b, "path \"%s/+/shared%d/*\" { capabilities = [\"read\"] }\n", mount, j)
				paths = append(paths, fmt.Sprintf("%s/team%d/shared%d/x", mount, i, j))
			}
		}
		policies = append(policies, mustParse(tb, fmt.Sprintf("team-%d", i), b.String()))
		paths = append(paths, fmt.Sprintf("secret/data/team%d/unknown/path", i))
	}
	return policies, paths
}

func BenchmarkCompile(b *testing.B) {
	policies, _ := benchPolicies(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(policies, TemplateData{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllowed(b *testing.B) {
	policies, paths := benchPolicies(b)
	acl, err := Compile(policies, TemplateData{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		acl.Allowed(Check{Path: paths[i%len(paths)], Op: Read})
		i++
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(DefaultName, DefaultPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchPoliciesDecide makes sure the benchmark measures real decisions.
func TestBenchPoliciesDecide(t *testing.T) {
	policies, paths := benchPolicies(t)
	acl, err := Compile(policies, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, p := range paths {
		if acl.Allowed(Check{Path: p, Op: Read}).Allowed {
			allowed++
		}
	}
	if want := len(paths) - 100; allowed != want {
		t.Errorf("%d of %d bench paths allowed, want %d", allowed, len(paths), want)
	}
}
