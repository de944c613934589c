package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// decodePolicy reads the top level of a policy: "path" blocks and an ignored
// "name". Blocks for the same pattern are merged.
func decodePolicy(root *node) ([]PathRule, *ParseError) {
	var rules []PathRule
	index := map[string]int{}
	add := func(r PathRule) {
		if i, ok := index[r.Pattern]; ok {
			mergeRule(&rules[i], &r)
			return
		}
		index[r.Pattern] = len(rules)
		rules = append(rules, r)
	}
	for _, f := range root.fields {
		switch f.key {
		case "name":
		case "path":
			if err := decodePaths(f.val, f.line, add); err != nil {
				return nil, err
			}
		default:
			return nil, errAt(f.line, "unknown top-level key %q (expected \"path\")", f.key)
		}
	}
	return rules, nil
}

// decodePaths reads the value of a "path" key: an object mapping patterns to
// blocks (or, in JSON, to lists of blocks), or a list of such objects.
func decodePaths(v *node, line int, add func(PathRule)) *ParseError {
	switch v.kind {
	case kindList:
		for _, e := range v.elems {
			if err := decodePaths(e, line, add); err != nil {
				return err
			}
		}
		return nil
	case kindObject:
	default:
		return errAt(line, `"path" must be followed by a pattern and a block`)
	}
	for _, f := range v.fields {
		blocks := []*node{f.val}
		if f.val.kind == kindList {
			blocks = f.val.elems
		}
		for _, b := range blocks {
			if b.kind != kindObject {
				return errAt(f.line, "path %q: expected a block, got %s", f.key, b.describe())
			}
			r, err := decodeBlock(f.key, f.line, b)
			if err != nil {
				return err
			}
			add(r)
		}
	}
	return nil
}

// decodeBlock reads one `path "<pattern>" { … }` block.
func decodeBlock(pattern string, line int, b *node) (PathRule, *ParseError) {
	pattern = strings.TrimPrefix(pattern, "/")
	templated, err := checkPattern(pattern)
	if err != nil {
		return PathRule{}, errAt(line, "path %q: %v", pattern, err)
	}
	r := PathRule{Pattern: pattern, Templated: templated}
	seen := map[string]bool{}
	for _, f := range b.fields {
		if seen[f.key] {
			return PathRule{}, errAt(f.line, "duplicate key %q in path %q", f.key, pattern)
		}
		seen[f.key] = true
		bad := func(format string, args ...any) *ParseError {
			return errAt(f.line, "%s in path %q", fmt.Sprintf(format, args...), pattern)
		}
		switch f.key {
		case "capabilities":
			names, ok := stringList(f.val)
			if !ok {
				return PathRule{}, bad("capabilities must be a list of strings")
			}
			for _, n := range names {
				c, err := ParseCapability(n)
				if err != nil {
					return PathRule{}, bad("unknown capability %q", n)
				}
				r.Capabilities |= c
			}
		case "policy":
			s, ok := f.val.lit.(string)
			if !ok || f.val.kind != kindLiteral {
				return PathRule{}, bad("policy must be a string")
			}
			if s != "" {
				c, ok := legacyCapabilities(s)
				if !ok {
					return PathRule{}, bad(`policy must be "deny", "read", "write" or "sudo", not %q`, s)
				}
				r.Capabilities |= c
			}
		case "allowed_parameters", "denied_parameters":
			m, msg := paramMap(f.val)
			if msg != "" {
				return PathRule{}, bad("%s: %s", f.key, msg)
			}
			if f.key == "allowed_parameters" {
				r.AllowedParameters = m
			} else {
				r.DeniedParameters = m
			}
		case "required_parameters":
			names, ok := stringList(f.val)
			if !ok {
				return PathRule{}, bad("required_parameters must be a list of strings")
			}
			for _, n := range names {
				r.RequiredParameters = appendUnique(r.RequiredParameters, strings.ToLower(n))
			}
		case "min_wrapping_ttl", "max_wrapping_ttl":
			d, err := durationValue(f.val)
			if err != nil {
				return PathRule{}, bad("%s: %v", f.key, err)
			}
			if f.key == "min_wrapping_ttl" {
				r.MinWrappingTTL = d
			} else {
				r.MaxWrappingTTL = d
			}
		case "mfa_methods", "control_group":
			if !emptyValue(f.val) {
				return PathRule{}, bad("%s is not supported by Ward", f.key)
			}
		case "comment", "subscribe_event_types":
		default:
			return PathRule{}, bad("unknown key %q", f.key)
		}
	}
	if r.MinWrappingTTL > 0 && r.MaxWrappingTTL > 0 && r.MaxWrappingTTL < r.MinWrappingTTL {
		return PathRule{}, errAt(line, "path %q: max_wrapping_ttl must not be less than min_wrapping_ttl", pattern)
	}
	if r.Capabilities&Deny != 0 {
		r = PathRule{Pattern: r.Pattern, Capabilities: Deny, Templated: r.Templated}
	}
	return r, nil
}

func errAt(line int, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// stringList accepts a list of strings or a single string.
func stringList(v *node) ([]string, bool) {
	if v.kind == kindLiteral {
		s, ok := v.lit.(string)
		return []string{s}, ok
	}
	if v.kind != kindList {
		return nil, false
	}
	out := make([]string, 0, len(v.elems))
	for _, e := range v.elems {
		s, ok := e.lit.(string)
		if !ok || e.kind != kindLiteral {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// paramMap reads allowed_parameters or denied_parameters: parameter names to
// lists of literal values (a single literal counts as a one-element list).
// Values are kept in their string form; names are lower-cased.
func paramMap(v *node) (map[string][]string, string) {
	if v.kind != kindObject {
		return nil, "must be a block mapping parameter names to lists of values"
	}
	m := make(map[string][]string, len(v.fields))
	for _, f := range v.fields {
		var vals []string
		elems := []*node{f.val}
		if f.val.kind == kindList {
			elems = f.val.elems
		}
		vals = make([]string, 0, len(elems))
		for _, e := range elems {
			if e.kind != kindLiteral {
				return nil, fmt.Sprintf("values of %q must be literals", f.key)
			}
			vals = append(vals, literalString(e.lit))
		}
		mergeParamValues(m, strings.ToLower(f.key), vals)
	}
	return m, ""
}

// literalString is the string form of an HCL literal, matching valueString
// for the same value arriving in a request.
func literalString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// durationValue reads a wrapping TTL: a number of seconds, or a string that
// is a number of seconds or a Go duration ("90s", "1h30m"); a "d" suffix
// counts days. Negative values are rejected.
func durationValue(v *node) (time.Duration, error) {
	if v.kind != kindLiteral {
		return 0, fmt.Errorf("must be a duration, got %s", v.describe())
	}
	var d time.Duration
	switch x := v.lit.(type) {
	case int64:
		if x > math.MaxInt64/int64(time.Second) || x < 0 {
			return 0, fmt.Errorf("%d seconds is out of range", x)
		}
		d = time.Duration(x) * time.Second
	case float64:
		if x < 0 || x > float64(math.MaxInt64/int64(time.Second)) {
			return 0, fmt.Errorf("%v seconds is out of range", x)
		}
		d = time.Duration(x * float64(time.Second))
	case string:
		var err error
		if d, err = parseDuration(x); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("must be a duration, got %s", v.describe())
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

// emptyValue reports whether v is an empty list, block or string.
func emptyValue(v *node) bool {
	switch v.kind {
	case kindList:
		return len(v.elems) == 0
	case kindObject:
		return len(v.fields) == 0
	}
	s, ok := v.lit.(string)
	return ok && s == ""
}
