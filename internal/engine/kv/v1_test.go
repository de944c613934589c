package kv

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func TestV1ReadWriteDeleteList(t *testing.T) {
	h := newHarness(t, "1")
	if resp := h.ok(create, "app/db", `{"user":"u","n":12345678901234567890,"nested":{"a":[1]}}`); resp != nil {
		t.Fatalf("write answered %+v, want nil (204)", resp)
	}
	h.ok(create, "app/api", `{"k":"v"}`)
	h.ok(create, "top", `{"k":"v"}`)
	resp := h.ok(read, "app/db", "")
	jsonEq(t, "read", resp.Data, `{"user":"u","n":12345678901234567890,"nested":{"a":[1]}}`)
	if n, ok := resp.Data["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Fatalf("n = %#v, want an exact json.Number", resp.Data["n"])
	}
	if resp.LeaseID != "" || resp.Renewable {
		t.Fatalf("v1 read created a lease: %+v", resp)
	}

	h.ok(update, "app/db", `{"user":"w"}`)
	jsonEq(t, "overwritten", h.ok(read, "app/db", "").Data, `{"user":"w"}`)

	for _, tt := range []struct {
		path string
		want []string
	}{
		{"", []string{"app/", "top"}},
		{"app/", []string{"api", "db"}},
		{"nope/", nil},
	} {
		var got []string
		if resp := h.ok(list, tt.path, ""); resp != nil {
			got = resp.Data["keys"].([]string)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("list %q = %v, want %v", tt.path, got, tt.want)
		}
	}

	if resp := h.ok(del, "app/db", ""); resp != nil {
		t.Fatalf("delete answered %+v", resp)
	}
	for _, p := range []string{"app/db", "missing", ""} {
		if resp := h.ok(read, p, ""); resp != nil {
			t.Fatalf("read %q = %+v, want nil (404)", p, resp)
		}
	}
	h.ok(del, "missing", "")

	for _, b := range []string{``, `{}`} {
		h.fails(update, "x", b, engine.ErrInvalidRequest, "missing data fields")
	}
	for _, p := range []string{"", "a//b", "../x", "a/", "/a", "a\x01"} {
		h.fails(update, p, `{"k":"v"}`, engine.ErrInvalidRequest, "invalid path")
	}
	h.fails(del, "a/../b", "", engine.ErrInvalidRequest, "parent references")
	h.fails(list, "a", "", engine.ErrInvalidRequest, "invalid path")
	h.fails(patch, "top", `{"k":"v"}`, engine.ErrUnsupportedOperation, "unsupported")
}

func TestV1TTLHint(t *testing.T) {
	tests := []struct {
		name  string
		mount time.Duration
		body  string
		want  time.Duration
	}{
		{"no ttl, no mount default", 0, `{"k":"v"}`, 768 * time.Hour},
		{"no ttl, mount default", 2 * time.Hour, `{"k":"v"}`, 2 * time.Hour},
		{"ttl string", 0, `{"ttl":"1h"}`, time.Hour},
		{"ttl seconds string", 0, `{"ttl":"90"}`, 90 * time.Second},
		{"ttl number", 0, `{"ttl":90}`, 90 * time.Second},
		{"ttl zero", 2 * time.Hour, `{"ttl":"0s"}`, 0},
		{"lease", 0, `{"lease":"30m"}`, 30 * time.Minute},
		{"ttl beats lease", 0, `{"ttl":"1m","lease":"30m"}`, time.Minute},
		{"bad ttl falls back", 2 * time.Hour, `{"ttl":"soon"}`, 2 * time.Hour},
		{"negative ttl falls back", 0, `{"ttl":"-5s"}`, 768 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Factory(context.Background(), engine.Env{Storage: inmem.New(), LeaseTTLs: func() (time.Duration, time.Duration) { return tt.mount, 0 }})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := b.Handle(ctx, &engine.Request{Operation: update, Path: "k", Data: body(t, tt.body)}); err != nil {
				t.Fatal(err)
			}
			resp, err := b.Handle(ctx, &engine.Request{Operation: read, Path: "k"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.LeaseDuration != tt.want {
				t.Fatalf("lease duration = %v, want %v", resp.LeaseDuration, tt.want)
			}
		})
	}
}

func TestV1Exists(t *testing.T) {
	h := newHarness(t, "1")
	if h.exists("k") || h.exists("") || h.exists("a//b") {
		t.Fatal("exists before write")
	}
	h.ok(create, "k", `{"a":1}`)
	if !h.exists("k") {
		t.Fatal("written key does not exist")
	}
	if h.exists("k/child") {
		t.Fatal("child of a key exists")
	}
	h.ok(del, "k", "")
	if h.exists("k") {
		t.Fatal("deleted key exists")
	}
}
