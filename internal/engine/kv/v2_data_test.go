package kv

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

const (
	read   = engine.OpRead
	create = engine.OpCreate
	update = engine.OpUpdate
	patch  = engine.OpPatch
	del    = engine.OpDelete
	list   = engine.OpList
)

func TestV2WriteAndRead(t *testing.T) {
	h := newHarness(t, "2")
	created := h.clock.Now().Format(time.RFC3339Nano)

	resp := h.ok(create, "data/app/db", `{"data":{"user":"u","n":12345678901234567890,"nested":{"x":[1,2]}},"options":{}}`)
	if resp == nil || resp.Status != 0 {
		t.Fatalf("write answered %+v, want 200 with version metadata", resp)
	}
	jsonEq(t, "write data", resp.Data, `{"created_time":"`+created+`","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}`)

	h.clock.Advance(time.Second)
	got := h.ok(read, "data/app/db", "")
	jsonEq(t, "read data", got.Data, `{"data":{"user":"u","n":12345678901234567890,"nested":{"x":[1,2]}},
		"metadata":{"created_time":"`+created+`","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}}`)
	// Large integers survive exactly, as json.Number.
	if n, ok := field(t, got, "data")["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Fatalf("n = %#v, want json.Number 12345678901234567890", field(t, got, "data")["n"])
	}

	h.ok(update, "data/app/db", `{"data":{"user":"v"}}`)
	if v := field(t, h.ok(read, "data/app/db", ""), "data")["user"]; v != "v" {
		t.Fatalf("latest user = %v, want v", v)
	}
	if v := field(t, h.ok(read, "data/app/db", `{"version":"1"}`), "data")["user"]; v != "u" {
		t.Fatalf("version 1 user = %v, want u", v)
	}
}

func TestV2ReadMissing(t *testing.T) {
	h := newHarness(t, "2")
	h.ok(create, "data/a", `{"data":{"k":"v"}}`)
	h.ok(create, "metadata/only-meta", `{"max_versions":3}`)
	for _, tt := range []struct{ path, query string }{
		{"data/nope", ""},
		{"data/a", `{"version":"2"}`},
		{"data/a", `{"version":99}`},
		{"data/only-meta", ""},
		{"subkeys/nope", ""},
		{"metadata/nope", ""},
		{"data/a/b", ""},
	} {
		if resp := h.ok(read, tt.path, tt.query); resp != nil {
			t.Errorf("read %s %s = %+v, want nil (404)", tt.path, tt.query, resp)
		}
	}
	h.fails(read, "data/a", `{"version":"abc"}`, engine.ErrInvalidRequest, "invalid version")
	h.fails(read, "data/a", `{"version":-1}`, engine.ErrInvalidRequest, "invalid version: must not be negative")
}

func TestV2WriteBodyErrors(t *testing.T) {
	h := newHarness(t, "2")
	for _, tt := range []struct{ body, msg string }{
		{``, "invalid data: required"},
		{`{}`, "invalid data: required"},
		{`{"k":"v"}`, "invalid data: required"},
		{`{"data":"x"}`, "invalid data: required"},
		{`{"data":[1]}`, "invalid data: required"},
		{`{"data":null}`, "invalid data: required"},
		{`{"data":{},"options":"x"}`, "invalid options"},
		{`{"data":{},"options":{"cas":"x"}}`, "invalid options.cas"},
		{`{"data":{},"options":{"cas":-1}}`, "invalid options.cas: must not be negative"},
	} {
		h.fails(update, "data/k", tt.body, engine.ErrInvalidRequest, tt.msg)
		h.fails(patch, "data/k", tt.body, engine.ErrInvalidRequest, tt.msg)
	}
	if h.exists("data/k") {
		t.Fatal("a rejected write created the secret")
	}
	// Unknown options (the Go client's "method") are ignored, silently.
	resp := h.ok(update, "data/k", `{"data":{},"options":{"method":"patch","cas":0}}`)
	if len(resp.Warnings) != 0 || resp.Data["version"] != 1 {
		t.Fatalf("write with unknown option = %+v", resp)
	}
}

const (
	casMismatch = "check-and-set parameter did not match the current version"
	casRequired = "check-and-set parameter required for this call"
)

func TestV2CheckAndSet(t *testing.T) {
	type step struct {
		op   engine.Operation
		path string
		body string
		err  string // "" for success
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"cas 0 creates only", []step{
			{update, "data/k", `{"data":{"a":1},"options":{"cas":0}}`, ""},
			{update, "data/k", `{"data":{"a":2},"options":{"cas":0}}`, casMismatch},
		}},
		{"cas must equal current version", []step{
			{update, "data/k", `{"data":{"a":1}}`, ""},
			{update, "data/k", `{"data":{"a":2}}`, ""},
			{update, "data/k", `{"data":{"a":3},"options":{"cas":1}}`, casMismatch},
			{update, "data/k", `{"data":{"a":3},"options":{"cas":3}}`, casMismatch},
			{update, "data/k", `{"data":{"a":3},"options":{"cas":"2"}}`, ""},
		}},
		{"cas 0 fails after all versions deleted", []step{
			{update, "data/k", `{"data":{"a":1}}`, ""},
			{del, "data/k", ``, ""},
			{update, "data/k", `{"data":{"a":2},"options":{"cas":0}}`, casMismatch},
			{update, "data/k", `{"data":{"a":2},"options":{"cas":1}}`, ""},
		}},
		{"metadata-only key takes cas 0", []step{
			{update, "metadata/k", `{"custom_metadata":{"owner":"eso"}}`, ""},
			{update, "data/k", `{"data":{"a":1},"options":{"cas":0}}`, ""},
		}},
		{"required by mount config", []step{
			{update, "config", `{"cas_required":"true"}`, ""},
			{update, "data/k", `{"data":{"a":1}}`, casRequired},
			{update, "data/k", `{"data":{"a":1},"options":{}}`, casRequired},
			{update, "data/k", `{"data":{"a":1},"options":{"cas":0}}`, ""},
			{patch, "data/k", `{"data":{"a":2}}`, casRequired},
			{patch, "data/k", `{"data":{"a":2},"options":{"cas":1}}`, ""},
		}},
		{"required by key metadata", []step{
			{update, "data/k", `{"data":{"a":1}}`, ""},
			{update, "metadata/k", `{"cas_required":true}`, ""},
			{update, "data/k", `{"data":{"a":2}}`, casRequired},
			{update, "data/other", `{"data":{"a":2}}`, ""},
			{update, "data/k", `{"data":{"a":2},"options":{"cas":1}}`, ""},
		}},
		{"patch checks cas", []step{
			{update, "data/k", `{"data":{"a":1}}`, ""},
			{patch, "data/k", `{"data":{"a":2},"options":{"cas":0}}`, casMismatch},
			{patch, "data/k", `{"data":{"a":2},"options":{"cas":1}}`, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "2")
			for i, s := range tt.steps {
				_, err := h.do(s.op, s.path, s.body)
				switch {
				case s.err == "" && err != nil:
					t.Fatalf("step %d %s %s: %v", i, s.op, s.body, err)
				case s.err != "" && (err == nil || err.Error() != s.err || !isBadRequest(err)):
					t.Fatalf("step %d %s %s: err = %v, want 400 %q", i, s.op, s.body, err, s.err)
				}
			}
		})
	}
}

func isBadRequest(err error) bool {
	e, ok := err.(*engine.Error)
	return ok && e.Kind == engine.ErrInvalidRequest
}

func TestV2Patch(t *testing.T) {
	h := newHarness(t, "2")
	h.fails(patch, "data/k", `{"data":{"a":1}}`, engine.ErrNotFound, "no secret")
	h.ok(update, "metadata/k", `{}`)
	h.fails(patch, "data/k", `{"data":{"a":1}}`, engine.ErrNotFound, "no version")

	h.ok(update, "data/k", `{"data":{"a":1,"b":{"c":2,"d":3},"l":[1,2]}}`)
	resp := h.ok(patch, "data/k", `{"data":{"b":{"c":null,"e":4},"f":"x","l":[3]}}`)
	if resp.Data["version"] != 2 {
		t.Fatalf("patch answered %+v, want version 2", resp.Data)
	}
	jsonEq(t, "patched data", field(t, h.ok(read, "data/k", ""), "data"), `{"a":1,"b":{"d":3,"e":4},"f":"x","l":[3]}`)
	jsonEq(t, "version 1 untouched", field(t, h.ok(read, "data/k", `{"version":1}`), "data"), `{"a":1,"b":{"c":2,"d":3},"l":[1,2]}`)

	// Patching a deleted current version: 404 with the version's metadata.
	h.ok(del, "data/k", "")
	resp = h.ok(patch, "data/k", `{"data":{"a":9}}`)
	if resp == nil || resp.Status != 404 || resp.Data["data"] != nil {
		t.Fatalf("patch of deleted version = %+v, want 404 with metadata", resp)
	}
	if md := field(t, resp, "metadata"); md["version"] != 2 || md["deletion_time"] == "" {
		t.Fatalf("metadata = %v", md)
	}
}

func TestMergePatch(t *testing.T) {
	// The examples of RFC 7386, appendix A.
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, tt := range tests {
		var target, p any
		json.Unmarshal([]byte(tt.target), &target)
		json.Unmarshal([]byte(tt.patch), &p)
		patchCopy, _ := json.Marshal(p)
		jsonEq(t, "merge "+tt.target+" + "+tt.patch, mergePatch(target, p), tt.want)
		if after, _ := json.Marshal(p); string(after) != string(patchCopy) {
			t.Errorf("merge modified the patch: %s -> %s", patchCopy, after)
		}
	}
}

func TestV2DeleteUndeleteDestroy(t *testing.T) {
	h := newHarness(t, "2")
	for i := 1; i <= 3; i++ {
		h.ok(update, "data/k", `{"data":{"v":`+string(rune('0'+i))+`}}`)
	}
	gone := func(version string, destroyed bool) {
		t.Helper()
		resp := h.ok(read, "data/k", `{"version":"`+version+`"}`)
		if resp == nil || resp.Status != 404 {
			t.Fatalf("read v%s = %+v, want 404 with metadata", version, resp)
		}
		if v, ok := resp.Data["data"]; !ok || v != nil {
			t.Fatalf("read v%s: data = %#v, want present and null", version, resp.Data["data"])
		}
		md := field(t, resp, "metadata")
		if md["destroyed"] != destroyed || (!destroyed && md["deletion_time"] == "") {
			t.Fatalf("read v%s: metadata %v, want destroyed=%v", version, md, destroyed)
		}
	}
	alive := func(version string) {
		t.Helper()
		resp := h.ok(read, "data/k", `{"version":"`+version+`"}`)
		if resp == nil || resp.Status != 0 || resp.Data["data"] == nil {
			t.Fatalf("read v%s = %+v, want the data", version, resp)
		}
	}

	h.clock.Advance(time.Minute)
	if resp := h.ok(del, "data/k", ""); resp != nil {
		t.Fatalf("delete answered %+v, want nil (204)", resp)
	}
	gone("0", false)
	gone("3", false)
	alive("2")
	md := field(t, h.ok(read, "metadata/k", ""), "versions")["3"].(map[string]any)
	if md["deletion_time"] != h.clock.Now().Format(time.RFC3339Nano) {
		t.Fatalf("deletion_time = %v, want now", md["deletion_time"])
	}

	h.ok(update, "delete/k", `{"versions":[1,2,42]}`)
	gone("1", false)
	gone("2", false)
	h.ok(update, "undelete/k", `{"versions":["1","3"]}`) // the CLI sends strings
	alive("1")
	alive("3")
	gone("2", false)

	h.ok(update, "destroy/k", `{"versions":"2,3"}`)
	gone("2", true)
	gone("3", true)
	h.ok(update, "undelete/k", `{"versions":[2,3]}`)
	gone("3", true)
	for _, k := range h.storedKeys("ver/") {
		if strings.HasSuffix(k, "/2") || strings.HasSuffix(k, "/3") {
			t.Fatalf("destroyed version data still stored at %s", k)
		}
	}
	alive("1")

	for _, p := range []string{"delete/k", "undelete/k", "destroy/k"} {
		h.fails(update, p, `{}`, engine.ErrInvalidRequest, "invalid versions: required")
		h.fails(update, p, `{"versions":[]}`, engine.ErrInvalidRequest, "invalid versions: required")
		h.fails(update, p, `{"versions":["x"]}`, engine.ErrInvalidRequest, "invalid versions[0]")
		if resp := h.ok(update, strings.Replace(p, "/k", "/missing", 1), `{"versions":[1]}`); resp != nil {
			t.Fatalf("%s of a missing secret = %+v, want nil", p, resp)
		}
	}
	// Deleting when the latest version is already gone is a no-op.
	if resp := h.ok(del, "data/k", ""); resp != nil {
		t.Fatalf("delete answered %+v", resp)
	}
	if resp := h.ok(del, "data/missing", ""); resp != nil {
		t.Fatalf("delete of missing secret answered %+v", resp)
	}
}

// A version whose data was wiped before its metadata was updated (a crash
// in the middle of a destroy, then a restart) reads as destroyed.
func TestV2MissingVersionDataReadsDestroyed(t *testing.T) {
	h := newHarness(t, "2")
	h.ok(update, "data/k", `{"data":{"a":1}}`)
	if err := h.store.Delete(t.Context(), versionKey("k", 1)); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	resp := h.ok(read, "data/k", "")
	if resp == nil || resp.Status != 404 || field(t, resp, "metadata")["destroyed"] != true {
		t.Fatalf("read = %+v, want 404 destroyed", resp)
	}
}

func TestV2MaxVersions(t *testing.T) {
	writeN := func(h *harness, p string, n int) {
		for range n {
			h.ok(update, "data/"+p, `{"data":{"a":1}}`)
		}
	}
	versions := func(h *harness, p string) (keys []string, oldest any) {
		md := h.ok(read, "metadata/"+p, "")
		for k := range field(t, md, "versions") {
			keys = append(keys, k)
		}
		return keys, md.Data["oldest_version"]
	}
	blobs := func(h *harness, p string) int { return len(h.storedKeys(versionPrefix(p))) }

	h := newHarness(t, "2")
	writeN(h, "default", 12)
	if keys, oldest := versions(h, "default"); len(keys) != 10 || oldest != 3 || blobs(h, "default") != 10 {
		t.Fatalf("default: versions %v oldest %v blobs %d, want 10 kept from 3", keys, oldest, blobs(h, "default"))
	}
	if keys, oldest := func() ([]string, any) { writeN(h, "few", 2); return versions(h, "few") }(); len(keys) != 2 || oldest != 0 {
		t.Fatalf("few: versions %v oldest %v, want 2 and oldest 0 (nothing pruned)", keys, oldest)
	}

	h.ok(update, "config", `{"max_versions":"3"}`)
	writeN(h, "cfg", 5)
	keys, oldest := versions(h, "cfg")
	if len(keys) != 3 || oldest != 3 || blobs(h, "cfg") != 3 {
		t.Fatalf("config 3: versions %v oldest %v blobs %d", keys, oldest, blobs(h, "cfg"))
	}
	if resp := h.ok(read, "data/cfg", `{"version":2}`); resp != nil {
		t.Fatalf("pruned version readable: %+v", resp)
	}

	// The key's own limit wins, and lowering it prunes at once.
	h.ok(update, "metadata/cfg", `{"max_versions":1}`)
	if keys, oldest := versions(h, "cfg"); len(keys) != 1 || keys[0] != "5" || oldest != 5 || blobs(h, "cfg") != 1 {
		t.Fatalf("key 1: versions %v oldest %v blobs %d", keys, oldest, blobs(h, "cfg"))
	}
	writeN(h, "cfg", 1)
	if keys, _ := versions(h, "cfg"); len(keys) != 1 || keys[0] != "6" {
		t.Fatalf("key 1 after write: versions %v", keys)
	}
	h.fails(update, "metadata/cfg", `{"max_versions":-1}`, engine.ErrInvalidRequest, "invalid max_versions")
}

func TestV2DeleteVersionAfter(t *testing.T) {
	h := newHarness(t, "2")
	h.ok(update, "config", `{"delete_version_after":"1h"}`)
	start := h.clock.Now()
	resp := h.ok(update, "data/k", `{"data":{"a":1}}`)
	wantDeletion := start.Add(time.Hour).Format(time.RFC3339Nano)
	if resp.Data["deletion_time"] != wantDeletion {
		t.Fatalf("deletion_time = %v, want %s", resp.Data["deletion_time"], wantDeletion)
	}
	h.clock.Advance(59 * time.Minute)
	if resp := h.ok(read, "data/k", ""); resp.Status != 0 || resp.Data["data"] == nil {
		t.Fatalf("read before expiry = %+v", resp)
	}
	h.clock.Advance(2 * time.Minute)
	if resp := h.ok(read, "data/k", ""); resp.Status != 404 || resp.Data["data"] != nil {
		t.Fatalf("read after expiry = %+v, want 404 with metadata", resp)
	}
	// An expired version counts as deleted for DELETE and for patch.
	if resp := h.ok(patch, "data/k", `{"data":{"b":1}}`); resp.Status != 404 {
		t.Fatalf("patch after expiry = %+v, want 404", resp)
	}

	// The smaller of the key's and the mount's settings applies.
	h.ok(update, "metadata/short", `{"delete_version_after":"30m"}`)
	h.ok(update, "metadata/long", `{"delete_version_after":"3h"}`)
	now := h.clock.Now()
	for p, after := range map[string]time.Duration{"short": 30 * time.Minute, "long": time.Hour} {
		resp := h.ok(update, "data/"+p, `{"data":{"a":1}}`)
		if want := now.Add(after).Format(time.RFC3339Nano); resp.Data["deletion_time"] != want {
			t.Errorf("%s: deletion_time = %v, want %s", p, resp.Data["deletion_time"], want)
		}
	}
	md := h.ok(read, "metadata/short", "")
	if md.Data["delete_version_after"] != "30m0s" {
		t.Fatalf("delete_version_after = %v", md.Data["delete_version_after"])
	}
	// Undelete clears a pending deletion.
	h.ok(update, "undelete/short", `{"versions":[1]}`)
	h.clock.Advance(24 * time.Hour)
	if resp := h.ok(read, "data/short", ""); resp.Status != 0 {
		t.Fatalf("undeleted version = %+v", resp)
	}
	h.fails(update, "config", `{"delete_version_after":"-1h"}`, engine.ErrInvalidRequest, "invalid delete_version_after")
}

func TestV2Subkeys(t *testing.T) {
	h := newHarness(t, "2")
	h.ok(update, "data/k", `{"data":{"a":1,"b":{"c":{"d":"x"},"e":{}},"f":[1,{"g":1}]}}`)
	for _, tt := range []struct{ query, want string }{
		{``, `{"a":null,"b":{"c":{"d":null},"e":null},"f":null}`},
		{`{"depth":"0"}`, `{"a":null,"b":{"c":{"d":null},"e":null},"f":null}`},
		{`{"depth":"1"}`, `{"a":null,"b":null,"f":null}`},
		{`{"depth":2}`, `{"a":null,"b":{"c":null,"e":null},"f":null}`},
	} {
		resp := h.ok(read, "subkeys/k", tt.query)
		jsonEq(t, "subkeys "+tt.query, resp.Data["subkeys"], tt.want)
		if field(t, resp, "metadata")["version"] != 1 {
			t.Fatalf("metadata = %v", resp.Data["metadata"])
		}
	}
	h.fails(read, "subkeys/k", `{"depth":-1}`, engine.ErrInvalidRequest, "invalid depth")
	h.ok(del, "data/k", "")
	resp := h.ok(read, "subkeys/k", "")
	if resp.Status != 404 || resp.Data["subkeys"] != nil || resp.Data["metadata"] == nil {
		t.Fatalf("subkeys of deleted = %+v", resp)
	}
}
