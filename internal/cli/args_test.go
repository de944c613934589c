package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDataParser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.txt")
	os.WriteFile(file, []byte("line1\nline2\n"), 0o600)
	jsonFile := filepath.Join(dir, "d.json")
	os.WriteFile(jsonFile, []byte(`{"n": 1, "nested": {"a": true}}`), 0o600)

	cases := []struct {
		name  string
		args  []string
		stdin string
		want  map[string]any
	}{
		{"plain", []string{"a=b", "c=d=e", "empty="}, "", map[string]any{"a": "b", "c": "d=e", "empty": ""}},
		{"file", []string{"k=@" + file}, "", map[string]any{"k": "line1\nline2\n"}},
		{"escaped at", []string{`k=\@home`}, "", map[string]any{"k": "@home"}},
		{"stdin value", []string{"k=-"}, "secret\n", map[string]any{"k": "secret"}},
		{"stdin value crlf", []string{"k=-"}, "secret\r\n", map[string]any{"k": "secret"}},
		{"stdin json", []string{"-", "extra=x"}, `{"n": 5}`, map[string]any{"n": json.Number("5"), "extra": "x"}},
		{"json file", []string{"@" + jsonFile}, "", map[string]any{"n": json.Number("1"), "nested": map[string]any{"a": true}}},
		{"repeated", []string{"p=a", "p=b", "p=c"}, "", map[string]any{"p": []any{"a", "b", "c"}}},
	}
	for _, tc := range cases {
		got, err := (&dataParser{stdin: strings.NewReader(tc.stdin)}).parse(tc.args)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.want)
		}
	}

	// input marks the errors about a file or stdin that could not be used
	// (exit 1) rather than a malformed argument (exit 2).
	bad := []struct {
		args  []string
		stdin string
		msg   string
		input bool
	}{
		{[]string{"novalue"}, "", "data argument 1 is not KEY=VALUE", false},
		{[]string{"a=b", "=v"}, "", "data argument 2 is not KEY=VALUE", false},
		{[]string{"k=@" + filepath.Join(dir, "missing")}, "", "no such file", true},
		{[]string{"@" + filepath.Join(dir, "missing")}, "", "no such file", true},
		{[]string{"a=-", "b=-"}, "x", "only one value", false},
		{[]string{"-"}, "[1,2]", "does not hold a JSON object", true},
		{[]string{"-"}, "null", "does not hold a JSON object", true},
		{[]string{"k=@"}, "", "missing file name", false},
	}
	for _, tc := range bad {
		_, err := (&dataParser{stdin: strings.NewReader(tc.stdin)}).parse(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.msg)
		}
		var ie inputError
		if got := errors.As(err, &ie); got != tc.input {
			t.Errorf("%v: input error = %v, want %v", tc.args, got, tc.input)
		}
	}
}

func FuzzDataParser(f *testing.F) {
	for _, s := range []string{"a=b", "k=-", "-", `k=\@x`, "a=b\x00c=d", "=", "@"} {
		f.Add(s, `{"x":1}`)
	}
	f.Fuzz(func(t *testing.T, arg, stdin string) {
		if strings.Contains(arg, "@") {
			return // keep the fuzzer off the file system
		}
		got, err := (&dataParser{stdin: strings.NewReader(stdin)}).parse(strings.Split(arg, "\x00"))
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with output %v", err, got)
			}
			return
		}
		for k := range got {
			if k == "" && !strings.HasPrefix(arg, "-") {
				t.Fatalf("empty key from %q", arg)
			}
		}
	})
}

func TestParseInterspersed(t *testing.T) {
	cases := []struct {
		args, pos []string
		x         string
	}{
		{[]string{"a", "-x=1", "b"}, []string{"a", "b"}, "1"},
		{[]string{"-x", "2", "a"}, []string{"a"}, "2"},
		{[]string{"a", "-", "b"}, []string{"a", "-", "b"}, ""},
		{[]string{"a", "--", "-x=3"}, []string{"a", "-x=3"}, ""},
		{[]string{"-x=4", "--", "a", "--"}, []string{"a", "--"}, "4"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		x := fs.String("x", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *x != tc.x {
			t.Errorf("%v: pos %q x %q err %v; want %q, %q", tc.args, pos, *x, err, tc.pos, tc.x)
		}
	}
}

func TestParseVersionsAndDurations(t *testing.T) {
	if v, err := parseVersions("1, 2,3"); err != nil || !reflect.DeepEqual(v, []int{1, 2, 3}) {
		t.Errorf("parseVersions = %v, %v", v, err)
	}
	for _, bad := range []string{"", "a", "0", "1,-2", ","} {
		if _, err := parseVersions(bad); err == nil {
			t.Errorf("parseVersions(%q) succeeded", bad)
		}
	}
	for _, ok := range []string{"90", "1h30m", "0s", "0"} {
		if _, err := parseDuration(ok); err != nil {
			t.Errorf("parseDuration(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"-5", "-1h", "soon", ""} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) succeeded", bad)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for secs, want := range map[int64]string{0: "∞", 45: "45s", 60: "1m", 3600: "1h", 5400: "1h30m", 2764800: "768h", 3661: "1h1m1s"} {
		if got := humanDuration(secs); got != want {
			t.Errorf("humanDuration(%d) = %q, want %q", secs, got, want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, "<nil>"}, {"s", "s"}, {json.Number("12"), "12"}, {true, "true"},
		{[]any{"a", json.Number("1")}, "[a 1]"}, {map[string]any{"b": "2", "a": "1"}, "map[a:1 b:2]"},
	} {
		if got := formatValue(tc.in); got != tc.want {
			t.Errorf("formatValue(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
