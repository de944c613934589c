package jwt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// claim returns the value of a claim, or nil. A name starting with "/" is a
// JSON pointer (RFC 6901) into nested claims ("/org/name", "/groups/0");
// any other name is a top-level claim, taken literally even if it holds a
// "/". That is how Vault reads bound_claims and claim_mappings keys.
func claim(claims map[string]any, name string) any {
	if !strings.HasPrefix(name, "/") {
		return claims[name]
	}
	var cur any = claims
	for _, raw := range strings.Split(name[1:], "/") {
		tok := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[tok]
			if !ok {
				return nil
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) || (len(tok) > 1 && tok[0] == '0') {
				return nil
			}
			cur = node[i]
		default:
			return nil
		}
	}
	return cur
}

// scalarString renders a string, number or bool claim as a string; ok is
// false for objects, lists and null.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// checkBoundClaims checks every bound claim: the claim must be present and
// one of its values (a list claim has many) must equal, or with glob match,
// one of the bound values. Only string claim values can match.
func checkBoundClaims(claims map[string]any, bound map[string][]string, glob bool) error {
	for name, want := range bound {
		v := claim(claims, name)
		if v == nil {
			return fmt.Errorf("claim %q is missing", name)
		}
		actual, ok := v.([]any)
		if !ok {
			actual = []any{v}
		}
		if !anyMatch(actual, want, glob) {
			return fmt.Errorf("claim %q does not match any associated bound claim values", name)
		}
	}
	return nil
}

func anyMatch(actual []any, want []string, glob bool) bool {
	for _, a := range actual {
		s, ok := a.(string)
		if !ok {
			continue
		}
		for _, w := range want {
			if s == w || (glob && globMatch(w, s)) {
				return true
			}
		}
	}
	return false
}

// globMatch reports whether s matches pattern, where "*" stands for any
// run of characters (possibly empty) and every other character for itself.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// mappedMetadata applies claim_mappings: each present claim becomes the
// metadata key it maps to. A mapped claim that is not a string, number or
// bool is an error; an absent one is skipped.
func mappedMetadata(claims map[string]any, mappings map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(mappings))
	for name, key := range mappings {
		v := claim(claims, name)
		if v == nil {
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, fmt.Errorf("claim %q could not be converted to a string for metadata key %q", name, key)
		}
		out[key] = s
	}
	return out, nil
}

// groups reads the groups claim: a list of strings or a single string.
func groups(claims map[string]any, name string) ([]string, error) {
	v := claim(claims, name)
	if v == nil {
		return nil, fmt.Errorf("%q claim not found in token", name)
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]string, 0, len(list))
	for _, g := range list {
		s, ok := g.(string)
		if !ok {
			return nil, fmt.Errorf("%q claim must hold strings", name)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// audiences reads the aud claim, a string or a list of strings.
func audiences(claims map[string]any) ([]string, error) {
	switch x := claims["aud"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, a := range x {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("aud claim must be a string or a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("aud claim must be a string or a list of strings")
}
