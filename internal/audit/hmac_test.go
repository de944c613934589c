package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// canaries are secret values placed everywhere an entry can hold one.
var canaries = []string{
	"CANARY-auth-token", "CANARY-auth-accessor", "CANARY-req-token", "CANARY-req-accessor",
	"CANARY-req-top", "CANARY-req-nested", "CANARY-req-list", "CANARY-req-strings",
	"CANARY-req-stringmap", "CANARY-resp-top", "CANARY-resp-deep", "CANARY-resp-struct",
	"CANARY-resp-bytes", "CANARY-resp-named", "CANARY-resp-pointer", "CANARY-resp-auth-token",
	"CANARY-resp-auth-accessor", "CANARY-wrap-token", "CANARY-wrap-accessor", "CANARY-wrapped-accessor",
	"CANARY-resp-maplist",
}

type secretStruct struct {
	Password string `json:"password"`
	Port     int    `json:"port"`
}

type namedString string

// canaryEntry builds a new entry with every canary; each call returns an
// equal, independent entry.
func canaryEntry() *Entry {
	ptr := "CANARY-resp-pointer"
	return &Entry{
		Type: TypeResponse,
		Time: "2025-01-02T03:04:05.000000006Z",
		Auth: &Auth{ClientToken: "CANARY-auth-token", Accessor: "CANARY-auth-accessor", DisplayName: "token",
			Policies: []string{"default"}, Metadata: map[string]string{"role": "web"}},
		Request: &Request{
			ID: "req-1", Operation: "update", Path: "secret/data/app",
			ClientToken: "CANARY-req-token", ClientTokenAccessor: "CANARY-req-accessor",
			Data: map[string]any{
				"top":     "CANARY-req-top",
				"nested":  map[string]any{"deeper": map[string]any{"x": "CANARY-req-nested"}},
				"list":    []any{"CANARY-req-list", json.Number("7"), true, nil},
				"strings": []string{"CANARY-req-strings"},
				"smap":    map[string]string{"k": "CANARY-req-stringmap"},
				"empty":   "",
				"num":     json.Number("42"),
				"float":   1.5,
				"flag":    false,
			},
		},
		Response: &Response{
			Data: map[string]any{
				"top":     "CANARY-resp-top",
				"deep":    []any{map[string]any{"a": []any{"CANARY-resp-deep"}}},
				"struct":  secretStruct{Password: "CANARY-resp-struct", Port: 5432},
				"bytes":   []byte("CANARY-resp-bytes"),
				"named":   namedString("CANARY-resp-named"),
				"pointer": &ptr,
				"maplist": []map[string]any{{"v": "CANARY-resp-maplist"}},
				"ttl":     3600,
			},
			Auth:     &Auth{ClientToken: "CANARY-resp-auth-token", Accessor: "CANARY-resp-auth-accessor"},
			WrapInfo: &WrapInfo{TTL: 60, Token: "CANARY-wrap-token", Accessor: "CANARY-wrap-accessor", WrappedAccessor: "CANARY-wrapped-accessor", CreationPath: "secret/data/app"},
		},
	}
}

func independentHMAC(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

func logOne(t *testing.T, o Options, e *Entry) []byte {
	t.Helper()
	b := newTestBroker(t, BrokerOptions{})
	d := &memDevice{}
	mustAdd(t, b, "mem/", d, o)
	if err := b.Log(context.Background(), e); err != nil {
		t.Fatalf("Log: %v", err)
	}
	lines := d.all()
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	return lines[0]
}

func TestHMACMatchesIndependentComputation(t *testing.T) {
	line := logOne(t, DefaultOptions(), canaryEntry())
	m := decode(t, line)
	for _, c := range []struct {
		path []string
		in   string
	}{
		{[]string{"auth", "client_token"}, "CANARY-auth-token"},
		{[]string{"auth", "accessor"}, "CANARY-auth-accessor"},
		{[]string{"request", "client_token"}, "CANARY-req-token"},
		{[]string{"request", "client_token_accessor"}, "CANARY-req-accessor"},
		{[]string{"request", "data", "top"}, "CANARY-req-top"},
		{[]string{"request", "data", "nested", "deeper", "x"}, "CANARY-req-nested"},
		{[]string{"response", "data", "top"}, "CANARY-resp-top"},
		{[]string{"response", "data", "struct", "password"}, "CANARY-resp-struct"},
		{[]string{"response", "data", "named"}, "CANARY-resp-named"},
		{[]string{"response", "data", "pointer"}, "CANARY-resp-pointer"},
		{[]string{"response", "auth", "client_token"}, "CANARY-resp-auth-token"},
		{[]string{"response", "wrap_info", "token"}, "CANARY-wrap-token"},
		{[]string{"response", "wrap_info", "wrapped_accessor"}, "CANARY-wrapped-accessor"},
	} {
		if got, want := field(t, m, c.path...), independentHMAC(testKey, c.in); got != want {
			t.Errorf("%s = %v, want %s", strings.Join(c.path, "."), got, want)
		}
	}
	// []byte is encoded as base64 by JSON, and that string is HMAC'd.
	b64, _ := json.Marshal([]byte("CANARY-resp-bytes"))
	var s string
	_ = json.Unmarshal(b64, &s)
	if got, want := field(t, m, "response", "data", "bytes"), independentHMAC(testKey, s); got != want {
		t.Errorf("bytes = %v, want %s", got, want)
	}
	b := newTestBroker(t, BrokerOptions{})
	mustAdd(t, b, "mem/", &memDevice{}, DefaultOptions())
	if got, err := b.Hash("mem/", "CANARY-req-top"); err != nil || got != field(t, m, "request", "data", "top") {
		t.Errorf("Hash = %q, %v; want the value in the log", got, err)
	}
	if _, err := b.Hash("nope/", "x"); err == nil {
		t.Error("Hash of an unknown device succeeded")
	}
}

func TestNoSecretInTheLine(t *testing.T) {
	line := logOne(t, DefaultOptions(), canaryEntry())
	for _, c := range canaries {
		if bytes.Contains(line, []byte(c)) {
			t.Errorf("line contains %s:\n%s", c, line)
		}
	}
	m := decode(t, line)
	// Non-strings and empty strings are kept as they were.
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"request", "data", "num"}, json.Number("42")},
		{[]string{"request", "data", "float"}, json.Number("1.5")},
		{[]string{"request", "data", "flag"}, false},
		{[]string{"request", "data", "empty"}, ""},
		{[]string{"response", "data", "ttl"}, json.Number("3600")},
		{[]string{"response", "data", "struct", "port"}, json.Number("5432")},
		{[]string{"response", "wrap_info", "ttl"}, json.Number("60")},
		{[]string{"auth", "display_name"}, "token"},
		{[]string{"request", "path"}, "secret/data/app"},
	} {
		if got := field(t, m, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", strings.Join(c.path, "."), got, c.want)
		}
	}
	list := field(t, m, "request", "data", "list").([]any)
	if list[1] != json.Number("7") || list[2] != true || list[3] != nil {
		t.Errorf("list non-strings changed: %v", list)
	}
}

func TestLogRawWritesSecrets(t *testing.T) {
	line := logOne(t, Options{LogRaw: true, HMACAccessor: true}, canaryEntry())
	for _, c := range canaries {
		if c == "CANARY-resp-bytes" {
			continue // base64 in JSON
		}
		if !bytes.Contains(line, []byte(c)) {
			t.Errorf("log_raw line lacks %s", c)
		}
	}
	if bytes.Contains(line, []byte(HMACPrefix)) {
		t.Error("log_raw line has HMACs")
	}
}

func TestHMACAccessorFalseKeepsAccessors(t *testing.T) {
	line := logOne(t, Options{HMACAccessor: false}, canaryEntry())
	for _, c := range canaries {
		isAccessor := strings.Contains(c, "accessor")
		if got := bytes.Contains(line, []byte(c)); got != isAccessor {
			t.Errorf("line contains %s = %v, want %v", c, got, isAccessor)
		}
	}
}

func TestLogDoesNotModifyTheEntry(t *testing.T) {
	e := canaryEntry()
	e.Time = "" // the Broker stamps its copy
	want := canaryEntry()
	want.Time = ""
	b := newTestBroker(t, BrokerOptions{})
	mustAdd(t, b, "a/", &memDevice{}, DefaultOptions())
	mustAdd(t, b, "b/", &memDevice{}, Options{LogRaw: true})
	if err := b.Log(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("entry changed:\n got %#v\nwant %#v", e, want)
	}
}

func TestStampEqualsMarshal(t *testing.T) {
	for _, e := range []*Entry{canaryEntry(), {Type: TypeRequest}, {Type: TypeResponse, Error: `bad "x" <y> & z`}} {
		prefix, err := encodeUnstamped(func() *Entry { c := *e; return &c }())
		if err != nil {
			t.Fatal(err)
		}
		hash := LineHash([]byte("previous"))
		got := stamp(prefix, 12345, hash)
		c := *e
		c.Seq, c.PrevHash = 12345, hash
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("stamp:\n got %s\nwant %s", got, want)
		}
	}
}

func TestStringRedacts(t *testing.T) {
	e := canaryEntry()
	for _, s := range []string{
		fmt.Sprint(e), fmt.Sprintf("%+v", *e), fmt.Sprintf("%v", e.Auth), fmt.Sprintf("%+v", e.Request),
		fmt.Sprintf("%v", *e.Response), fmt.Sprint(e.Response.WrapInfo),
	} {
		if strings.Contains(s, "CANARY") {
			t.Errorf("String leaks a secret: %s", s)
		}
	}
}

func TestUnencodableDataFailsTheDevice(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	d := &memDevice{}
	mustAdd(t, b, "mem/", d, DefaultOptions())
	e := &Entry{Type: TypeRequest, Request: &Request{Data: map[string]any{"c": make(chan int)}}}
	err := b.Log(context.Background(), e)
	if err == nil || len(d.all()) != 0 {
		t.Fatalf("Log = %v with %d lines; want ErrNotRecorded and nothing written", err, len(d.all()))
	}
}
