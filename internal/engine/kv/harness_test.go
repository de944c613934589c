package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// clock is a settable time source for Env.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)}
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

// harness drives one KV mount through engine.Backend.Handle, as core does.
type harness struct {
	t     testing.TB
	b     engine.Backend
	store *inmem.Backend
	clock *clock
	// version is the mount's KV version option, "1" or "2".
	version string
}

func newHarness(t testing.TB, version string) *harness {
	t.Helper()
	h := &harness{t: t, store: inmem.New(), clock: newClock(), version: version}
	h.reopen()
	return h
}

// reopen mounts the engine afresh over the same storage, as a restart
// does: nothing cached survives.
func (h *harness) reopen() {
	h.t.Helper()
	env := engine.Env{
		MountPath: "secret/",
		Type:      "kv",
		Options:   map[string]string{"version": h.version},
		Storage:   h.store,
		Now:       h.clock.Now,
	}
	b, err := Factory(context.Background(), env)
	if err != nil {
		h.t.Fatalf("Factory: %v", err)
	}
	h.b = b
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

func (h *harness) do(op engine.Operation, path, js string) (*engine.Response, error) {
	h.t.Helper()
	req := &engine.Request{
		ID:        "req-1",
		Operation: op,
		Path:      path,
		MountPath: "secret/",
		Data:      body(h.t, js),
		Caller:    &engine.Caller{TokenID: "t1"},
	}
	return h.b.Handle(context.Background(), req)
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
func (h *harness) fails(op engine.Operation, path, js string, kind error, msg string) {
	h.t.Helper()
	resp, err := h.do(op, path, js)
	if err == nil {
		h.t.Fatalf("%s %s %s: succeeded with %+v, want error %q", op, path, js, resp, msg)
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), msg) {
		h.t.Fatalf("%s %s %s: error %q (kind ok: %v), want %v containing %q", op, path, js, err, errors.Is(err, kind), kind, msg)
	}
}

func (h *harness) exists(path string) bool {
	h.t.Helper()
	ec, ok := h.b.(engine.ExistenceChecker)
	if !ok {
		h.t.Fatal("backend is not an ExistenceChecker")
	}
	found, supported, err := ec.Exists(context.Background(), &engine.Request{Operation: engine.OpUpdate, Path: path, MountPath: "secret/"})
	if err != nil || !supported {
		h.t.Fatalf("Exists(%q) = %v, supported=%v, err=%v", path, found, supported, err)
	}
	return found
}

// storedKeys lists every storage key below prefix.
func (h *harness) storedKeys(prefix string) []string {
	h.t.Helper()
	var out []string
	var walk func(p string)
	walk = func(p string) {
		keys, err := h.store.List(context.Background(), p)
		if err != nil {
			h.t.Fatalf("List(%q): %v", p, err)
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				walk(p + k)
				continue
			}
			out = append(out, p+k)
		}
	}
	walk(prefix)
	return out
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

// field returns resp.Data[k] as a map.
func field(t testing.TB, resp *engine.Response, k string) map[string]any {
	t.Helper()
	if resp == nil {
		t.Fatalf("no response, want data.%s", k)
	}
	if raw, isRaw := resp.Data[k].(json.RawMessage); isRaw {
		// KV v2 reads hand the stored JSON over as it is.
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || m == nil {
			t.Fatalf("data.%s = %s, want an object: %v", k, raw, err)
		}
		return m
	}
	m, ok := resp.Data[k].(map[string]any)
	if !ok {
		t.Fatalf("data.%s = %#v, want an object", k, resp.Data[k])
	}
	return m
}

// secretData decodes the "data" of a KV v2 read, which the engine hands
// over as the stored JSON.
func secretData(t testing.TB, resp *engine.Response) map[string]any {
	t.Helper()
	var m map[string]any
	raw, err := json.Marshal(resp.Data["data"])
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil || m == nil {
		t.Fatalf("data = %#v: %v", resp.Data["data"], err)
	}
	return m
}
