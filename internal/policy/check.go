package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check describes one authorisation question.
type Check struct {
	// Path is the request path without "/v1/"; list requests end in "/".
	Path string
	// Op is the capability the operation needs: Create, Read, Update,
	// Patch, Delete or List. (Renew, revoke and similar map to Update.)
	Op Capability
	// NeedSudo is set for root-protected paths, which also need Sudo.
	NeedSudo bool
	// Params is the request data, checked against the parameter rules for
	// Create, Read, Update and Patch.
	Params map[string]any
	// WrapTTL is the response-wrapping TTL the request asked for, 0 for none.
	WrapTTL time.Duration
}

// Result is the answer to a Check.
type Result struct {
	Allowed bool
	// Reason says why a request was denied, for logs and audit; it names
	// capabilities and parameter names, never values. Clients should only
	// be told "permission denied".
	Reason string
	// RootPrivs reports that the deciding rule holds Sudo (always for root).
	RootPrivs bool
	// Capabilities are those of the deciding rule (All for root, 0 if none).
	Capabilities Capability
}

// paramOps are the operations whose request data the parameter rules govern.
const paramOps = Create | Read | Update | Patch

// Allowed decides req against the ACL: the deciding rule is the one
// Capabilities would pick (with Vault's trailing-slash fallback for List);
// it must hold Op (and Sudo when NeedSudo) and not Deny; a wrapping TTL
// bound requires req.WrapTTL within it (either bound makes wrapping
// mandatory); and for Create, Read, Update and Patch the parameter rules
// must pass. Parameter rules, as in Vault:
//
//   - every required parameter must be present (names compare
//     case-insensitively, as do all parameter names);
//   - a request without data passes the allowed and denied rules;
//   - denied "*" rejects any data; a denied name with an empty list rejects
//     the parameter, with values rejects those values;
//   - once allowed_parameters lists anything, parameters it does not name
//     are rejected unless it holds "*"; a named parameter with values must
//     have one of them;
//   - a value matches a pattern by string form, where a pattern starting
//     and/or ending in "*" (but not "*" alone, which matches only "*") is a
//     suffix, prefix or substring match; a list value is checked element by
//     element, and so is a string holding a comma-separated or JSON list:
//     it is denied if the whole or any element matches a denied value, and
//     allowed only if every element matches or an allowed value equals the
//     whole string literally. (Vault also accepts an allowed glob matching
//     the whole string, which lets "dev-a,root" past "dev-*"; Ward does not.)
func (a *ACL) Allowed(req Check) Result {
	if a.root {
		return Result{Allowed: true, RootPrivs: true, Capabilities: All}
	}
	r := a.lookup(req.Path, req.Op == List)
	if r == nil {
		return Result{Reason: "permission denied: no policy grants access to this path"}
	}
	p := &r.perm
	res := Result{Capabilities: p.Capabilities, RootPrivs: p.Capabilities&Sudo != 0}
	deny := func(format string, args ...any) Result {
		res.Reason = "permission denied: " + fmt.Sprintf(format, args...)
		return res
	}
	if p.Capabilities&Deny != 0 {
		res.RootPrivs = false
		return deny("path is denied by pattern %q", p.Pattern)
	}
	if req.Op == 0 || req.Op&^All != 0 {
		return deny("invalid operation %s", req.Op)
	}
	if !p.Capabilities.Has(req.Op) {
		return deny("%s capability missing on policy path %q", req.Op, p.Pattern)
	}
	if req.NeedSudo && p.Capabilities&Sudo == 0 {
		return deny("sudo capability missing on policy path %q", p.Pattern)
	}
	if p.MaxWrappingTTL > 0 && (req.WrapTTL <= 0 || req.WrapTTL > p.MaxWrappingTTL) {
		return deny("response wrapping with a TTL of at most %s is required", p.MaxWrappingTTL)
	}
	if p.MinWrappingTTL > 0 && (req.WrapTTL <= 0 || req.WrapTTL < p.MinWrappingTTL) {
		return deny("response wrapping with a TTL of at least %s is required", p.MinWrappingTTL)
	}
	if req.Op&paramOps != 0 {
		if msg := checkParams(p, req.Params); msg != "" {
			return deny("%s", msg)
		}
	}
	res.Allowed = true
	return res
}

// checkParams applies the parameter rules; it returns why they fail, or "".
func checkParams(p *PathRule, params map[string]any) string {
	for _, name := range p.RequiredParameters {
		if !hasParam(params, name) {
			return fmt.Sprintf("required parameter %q missing", name)
		}
	}
	if len(params) == 0 {
		return ""
	}
	if len(p.DeniedParameters) > 0 {
		if _, all := p.DeniedParameters["*"]; all {
			return "all parameters are denied"
		}
		for k, v := range params {
			if vals, ok := p.DeniedParameters[strings.ToLower(k)]; ok && anyValueIn(v, vals) {
				return fmt.Sprintf("parameter %q has a denied value", k)
			}
		}
	}
	if len(p.AllowedParameters) == 0 {
		return ""
	}
	_, allowAll := p.AllowedParameters["*"]
	if allowAll && len(p.AllowedParameters) == 1 {
		return ""
	}
	for k, v := range params {
		vals, ok := p.AllowedParameters[strings.ToLower(k)]
		if !ok {
			if !allowAll {
				return fmt.Sprintf("parameter %q is not allowed", k)
			}
			continue
		}
		if !allValuesIn(v, vals) {
			return fmt.Sprintf("parameter %q has a value that is not allowed", k)
		}
	}
	return ""
}

// hasParam reports whether params holds a key equal to name ignoring case.
func hasParam(params map[string]any, name string) bool {
	if _, ok := params[name]; ok {
		return true
	}
	for k := range params {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// anyValueIn reports whether v, or any element of it, matches a pattern in
// vals; an empty vals matches everything.
func anyValueIn(v any, vals []string) bool {
	if len(vals) == 0 {
		return true
	}
	if elems, isList := listElems(v); isList {
		for _, e := range elems {
			if valueIn(e, vals) {
				return true
			}
		}
		return false
	}
	s := valueString(v)
	if valueIn(s, vals) {
		return true
	}
	for _, e := range splitList(s) {
		if valueIn(e, vals) {
			return true
		}
	}
	return false
}

// allValuesIn reports whether v, or every element of it, matches a pattern in
// vals; an empty vals matches everything.
func allValuesIn(v any, vals []string) bool {
	if len(vals) == 0 {
		return true
	}
	if elems, isList := listElems(v); isList {
		for _, e := range elems {
			if !valueIn(e, vals) {
				return false
			}
		}
		return true
	}
	s := valueString(v)
	elems := splitList(s)
	if elems == nil {
		return valueIn(s, vals)
	}
	// A string that reads as a list ("dev-a,root") must not pass because a
	// glob ("dev-*") matches it as a whole: the backend may split it. Only
	// a literal entry equal to the whole string, or every element, admits it.
	if slices.Contains(vals, s) {
		return true
	}
	for _, e := range elems {
		if !valueIn(e, vals) {
			return false
		}
	}
	return true
}

// listElems returns the string forms of a list-typed value.
func listElems(v any) ([]string, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = valueString(e)
		}
		return out, true
	case []string:
		return x, true
	}
	return nil, false
}

// splitList interprets a string as a JSON array or a comma-separated list,
// the forms Vault's comma-string parameters accept; nil if it is neither.
func splitList(s string) []string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		var arr []any
		if json.Unmarshal([]byte(t), &arr) == nil {
			out, _ := listElems(arr)
			return out
		}
	}
	if !strings.Contains(s, ",") {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// valueString is the string form of a request value, matching literalString
// for the same value written in a policy.
func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

func valueIn(s string, vals []string) bool {
	for _, pat := range vals {
		if globValue(pat, s) {
			return true
		}
	}
	return false
}

// globValue matches a parameter value against a pattern with an optional
// leading and/or trailing "*". A pattern shorter than two characters is
// compared literally, so "*" alone matches only "*" (Vault behaves the
// same; write an empty list to allow any value).
func globValue(pat, s string) bool {
	if len(pat) < 2 {
		return pat == s
	}
	pre, suf := pat[0] == '*', pat[len(pat)-1] == '*'
	switch {
	case pre && suf:
		return strings.Contains(s, pat[1:len(pat)-1])
	case pre:
		return strings.HasSuffix(s, pat[1:])
	case suf:
		return strings.HasPrefix(s, pat[:len(pat)-1])
	}
	return s == pat
}
