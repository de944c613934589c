package policy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
)

// Names with a fixed meaning.
const (
	// RootName is the root policy: not a document but a marker that Compile
	// turns into an ACL allowing everything. Parse refuses the name.
	RootName = "root"
	// DefaultName is the policy attached to every token unless the token
	// was created without it; its initial text is DefaultPolicy.
	DefaultName = "default"
	// ResponseWrappingName is the internal policy of response-wrapping
	// tokens; its text is ResponseWrappingPolicy.
	ResponseWrappingName = "response-wrapping"
)

// maxNameLen bounds policy names; Vault sets no limit, but names end up in
// storage keys and token entries.
const maxNameLen = 256

// Policy is a parsed ACL policy.
type Policy struct {
	Name  string     // lower-cased
	Raw   string     // the text as given to Parse
	Paths []PathRule // one per distinct pattern, in order of first appearance
}

// Templated reports whether any of the policy's patterns holds identity
// placeholders, so that its ACL depends on the token's entity and cannot be
// shared between tokens of different entities.
func (p *Policy) Templated() bool {
	for i := range p.Paths {
		if p.Paths[i].Templated {
			return true
		}
	}
	return false
}

// PathRule is what a policy says about one path pattern. Parse merges
// repeated blocks for the same pattern with the rules Compile uses across
// policies.
type PathRule struct {
	// Pattern is the path pattern without a leading "/": exact, ending in
	// "*" (prefix), with "+" segments, or a mix. A templated pattern still
	// holds its {{…}} placeholders.
	Pattern string
	// Capabilities is what the rule grants; a set holding Deny is Deny alone.
	Capabilities Capability
	// AllowedParameters and DeniedParameters map lower-cased parameter names
	// ("*" for any) to value patterns; an empty list means any value. A nil
	// map means no constraint.
	AllowedParameters map[string][]string
	DeniedParameters  map[string][]string
	// RequiredParameters are lower-cased parameter names every request must carry.
	RequiredParameters []string
	// MinWrappingTTL and MaxWrappingTTL bound the response-wrapping TTL the
	// request asks for; zero means unbounded. Either one makes wrapping
	// mandatory for the path.
	MinWrappingTTL time.Duration
	MaxWrappingTTL time.Duration
	// Templated reports that Pattern holds identity placeholders, resolved
	// per token by Compile.
	Templated bool
}

// ParseError is the error Parse returns: the policy text or name is invalid.
// Line is the 1-based line of the offending key, or 0 when unknown (always
// for JSON, whose parser keeps no positions).
type ParseError struct {
	Name string
	Line int
	Msg  string
	Err  error // the underlying syntax error, if any
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "parse policy %q: ", e.Name)
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse parses a policy written in HCL or in the equivalent JSON. The name is
// lower-cased; it must be non-empty, at most 256 bytes, free of "/", "\",
// "..", whitespace at either end and control characters, and not "root".
//
// Parsing is strict: an unknown key, an unknown capability, a "*" anywhere
// but at the end of a pattern, "+*", an unbalanced or unknown {{…}} template
// and min_wrapping_ttl above max_wrapping_ttl are all errors. Every error is
// a *ParseError; on error the policy is nil. Keys Ward accepts but ignores:
// the top-level "name", and "comment" and "subscribe_event_types" in a path
// block. "mfa_methods" and "control_group" are refused rather than ignored,
// since ignoring them would silently weaken the policy.
//
// Parse does not decode base64; see DecodeText.
func Parse(name, text string) (p *Policy, err error) {
	lname := strings.ToLower(name)
	if msg := checkName(lname); msg != "" {
		return nil, &ParseError{Name: name, Msg: msg}
	}
	root, perr := parseTree(text)
	if perr != nil {
		perr.Name = lname
		return nil, perr
	}
	paths, perr := decodePolicy(root)
	if perr != nil {
		perr.Name = lname
		return nil, perr
	}
	return &Policy{Name: lname, Raw: text, Paths: paths}, nil
}

// checkName returns why a lower-cased policy name is invalid, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "name is empty"
	case len(name) > maxNameLen:
		return fmt.Sprintf("name is longer than %d bytes", maxNameLen)
	case name == RootName:
		return `name "root" is reserved`
	case !utf8.ValidString(name):
		return "name is not valid UTF-8"
	case strings.ContainsAny(name, `/\`):
		return `name must not contain "/" or "\"`
	case strings.Contains(name, ".."):
		return `name must not contain ".."`
	case strings.TrimSpace(name) != name:
		return "name must not start or end with whitespace"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "name must not contain control characters"
	}
	return ""
}

// parseTree runs the HCL parser (which also reads JSON) and converts its AST.
// The hcl library can panic on malformed tokens; that is reported as a syntax
// error instead.
func parseTree(text string) (root *node, perr *ParseError) {
	defer func() {
		if r := recover(); r != nil {
			root, perr = nil, &ParseError{Msg: "invalid syntax", Err: fmt.Errorf("%v", r)}
		}
	}()
	if err := checkDepth(text, maxDepth); err != nil {
		return nil, &ParseError{Msg: "invalid syntax", Err: err}
	}
	if strings.HasPrefix(strings.TrimLeftFunc(text, unicode.IsSpace), "{") {
		if err := checkJSON(text); err != nil {
			return nil, &ParseError{Msg: "invalid JSON", Err: err}
		}
	}
	f, err := hcl.Parse(text)
	if err != nil {
		return nil, &ParseError{Line: syntaxLine(err), Msg: "invalid syntax", Err: err}
	}
	if f == nil || f.Node == nil {
		return nil, &ParseError{Msg: "invalid syntax", Err: errors.New("no root object")}
	}
	root, err = convert(f.Node)
	if err != nil {
		return nil, &ParseError{Msg: "invalid syntax", Err: err}
	}
	if root.kind != kindObject {
		return nil, &ParseError{Msg: "invalid syntax", Err: errors.New("no root object")}
	}
	return root, nil
}

// maxDepth bounds the nesting of blocks and lists. A policy needs four
// levels (object, path, pattern, parameter map, list); the rest is slack.
const maxDepth = 32

// checkDepth rejects deeply nested input before the hcl library sees it: its
// parsers recurse once per level and wrap error messages once per level, so
// a few kilobytes of "[" would cost seconds of CPU and quadratic memory. The
// scan skips strings and comments; anything it miscounts (interpolations,
// heredocs) only matters beyond the generous limit.
func checkDepth(text string, limit int) error {
	depth := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '#':
			i = skipLine(text, i)
		case '/':
			if i+1 < len(text) && text[i+1] == '/' {
				i = skipLine(text, i)
			} else if i+1 < len(text) && text[i+1] == '*' {
				end := strings.Index(text[i+2:], "*/")
				if end < 0 {
					return nil
				}
				i += 2 + end + 1
			}
		case '{', '[':
			if depth++; depth > limit {
				return fmt.Errorf("nesting deeper than %d levels", limit)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// skipLine returns the index of the newline ending the line at i (or the end).
func skipLine(text string, i int) int {
	if n := strings.IndexByte(text[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(text)
}

// checkJSON vets a JSON policy before the hcl library parses it: that parser
// silently drops booleans and nested lists inside lists, which could turn
// `"allowed_parameters": {"x": [true]}` into "any value". Such lists, and
// anything that is not strict JSON, are rejected.
func checkJSON(text string) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the top-level object")
	}
	return checkJSONValue(v)
}

func checkJSONValue(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if err := checkJSONValue(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			switch e.(type) {
			case bool, []any, nil:
				return errors.New("lists may hold only strings, numbers and objects")
			}
			if err := checkJSONValue(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// syntaxLine extracts the line from the hcl parser's "At L:C: …" errors.
func syntaxLine(err error) int {
	rest, ok := strings.CutPrefix(err.Error(), "At ")
	if !ok {
		return 0
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// DecodeText returns the policy text a client sent: s itself, or, when s is
// standard base64 of UTF-8 text that parses as HCL or JSON, the decoded text.
// Vault accepts policies either way. Plain HCL is never valid base64 (it
// needs quotes, braces or spaces), so the two cannot be confused.
func DecodeText(s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return s
	}
	b, err := base64.StdEncoding.DecodeString(t)
	if err != nil || !utf8.Valid(b) {
		return s
	}
	if _, perr := parseTree(string(b)); perr != nil {
		return s
	}
	return string(b)
}
