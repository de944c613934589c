package cert

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"web", "web", true},
		{"web", "Web", false},
		{"web", "web2", false},
		{"*", "", true},
		{"*", "anything.at/all", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.example.com.evil", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "a-b-b-c", true},
		{"**", "x", true},
		{"a.b", "aXb", false}, // "." is literal
	} {
		if got := glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzGlob checks glob against a regular expression built from the same
// pattern ("*" is ".*", everything else literal).
func FuzzGlob(f *testing.F) {
	f.Add("*.example.com", "a.example.com")
	f.Add("a*a", "a")
	f.Add("a*b*c", "a-b-b-c")
	f.Add("spiffe://x/*/sa/*", "spiffe://x/ns/sa/web")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re, err := regexp.Compile(`\A(?s:` + strings.Join(parts, ".*") + `)\z`)
		if err != nil {
			t.Skip()
		}
		if got, want := glob(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("glob(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
