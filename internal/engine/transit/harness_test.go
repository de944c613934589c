package transit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

const (
	read   = engine.OpRead
	create = engine.OpCreate
	update = engine.OpUpdate
	del    = engine.OpDelete
	list   = engine.OpList
)

// clock is a settable time source for Env.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness drives one transit mount through engine.Backend.Handle, as core does.
type harness struct {
	t     testing.TB
	b     engine.Backend
	store *inmem.Backend
	clock *clock
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, store: inmem.New(), clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)}}
	b, err := Factory(context.Background(), engine.Env{
		MountPath: "transit/", Type: "transit", Storage: h.store, Now: h.clock.Now,
	})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	h.b = b
	return h
}

// body decodes a JSON request body the way httpapi does (numbers as
// json.Number). "" is no body.
func body(t testing.TB, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test body %s: %v", s, err)
	}
	return m
}

func (h *harness) req(op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	return h.b.Handle(context.Background(), &engine.Request{
		ID: "req-1", Operation: op, Path: path, MountPath: "transit/", Data: data,
		Caller: &engine.Caller{TokenID: "t1"},
	})
}

func (h *harness) do(op engine.Operation, path, js string) (*engine.Response, error) {
	h.t.Helper()
	return h.req(op, path, body(h.t, js))
}

// ok runs a request that must succeed.
func (h *harness) ok(op engine.Operation, path, js string) *engine.Response {
	h.t.Helper()
	resp, err := h.do(op, path, js)
	if err != nil {
		h.t.Fatalf("%s %s %s: %v", op, path, js, err)
	}
	return resp
}

// fails runs a request that must fail with an error of kind whose text
// contains msg.
func (h *harness) fails(op engine.Operation, path, js string, kind error, msg string) error {
	h.t.Helper()
	resp, err := h.do(op, path, js)
	if err == nil {
		h.t.Fatalf("%s %s %s: succeeded with %+v, want error %q", op, path, js, resp, msg)
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), msg) {
		h.t.Fatalf("%s %s %s: error %q (kind ok: %v), want %v containing %q", op, path, js, err, errors.Is(err, kind), kind, msg)
	}
	return err
}

// bad is fails with a 400.
func (h *harness) bad(op engine.Operation, path, js, msg string) error {
	h.t.Helper()
	return h.fails(op, path, js, engine.ErrInvalidRequest, msg)
}

// str returns resp.Data[k] as a string.
func str(t testing.TB, resp *engine.Response, k string) string {
	t.Helper()
	if resp == nil {
		t.Fatalf("no response, want data.%s", k)
	}
	s, ok := resp.Data[k].(string)
	if !ok {
		t.Fatalf("data.%s = %#v, want a string", k, resp.Data[k])
	}
	return s
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not base64: %q", s)
	}
	return b
}

// encrypt encrypts pt with key and returns the ciphertext.
func (h *harness) encrypt(key, pt, extra string) string {
	h.t.Helper()
	js := `{"plaintext":"` + b64(pt) + `"` + extra + `}`
	return str(h.t, h.ok(update, "encrypt/"+key, js), "ciphertext")
}

// decrypt decrypts ct with key and returns the plaintext.
func (h *harness) decrypt(key, ct, extra string) string {
	h.t.Helper()
	js := `{"ciphertext":"` + ct + `"` + extra + `}`
	return string(unb64(h.t, str(h.t, h.ok(update, "decrypt/"+key, js), "plaintext")))
}

// info reads a key.
func (h *harness) info(key string) map[string]any {
	h.t.Helper()
	resp := h.ok(read, "keys/"+key, "")
	if resp == nil {
		h.t.Fatalf("read keys/%s: no key", key)
	}
	return resp.Data
}

// jsonEq compares v with the JSON text want after a JSON round trip, the
// way a client would see it.
func jsonEq(t testing.TB, what string, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want %s: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		var buf bytes.Buffer
		json.Indent(&buf, got, "", " ")
		t.Fatalf("%s =\n%s\nwant %s", what, buf.String(), want)
	}
}

// num returns a JSON-ish number field as an int.
func num(t testing.TB, m map[string]any, k string) int {
	t.Helper()
	switch x := m[k].(type) {
	case int:
		return x
	case int64:
		return int(x)
	}
	t.Fatalf("%s = %#v, want an int", k, m[k])
	return 0
}

// storedKeys lists every storage key of the mount.
func (h *harness) storedKeys() []string {
	h.t.Helper()
	keys, err := storage.List(context.Background(), h.store, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return keys
}
