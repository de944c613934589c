package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never panics, returns a config or an error
// but not both, positions every error inside the input, and that whatever it
// accepts already satisfies the per-value rules (canonical enums, positive
// sizes and durations), so Validate can only complain about completeness.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files in testdata: %v", err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, tt := range parseErrorTests {
		f.Add([]byte(tt.src))
	}

	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.hcl", src)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c, err)
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		if err != nil {
			checkErrors(t, err, lines)
			return
		}

		if !slices.Contains(logLevels, c.LogLevel) || !slices.Contains(logFormats, c.LogFormat) ||
			c.DefaultLeaseTTL <= 0 || c.MaxLeaseTTL <= 0 {
			t.Errorf("parsed config breaks a value rule: %+v", c)
		}
		for _, l := range c.Listeners {
			if l.Type != ListenerTCP || !slices.Contains(tlsVersions, l.TLSMinVersion) ||
				l.MaxRequestSize <= 0 || l.MaxRequestDuration <= 0 || l.Line < 1 || l.Line > lines {
				t.Errorf("parsed listener breaks a value rule: %+v", l)
			}
		}
		if err := c.Validate(); err != nil {
			checkErrors(t, err, lines)
		}
		again, err := Parse("fuzz.hcl", src)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Errorf("second Parse differs: %+v, %v", again, err)
		}
	})
}

// checkErrors fails t unless err is made only of *Error values for
// fuzz.hcl whose lines are within the input.
func checkErrors(t *testing.T, err error, lines int) {
	t.Helper()
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			checkErrors(t, e, lines)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e != err {
		t.Fatalf("error %#v is not a *Error", err)
	}
	if e.File != "fuzz.hcl" || e.Line < 0 || e.Line > lines || e.Msg == "" {
		t.Errorf("badly positioned error %+v (input has %d lines)", e, lines)
	}
}
