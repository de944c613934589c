package engine

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name     string            `json:"name"`
	Policies []string          `json:"policies"`
	TTL      time.Duration     `json:"ttl"`
	Uses     int               `json:"num_uses"`
	Renew    *bool             `json:"renewable"`
	Meta     map[string]string `json:"meta"`
	Any      any               `json:"any"`
	Versions []int             `json:"versions"`
	Options  struct {
		CAS *int `json:"cas"`
	} `json:"options"`
}

func TestDecodeWeakTyping(t *testing.T) {
	// The CLI sends every value as a string.
	cli := map[string]any{
		"name": "web", "policies": "a, b,,c", "ttl": "1h30m", "num_uses": "5",
		"renewable": "false", "meta": `{"team":"x"}`, "versions": "1,3",
	}
	got, warnings, err := Decode[sample](cli)
	if err != nil || warnings != nil {
		t.Fatalf("decode: %v %v", err, warnings)
	}
	if got.Name != "web" || !reflect.DeepEqual(got.Policies, []string{"a", "b", "c"}) ||
		got.TTL != 90*time.Minute || got.Uses != 5 || got.Renew == nil || *got.Renew ||
		got.Meta["team"] != "x" || !reflect.DeepEqual(got.Versions, []int{1, 3}) {
		t.Fatalf("decoded %+v", got)
	}

	// SDKs send real JSON types (decoded with UseNumber).
	var sdk map[string]any
	d := json.NewDecoder(strings.NewReader(`{"policies":["p"],"ttl":3600,"num_uses":2,"renewable":true,
		"meta":{"n":1},"options":{"cas":0},"extra":1,"zzz":true}`))
	d.UseNumber()
	if err := d.Decode(&sdk); err != nil {
		t.Fatal(err)
	}
	got, warnings, err = Decode[sample](sdk)
	if err != nil {
		t.Fatal(err)
	}
	if got.TTL != time.Hour || got.Uses != 2 || !*got.Renew || got.Meta["n"] != "1" || got.Options.CAS == nil || *got.Options.CAS != 0 {
		t.Fatalf("decoded %+v", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "[extra zzz]") {
		t.Fatalf("warnings = %v", warnings)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	tests := []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"renewable": "maybe"}, "renewable"},
		{map[string]any{"num_uses": "five"}, "num_uses"},
		{map[string]any{"num_uses": 1.5}, "num_uses"},
		{map[string]any{"ttl": "-5s"}, "ttl"},
		{map[string]any{"ttl": "soon"}, "ttl"},
		{map[string]any{"meta": []any{1}}, "meta"},
		{map[string]any{"options": "x"}, "options"},
		{map[string]any{"options": map[string]any{"cas": "x"}}, "options.cas"},
		{map[string]any{"versions": []any{"a"}}, "versions[0]"},
	}
	for _, tt := range tests {
		_, _, err := Decode[sample](tt.data)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Decode(%v) error = %v, want InputError for %s", tt.data, err, tt.field)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[any]time.Duration{
		"90s": 90 * time.Second, "3600": time.Hour, 60: time.Minute, json.Number("30"): 30 * time.Second,
		"0s": 0, "": 0, float64(2): 2 * time.Second,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%v) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []any{"-1s", -1, "1x", true, "99999999999999999999", "-9223372037", "9223372037"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%v) succeeded", in)
		}
	}
}

// FuzzDecode feeds arbitrary JSON bodies to Decode: it must never panic, and
// an error must come with a zero value.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"policies":"a,b","ttl":"1h","num_uses":"3","renewable":"true"}`,
		`{"meta":{"a":"b"},"options":{"cas":1},"versions":[1,2]}`,
		`{"meta":"{\"a\":1}","any":[1,{"x":null}],"ttl":3600}`,
		`{"name":123,"versions":"1, 2","renewable":1}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var data map[string]any
		d := json.NewDecoder(strings.NewReader(body))
		d.UseNumber()
		if d.Decode(&data) != nil {
			return
		}
		got, _, err := Decode[sample](data)
		if err != nil && !reflect.DeepEqual(got, sample{}) {
			t.Fatalf("error %v with non-zero value %+v", err, got)
		}
	})
}

type embeddedInner struct {
	TTL   *time.Duration `json:"token_ttl"`
	Names []string       `json:"names"`
}

type embeddedOuter struct {
	Role string `json:"role"`
	embeddedInner
}

func TestDecodeEmbeddedStruct(t *testing.T) {
	got, warnings, err := Decode[embeddedOuter](map[string]any{"role": "r", "token_ttl": "1h", "names": "a,b"})
	if err != nil || warnings != nil {
		t.Fatalf("decode: %v %v", err, warnings)
	}
	if got.Role != "r" || got.TTL == nil || *got.TTL != time.Hour || len(got.Names) != 2 {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDecodeMapFromPairs(t *testing.T) {
	for _, raw := range []any{"team=payments", []any{"team=payments", "tier=1"}, `{"team":"payments"}`} {
		got, _, err := Decode[sample](map[string]any{"meta": raw})
		if err != nil || got.Meta["team"] != "payments" {
			t.Errorf("meta %v: %v, %v", raw, got.Meta, err)
		}
	}
	if _, _, err := Decode[sample](map[string]any{"meta": "no-equals"}); err == nil {
		t.Error("a string without = decoded as a map")
	}
}
