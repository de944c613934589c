package kv

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// FuzzKVPath checks that no path panics a KV mount, that validation
// accepts only paths that make good storage keys, and that every accepted
// path round-trips through a v2 write and read.
func FuzzKVPath(f *testing.F) {
	for _, s := range []string{
		"app/db", "a", "dir/sub/key", "with spaces/ünïcode", "a..b/.c/d.", "x/1/2",
		"", "/", "a/", "/a", "a//b", "..", "a/../b", "./a", "a/.", "a\x00b", "\xff\xfe",
		"a\nb", strings.Repeat("k", MaxPathLen), strings.Repeat("k/", 600),
	} {
		f.Add(s)
	}
	h := newHarness(f, "2")
	v1h := newHarness(f, "1")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, p string) {
		err := validatePath(p)
		if err == nil {
			if strings.Contains("/"+p+"/", "/../") || strings.Contains(p, "//") || len(p) > MaxPathLen ||
				!storage.ValidKey(p) || !storage.ValidKey(metaKey(p)) || !storage.ValidPrefix(p+"/") {
				t.Fatalf("validatePath accepted %q", p)
			}
		} else if !errors.Is(err, engine.ErrInvalidRequest) {
			t.Fatalf("validatePath(%q) = %v, want an invalid request", p, err)
		}
		if perr := validatePrefix(p + "/"); (perr == nil) != (err == nil) {
			t.Fatalf("validatePrefix(%q/) = %v but validatePath = %v", p, perr, err)
		}

		// Nothing panics, whatever the route.
		for _, op := range []engine.Operation{read, update, patch, del, list} {
			for _, route := range []string{"", "data/", "metadata/", "subkeys/", "destroy/"} {
				req := &engine.Request{Operation: op, Path: route + p, Data: map[string]any{"data": map[string]any{"k": "v"}, "versions": []any{1}}}
				h.b.Handle(ctx, req)
				v1h.b.Handle(ctx, &engine.Request{Operation: op, Path: route + p, Data: map[string]any{"k": "v"}})
			}
		}
		if err != nil {
			return
		}
		if _, werr := h.b.Handle(ctx, &engine.Request{Operation: update, Path: "data/" + p, Data: map[string]any{"data": map[string]any{"k": p}}}); werr != nil {
			t.Fatalf("write %q: %v", p, werr)
		}
		resp, rerr := h.b.Handle(ctx, &engine.Request{Operation: read, Path: "data/" + p})
		if rerr != nil || resp == nil || resp.Status != 0 || secretData(t, resp)["k"] != p {
			t.Fatalf("read back %q = %+v, %v", p, resp, rerr)
		}
	})
}
