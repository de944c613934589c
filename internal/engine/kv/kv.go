package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/engine"
)

// MaxPathLen is the longest secret path accepted, in bytes.
const MaxPathLen = 1024

// defaultLeaseTTL is the KV v1 read hint when the mount sets none (32 days,
// Vault's system default).
const defaultLeaseTTL = 768 * time.Hour

var _ engine.Factory = Factory

// Factory creates a KV engine for a mount: version 1 unless
// env.Options["version"] is "2". It does no I/O.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create kv engine: no storage")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	switch v := strings.TrimSpace(env.Options["version"]); v {
	case "", "1":
		return newV1(env), nil
	case "2":
		return newV2(env), nil
	default:
		return nil, engine.BadRequest("create kv engine: unsupported version %q: use \"1\" or \"2\"", v)
	}
}

// validatePath checks a secret path; the error is a 400 naming the rule.
func validatePath(p string) error {
	rule := pathRule(p)
	if rule == "" {
		return nil
	}
	return &engine.InputError{Field: "path", Rule: rule}
}

func pathRule(p string) string {
	switch {
	case p == "":
		return "a secret path is required"
	case len(p) > MaxPathLen:
		return fmt.Sprintf("longer than %d bytes", MaxPathLen)
	case !utf8.ValidString(p):
		return "not valid UTF-8"
	case strings.HasPrefix(p, "/"):
		return "must not start with \"/\""
	case strings.HasSuffix(p, "/"):
		return "must not end with \"/\""
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "must not contain control characters"
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return "must not contain empty segments (\"//\")"
		case ".", "..":
			return "path cannot contain parent references"
		}
	}
	return ""
}

// validatePrefix checks a list prefix: "" for the root, else a valid path
// followed by "/".
func validatePrefix(p string) error {
	if p == "" {
		return nil
	}
	if !strings.HasSuffix(p, "/") {
		return &engine.InputError{Field: "path", Rule: "a list prefix must end with \"/\""}
	}
	return validatePath(strings.TrimSuffix(p, "/"))
}

// decodeObject parses a stored JSON object, keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("stored value is not a JSON object")
	}
	return m, nil
}

// objectField returns data[name] as a JSON object, or an InputError naming
// the field when it is missing or not an object.
func objectField(data map[string]any, name string) (map[string]any, error) {
	m, ok := data[name].(map[string]any)
	if !ok {
		return nil, &engine.InputError{Field: name, Rule: "required: a JSON object"}
	}
	return m, nil
}

// formatTime renders t as Vault does: RFC 3339 with nanoseconds, UTC; the
// zero time is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// mergePatch applies an RFC 7386 JSON merge patch to target and returns the
// result. target may be modified in place; patch is never modified, though
// the result may share arrays and scalars with it.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = make(map[string]any, len(p))
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}
