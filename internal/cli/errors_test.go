package cli

import "testing"

func TestAPIPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8200/v1/secret/data/x":              "secret/data/x",
		"https://ward.example.com/v1/secret/metadata/?list=1": "secret/metadata/",
		"http://h/v1/sys/internal/ui/mounts/secret/a":         "sys/internal/ui/mounts/secret/a",
		"http://h/other": "",
		"%zz":            "",
	} {
		if got := apiPath(in); got != want {
			t.Errorf("apiPath(%q) = %q, want %q", in, got, want)
		}
	}
}
