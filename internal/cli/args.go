package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// maxInput caps what the CLI reads from a file or stdin for one value.
const maxInput = 32 << 20

// dataParser turns KEY=VALUE arguments into a request body.
//
//	key=value    the string "value"
//	key=@file    the contents of file, as a string ("\@x" sends a literal "@x")
//	key=-        stdin, as a string, without one trailing newline
//	-            a JSON object read from stdin
//	@file        a JSON object read from file
//
// Values are strings, as Vault's CLI sends them; only the JSON forms carry
// other types. A key given twice collects its values into a list. Stdin can
// be read once.
type dataParser struct {
	stdin     io.Reader
	stdinUsed bool
}

func (p *dataParser) parse(args []string) (map[string]any, error) {
	out := map[string]any{}
	for i, arg := range args {
		switch {
		case arg == "-":
			b, err := p.readStdin()
			if err != nil {
				return nil, err
			}
			if err := mergeJSON(out, b, "stdin"); err != nil {
				return nil, inputError{err}
			}
		case strings.HasPrefix(arg, "@") && !strings.Contains(arg, "="):
			b, err := readFileLimited(arg[1:])
			if err != nil {
				return nil, err
			}
			if err := mergeJSON(out, b, arg[1:]); err != nil {
				return nil, inputError{err}
			}
		default:
			k, v, ok := strings.Cut(arg, "=")
			if !ok || k == "" {
				// The argument itself is not echoed: it may be a secret.
				return nil, fmt.Errorf("data argument %d is not KEY=VALUE, KEY=@FILE, KEY=-, @FILE or -", i+1)
			}
			val, err := p.value(v)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", k, err)
			}
			add(out, k, val)
		}
	}
	return out, nil
}

func (p *dataParser) value(v string) (string, error) {
	switch {
	case v == "-":
		b, err := p.readStdin()
		if err != nil {
			return "", err
		}
		s := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(s, "\r"), nil
	case strings.HasPrefix(v, `\@`):
		return v[1:], nil
	case strings.HasPrefix(v, "@"):
		b, err := readFileLimited(v[1:])
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return v, nil
}

func add(m map[string]any, k string, v any) {
	old, ok := m[k]
	if !ok {
		m[k] = v
		return
	}
	if list, ok := old.([]any); ok {
		m[k] = append(list, v)
		return
	}
	m[k] = []any{old, v}
}

func (p *dataParser) readStdin() ([]byte, error) {
	if p.stdinUsed {
		return nil, errors.New("stdin can be used for only one value")
	}
	p.stdinUsed = true
	if p.stdin == nil {
		return nil, errors.New("no stdin to read")
	}
	b, err := io.ReadAll(io.LimitReader(p.stdin, maxInput+1))
	if err != nil {
		return nil, inputError{fmt.Errorf("read stdin: %w", err)}
	}
	if len(b) > maxInput {
		return nil, inputError{fmt.Errorf("stdin is larger than %d bytes", maxInput)}
	}
	return b, nil
}

// inputError marks a failure to use a local file or stdin (missing,
// unreadable, too large, not the JSON expected), as opposed to a malformed
// argument: the former exits 1, the latter 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func readFileLimited(name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("missing file name after @")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, inputError{err}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, inputError{fmt.Errorf("read %s: %w", name, err)}
	}
	if len(b) > maxInput {
		return nil, inputError{fmt.Errorf("%s is larger than %d bytes", name, maxInput)}
	}
	return b, nil
}

// mergeJSON decodes a JSON object (numbers kept exact) into out.
func mergeJSON(out map[string]any, b []byte, from string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		if err == nil {
			err = errors.New("null")
		}
		return fmt.Errorf("%s does not hold a JSON object: %v", from, err)
	}
	for k, v := range m {
		out[k] = v
	}
	return nil
}

// parseVersions parses "1,2,3" into version numbers.
func parseVersions(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid version %q: versions are positive integers like 1,2,3", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no versions given")
	}
	return out, nil
}

// listFlag is a repeatable string flag; each use may also hold a
// comma-separated list ("-policy=a,b -policy=c").
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// mapFlag is a repeatable KEY=VALUE flag.
type mapFlag map[string]string

func (m mapFlag) String() string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (m mapFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("expected KEY=VALUE")
	}
	m[k] = val
	return nil
}
