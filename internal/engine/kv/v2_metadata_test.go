package kv

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestV2MetadataOnKeyWithoutVersions(t *testing.T) {
	// External Secrets' PushSecret writes metadata before the secret exists.
	h := newHarness(t, "2")
	if resp := h.ok(create, "metadata/app", `{"custom_metadata":{"managed-by":"external-secrets"}}`); resp != nil {
		t.Fatalf("metadata write answered %+v, want nil (204)", resp)
	}
	now := h.clock.Now().Format(time.RFC3339Nano)
	jsonEq(t, "metadata", h.ok(read, "metadata/app", "").Data, `{
		"cas_required":false,"created_time":"`+now+`","current_version":0,
		"custom_metadata":{"managed-by":"external-secrets"},"delete_version_after":"0s",
		"max_versions":0,"oldest_version":0,"updated_time":"`+now+`","versions":{}}`)

	h.clock.Advance(time.Second)
	later := h.clock.Now().Format(time.RFC3339Nano)
	resp := h.ok(update, "data/app", `{"data":{"k":"v"}}`)
	jsonEq(t, "write", resp.Data, `{"created_time":"`+later+`","custom_metadata":{"managed-by":"external-secrets"},
		"deletion_time":"","destroyed":false,"version":1}`)
	jsonEq(t, "metadata after write", h.ok(read, "metadata/app", "").Data, `{
		"cas_required":false,"created_time":"`+now+`","current_version":1,
		"custom_metadata":{"managed-by":"external-secrets"},"delete_version_after":"0s",
		"max_versions":0,"oldest_version":0,"updated_time":"`+later+`",
		"versions":{"1":{"created_time":"`+later+`","deletion_time":"","destroyed":false}}}`)
}

func TestV2MetadataWrite(t *testing.T) {
	h := newHarness(t, "2")
	h.ok(update, "metadata/k", `{"max_versions":"4","cas_required":"true","delete_version_after":"3h25m19s","custom_metadata":{"a":"1","n":5}}`)
	md := h.ok(read, "metadata/k", "").Data
	jsonEq(t, "settings", []any{md["max_versions"], md["cas_required"], md["delete_version_after"], md["custom_metadata"]},
		`[4,true,"3h25m19s",{"a":"1","n":"5"}]`)

	// Fields not sent are left alone.
	h.ok(update, "metadata/k", `{"max_versions":2}`)
	md = h.ok(read, "metadata/k", "").Data
	jsonEq(t, "after partial write", []any{md["max_versions"], md["cas_required"], md["delete_version_after"], md["custom_metadata"]},
		`[2,true,"3h25m19s",{"a":"1","n":"5"}]`)

	resp := h.ok(update, "metadata/k", `{"bogus":1}`)
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "bogus") {
		t.Fatalf("unknown field: %+v, want a warning naming it", resp)
	}

	many := make([]string, 0, 65)
	for i := range 65 {
		many = append(many, fmt.Sprintf(`"k%d":"v"`, i))
	}
	for _, tt := range []struct{ body, msg string }{
		{`{"custom_metadata":{"k":{"x":1}}}`, "invalid custom_metadata.k"},
		{`{"custom_metadata":{"k":null}}`, "invalid custom_metadata.k"},
		{`{"custom_metadata":{"k":["a"]}}`, "invalid custom_metadata.k"},
		{`{"custom_metadata":{"k":"` + strings.Repeat("v", 513) + `"}}`, "invalid custom_metadata.k: values must be at most 512 bytes"},
		{`{"custom_metadata":{"` + strings.Repeat("k", 129) + `":"v"}}`, "invalid custom_metadata: keys must be at most 128 bytes"},
		{`{"custom_metadata":{"":"v"}}`, "invalid custom_metadata: keys must not be empty"},
		{`{"custom_metadata":{"k":"a\u0000b"}}`, "invalid custom_metadata.k: values must be printable"},
		{`{"custom_metadata":{` + strings.Join(many, ",") + `}}`, "invalid custom_metadata: at most 64 keys"},
		{`{"custom_metadata":"nope"}`, "invalid custom_metadata"},
		{`{"cas_required":"maybe"}`, "invalid cas_required"},
		{`{"delete_version_after":"soon"}`, "invalid delete_version_after"},
	} {
		h.fails(update, "metadata/k", tt.body, engine.ErrInvalidRequest, tt.msg)
	}
	if h.exists("metadata/rejected") {
		t.Fatal("rejected write created metadata")
	}
}

func TestV2MetadataPatch(t *testing.T) {
	h := newHarness(t, "2")
	h.fails(patch, "metadata/k", `{"max_versions":3}`, engine.ErrNotFound, "no secret")
	h.ok(update, "metadata/k", `{"max_versions":5,"cas_required":true,"custom_metadata":{"a":"1","b":"2"}}`)
	if resp := h.ok(patch, "metadata/k", `{"max_versions":3,"custom_metadata":{"a":null,"c":"3"}}`); resp != nil {
		t.Fatalf("patch answered %+v, want nil (204)", resp)
	}
	md := h.ok(read, "metadata/k", "").Data
	jsonEq(t, "patched", []any{md["max_versions"], md["cas_required"], md["custom_metadata"]}, `[3,true,{"b":"2","c":"3"}]`)

	// null resets a field to its default.
	h.ok(patch, "metadata/k", `{"cas_required":null,"custom_metadata":null}`)
	md = h.ok(read, "metadata/k", "").Data
	jsonEq(t, "reset", []any{md["max_versions"], md["cas_required"], md["custom_metadata"]}, `[3,false,null]`)

	h.fails(patch, "metadata/k", `{"custom_metadata":{"x":{"y":1}}}`, engine.ErrInvalidRequest, "invalid custom_metadata.x")
	h.fails(patch, "metadata/k", `{"max_versions":-2}`, engine.ErrInvalidRequest, "invalid max_versions")
	if resp := h.ok(patch, "metadata/k", `{"bogus":true}`); resp == nil || len(resp.Warnings) != 1 {
		t.Fatalf("unknown field: %+v, want a warning", resp)
	}
	if md := h.ok(read, "metadata/k", "").Data; md["max_versions"] != 3 {
		t.Fatalf("failed patches changed metadata: %v", md)
	}
}

func TestV2MetadataDelete(t *testing.T) {
	h := newHarness(t, "2")
	for range 3 {
		h.ok(update, "data/k", `{"data":{"a":1}}`)
	}
	h.ok(update, "data/k/child", `{"data":{"a":1}}`)
	h.ok(update, "destroy/k", `{"versions":[1]}`)
	if resp := h.ok(del, "metadata/k", ""); resp != nil {
		t.Fatalf("delete answered %+v", resp)
	}
	if resp := h.ok(read, "metadata/k", ""); resp != nil {
		t.Fatalf("metadata survived: %+v", resp)
	}
	if resp := h.ok(read, "data/k", `{"version":2}`); resp != nil {
		t.Fatalf("data survived: %+v", resp)
	}
	if left := h.storedKeys(versionPrefix("k")); len(left) != 0 {
		t.Fatalf("version data left behind: %v", left)
	}
	// The child secret is untouched; a new write starts again at version 1.
	if resp := h.ok(read, "data/k/child", ""); resp == nil || resp.Status != 0 {
		t.Fatalf("child secret = %+v", resp)
	}
	if v := h.ok(update, "data/k", `{"data":{"a":1},"options":{"cas":0}}`).Data["version"]; v != 1 {
		t.Fatalf("version after re-create = %v, want 1", v)
	}
	if resp := h.ok(del, "metadata/missing", ""); resp != nil {
		t.Fatalf("delete of missing = %+v", resp)
	}
}

func TestV2List(t *testing.T) {
	h := newHarness(t, "2")
	for _, p := range []string{"a", "dir/b", "dir/c/d", "a/x"} {
		h.ok(update, "data/"+p, `{"data":{"k":"v"}}`)
	}
	h.ok(update, "metadata/only-meta", `{}`)
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"metadata/", []string{"a", "a/", "dir/", "only-meta"}},
		{"metadata", []string{"a", "a/", "dir/", "only-meta"}},
		{"metadata/dir/", []string{"b", "c/"}},
		{"metadata/dir/c/", []string{"d"}},
		{"metadata/nope/", nil},
		{"metadata/a/x/", nil},
	} {
		resp := h.ok(list, tt.path, "")
		var got []string
		if resp != nil {
			got = resp.Data["keys"].([]string)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("list %s = %v, want %v", tt.path, got, tt.want)
		}
	}
	h.fails(list, "metadata/../", "", engine.ErrInvalidRequest, "invalid path")
	h.fails(list, "metadata/a//", "", engine.ErrInvalidRequest, "invalid path")
	h.fails(list, "metadata/dir", "", engine.ErrInvalidRequest, "invalid path")
}

func TestV2Config(t *testing.T) {
	h := newHarness(t, "2")
	jsonEq(t, "defaults", h.ok(read, "config", "").Data, `{"cas_required":false,"delete_version_after":"0s","max_versions":0}`)
	if resp := h.ok(update, "config", `{"max_versions":"5","cas_required":"true","delete_version_after":"90"}`); resp != nil {
		t.Fatalf("config write answered %+v, want nil (204)", resp)
	}
	jsonEq(t, "written", h.ok(read, "config", "").Data, `{"cas_required":true,"delete_version_after":"1m30s","max_versions":5}`)
	h.ok(update, "config", `{"cas_required":false}`)
	jsonEq(t, "partial", h.ok(read, "config", "").Data, `{"cas_required":false,"delete_version_after":"1m30s","max_versions":5}`)
	h.fails(update, "config", `{"max_versions":-1}`, engine.ErrInvalidRequest, "invalid max_versions")
	h.fails(update, "config", `{"max_versions":"lots"}`, engine.ErrInvalidRequest, "invalid max_versions")
	h.fails(del, "config", "", engine.ErrUnsupportedOperation, "unsupported operation")
}

func TestV2InvalidPaths(t *testing.T) {
	h := newHarness(t, "2")
	for _, tt := range []struct {
		op   engine.Operation
		path string
		cmd  string
	}{
		{read, "foo", "ward kv get"},
		{read, "foo/bar", "ward kv get"},
		{read, "", "ward kv get"},
		{update, "foo", "ward kv put"},
		{create, "", "ward kv put"},
		{patch, "foo", "ward kv patch"},
		{del, "foo", "ward kv delete"},
		{list, "foo/", "ward kv list"},
		{list, "", "ward kv list"},
		{read, "data", "ward kv get"},
		{read, "data/", "ward kv get"},
		{update, "data/", "ward kv put"},
		{list, "data/", "ward kv list"},
		{list, "data/dir/", "ward kv list"},
		{read, "metadata/", "ward kv get"},
		{update, "delete/", "ward kv put"},
		{update, "destroy", "ward kv put"},
		{read, "subkeys", "ward kv get"},
	} {
		resp, err := h.do(tt.op, tt.path, `{"data":{"a":1}}`)
		if err != nil || resp == nil || resp.Status != 404 || resp.Data != nil ||
			len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "'"+tt.cmd+"'") {
			t.Errorf("%s %q = %+v, %v; want 404 with a warning naming %q", tt.op, tt.path, resp, err, tt.cmd)
		}
	}
	if keys := h.storedKeys(""); len(keys) != 0 {
		t.Fatalf("invalid paths stored something: %v", keys)
	}

	for _, p := range []string{"a//b", "../x", "a/../b", "a/./b", "a/", "/a", "a\x00b", "a\nb", "\xff", strings.Repeat("x", MaxPathLen+1)} {
		for _, prefix := range []string{"data/", "metadata/", "subkeys/"} {
			h.fails(read, prefix+p, "", engine.ErrInvalidRequest, "invalid path")
		}
		h.fails(update, "data/"+p, `{"data":{"a":1}}`, engine.ErrInvalidRequest, "invalid path")
		h.fails(update, "metadata/"+p, `{}`, engine.ErrInvalidRequest, "invalid path")
		h.fails(update, "destroy/"+p, `{"versions":[1]}`, engine.ErrInvalidRequest, "invalid path")
		h.fails(del, "metadata/"+p, "", engine.ErrInvalidRequest, "invalid path")
	}
	h.fails(read, "data/a/../b", "", engine.ErrInvalidRequest, "path cannot contain parent references")
	h.ok(update, "data/"+strings.Repeat("x", MaxPathLen), `{"data":{"a":1}}`)
	h.ok(update, "data/ünï cødé/with spaces/and.dots..x", `{"data":{"a":1}}`)
}

func TestV2Exists(t *testing.T) {
	h := newHarness(t, "2")
	for _, p := range []string{"data/k", "metadata/k", "data/", "data/a//b"} {
		if h.exists(p) {
			t.Fatalf("Exists(%s) before any write", p)
		}
	}
	h.ok(update, "metadata/k", `{}`)
	if !h.exists("data/k") || !h.exists("metadata/k") {
		t.Fatal("a key with metadata but no version does not exist")
	}
	h.ok(update, "data/k", `{"data":{"a":1}}`)
	h.ok(del, "data/k", "")
	if !h.exists("data/k") {
		t.Fatal("a soft-deleted key does not exist")
	}
	h.ok(del, "metadata/k", "")
	if h.exists("data/k") || h.exists("metadata/k") {
		t.Fatal("a key exists after its metadata was deleted")
	}
	// Paths without an existence check: every write is an update.
	for _, p := range []string{"config", "delete/k", "destroy/k", "undelete/k", "foo"} {
		_, supported, err := h.b.(engine.ExistenceChecker).Exists(t.Context(), &engine.Request{Path: p})
		if supported || err != nil {
			t.Errorf("Exists(%s): supported=%v err=%v, want unsupported", p, supported, err)
		}
	}
}

// Concurrent writers with check-and-set never lose an update: each
// successful write saw the version it replaced.
func TestV2ConcurrentCheckAndSet(t *testing.T) {
	h := newHarness(t, "2")
	const writers, each = 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := map[int]int{}
	creates := 0
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.do(update, "data/k", `{"data":{"a":1},"options":{"cas":0}}`); err == nil {
				mu.Lock()
				creates++
				mu.Unlock()
			}
			for done := 0; done < each; {
				md, err := h.do(read, "metadata/k", "")
				if err != nil || md == nil {
					continue
				}
				cur := md.Data["current_version"].(int)
				resp, err := h.do(update, "data/k", fmt.Sprintf(`{"data":{"a":1},"options":{"cas":%d}}`, cur))
				if err != nil {
					if err.Error() != casMismatch {
						t.Errorf("write: %v", err)
						return
					}
					continue
				}
				mu.Lock()
				wins[resp.Data["version"].(int)]++
				mu.Unlock()
				done++
			}
		}()
	}
	wg.Wait()
	if creates != 1 {
		t.Fatalf("%d writers created the key with cas=0, want exactly 1", creates)
	}
	if len(wins) != writers*each {
		t.Fatalf("%d distinct versions won, want %d", len(wins), writers*each)
	}
	for v, n := range wins {
		if n != 1 {
			t.Fatalf("version %d written %d times", v, n)
		}
	}
	if cur := h.ok(read, "metadata/k", "").Data["current_version"]; cur != writers*each+1 {
		t.Fatalf("current_version = %v, want %d", cur, writers*each+1)
	}
}

func TestFactory(t *testing.T) {
	for _, tt := range []struct {
		version string
		v2      bool
		err     bool
	}{
		{"", false, false}, {"1", false, false}, {"2", true, false}, {" 2 ", true, false},
		{"3", false, true}, {"v2", false, true},
	} {
		b, err := Factory(t.Context(), engine.Env{Options: map[string]string{"version": tt.version}, Storage: newHarness(t, "1").store})
		if (err != nil) != tt.err {
			t.Errorf("version %q: err = %v", tt.version, err)
			continue
		}
		if err != nil {
			continue
		}
		if _, isV2 := b.(*v2); isV2 != tt.v2 {
			t.Errorf("version %q: got %T", tt.version, b)
		}
	}
	if _, err := Factory(t.Context(), engine.Env{}); err == nil {
		t.Error("Factory without storage succeeded")
	}
}
