package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func TestDecodeBody(t *testing.T) {
	data, err := decodeBody("application/json", []byte(`{"a":1,"b":"x","c":[1,2]}`))
	if err != nil || data["b"] != "x" {
		t.Fatalf("decodeBody = %v, %v", data, err)
	}
	if data, err := decodeBody("", []byte("  \n")); err != nil || data != nil {
		t.Fatalf("empty body = %v, %v", data, err)
	}
	form, err := decodeBody("application/x-www-form-urlencoded", []byte("a=1&b=2&b=3"))
	if err != nil || form["a"] != "1" || len(form["b"].([]any)) != 2 {
		t.Fatalf("form body = %v, %v", form, err)
	}
	// A JSON body wins even with a form content type, as in Vault.
	if data, err := decodeBody("application/x-www-form-urlencoded", []byte(`{"a":"b"}`)); err != nil || data["a"] != "b" {
		t.Fatalf("json under form type = %v, %v", data, err)
	}
	for _, bad := range []string{`{"a":`, `[1,2]`, `"str"`, `{"a":1}{"b":2}`, `{"password":"canary-hunter2"`, `nul`} {
		_, err := decodeBody("application/json", []byte(bad))
		if !errors.Is(err, engine.ErrInvalidRequest) {
			t.Errorf("decodeBody(%q) error = %v, want invalid request", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("decodeBody(%q) echoed the input: %v", bad, err)
		}
	}
}

// FuzzDecodeBody: the request decoder never panics, returns data or an
// invalid-request error, and never echoes the body in its error.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"data":{"password":"hunter2"},"options":{"cas":0}}`,
		`{"policy":"path \"secret/*\" { capabilities = [\"read\"] }"}`,
		`{"secret_shares":5,"secret_threshold":3}`,
		`{"key":"abcd","reset":false}`,
		`a=1&b=2`, `{"a":`, `[]`, ``, `{"n":1e400}`, "{\"a\":\"\xff\"}",
	} {
		f.Add("application/json", seed)
		f.Add("application/x-www-form-urlencoded", seed)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		data, err := decodeBody(contentType, []byte(body))
		if err != nil {
			if data != nil {
				t.Fatal("error with data")
			}
			if !errors.Is(err, engine.ErrInvalidRequest) {
				t.Fatalf("error %v is not an invalid request", err)
			}
			if len(body) > 12 && strings.Contains(err.Error(), body) {
				t.Fatalf("error echoes the body: %v", err)
			}
		}
	})
}
