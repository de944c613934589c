package client

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestKVMount(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/sys/internal/ui/mounts/secret/app/db", 200, `{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`)
	f.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 200, `{"data":{"path":"kv/","type":"kv","options":null}}`)
	f.on("GET", "/v1/sys/internal/ui/mounts/bad/x", 200, `{"data":{"path":"bad/","options":{"version":2}}}`)
	f.on("GET", "/v1/sys/internal/ui/mounts/hidden/x", 403, `{"errors":["preflight capability check returned 403"]}`)
	f.on("GET", "/v1/sys/internal/ui/mounts/older/x", 404, `{"errors":["no handler for route"]}`)
	c := f.client(t, "t")

	cases := map[string]KVMount{
		"older/x":       {Path: "", Version: 1}, // 404 with a message: also v1
		"secret/app/db": {Path: "secret/", Version: 2},
		"kv/x":          {Path: "kv/", Version: 1},
		"old/x":         {Path: "", Version: 1}, // 404: older server
	}
	for p, want := range cases {
		m, err := c.KVMount(ctx, p)
		if err != nil || *m != want {
			t.Errorf("KVMount(%q) = %+v, %v; want %+v", p, m, err, want)
		}
	}
	if _, err := c.KVMount(ctx, "bad/x"); err == nil {
		t.Error("numeric options.version accepted")
	}
	if _, err := c.KVMount(ctx, "hidden/x"); StatusCode(err) != 403 {
		t.Errorf("403: err = %v", err)
	}
}

func TestKVv2(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	meta := `{"created_time":"2024-05-01T10:00:00.123456789Z","custom_metadata":{"owner":"ops"},"deletion_time":"","destroyed":false,"version":2}`
	f.on("GET", "/v1/secret/data/app", 200, `{"data":{"data":{"user":"u","port":5432},"metadata":`+meta+`}}`)
	f.on("GET", "/v1/secret/data/gone", 404, `{"data":{"data":null,"metadata":{"created_time":"2024-05-01T10:00:00Z","deletion_time":"2024-05-02T10:00:00Z","destroyed":false,"version":1}}}`)
	f.on("PUT", "/v1/secret/data/app", 200, `{"data":`+meta+`}`)
	f.on("PUT", "/v1/secret/data/empty", 204, "")
	f.on("POST", "/v1/secret/delete/app", 204, "")
	f.on("POST", "/v1/secret/undelete/app", 204, "")
	f.on("PUT", "/v1/secret/destroy/app", 204, "")
	f.on("DELETE", "/v1/secret/data/app", 204, "")
	f.on("GET", "/v1/secret/metadata/", 200, `{"data":{"keys":["app","dir/"]}}`)
	kv := f.client(t, "t").KVv2("/secret/")

	s, err := kv.Get(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	if s.Data["user"] != "u" || s.Metadata.Version != 2 || !s.Metadata.CreatedTime.Equal(want) ||
		!s.Metadata.DeletionTime.IsZero() || s.Metadata.CustomMetadata["owner"] != "ops" {
		t.Errorf("get = %+v %+v", s.Data, s.Metadata)
	}
	s, err = kv.GetVersion(ctx, "gone", 1)
	if err != nil || s.Data != nil || s.Metadata.DeletionTime.IsZero() {
		t.Errorf("deleted version: %+v, %v", s, err)
	}
	if f.last().Query != "version=1" {
		t.Errorf("version query = %q", f.last().Query)
	}
	if _, err := kv.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: err = %v", err)
	}

	v, err := kv.Put(ctx, "app", map[string]any{"user": "u"}, CAS(1))
	if err != nil || v.Version != 2 {
		t.Fatalf("put: %+v, %v", v, err)
	}
	b := f.last().Body
	if b["data"].(map[string]any)["user"] != "u" || b["options"].(map[string]any)["cas"] != 1.0 {
		t.Errorf("put body = %v", b)
	}
	if _, err := kv.Put(ctx, "empty", map[string]any{"a": "b"}); err == nil {
		t.Error("a 204 reply to a KV v2 put was accepted")
	}

	if err := kv.DeleteVersions(ctx, "app", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.last().Body["versions"], []any{1.0, 2.0}) {
		t.Errorf("delete body = %v", f.last().Body)
	}
	for name, err := range map[string]error{
		"undelete":      kv.Undelete(ctx, "app", []int{1}),
		"destroy":       kv.Destroy(ctx, "app", []int{1}),
		"delete latest": kv.Delete(ctx, "app"),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := kv.Destroy(ctx, "app", nil); err == nil {
		t.Error("destroy without versions succeeded")
	}
	keys, err := kv.List(ctx, "")
	if err != nil || !reflect.DeepEqual(keys, []string{"app", "dir/"}) {
		t.Errorf("list = %v, %v", keys, err)
	}
}

func TestKVv2PatchFallsBackOn405(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PATCH", "/v1/secret/data/app", 405, `{"errors":["unsupported operation"]}`)
	f.on("GET", "/v1/secret/data/app", 200, `{"data":{"data":{"a":"1","b":"2","n":{"x":"1","y":"2"}},"metadata":{"version":4,"created_time":"2024-05-01T10:00:00Z"}}}`)
	f.on("PUT", "/v1/secret/data/app", 200, `{"data":{"version":5,"created_time":"2024-05-01T11:00:00Z"}}`)
	f.on("PATCH", "/v1/secret/data/missing", 404, `{"errors":[]}`)
	kv := f.client(t, "t").KVv2("secret")

	v, err := kv.Patch(ctx, "app", map[string]any{"b": nil, "c": "3", "n": map[string]any{"y": nil}})
	if err != nil || v.Version != 5 {
		t.Fatalf("patch: %+v, %v", v, err)
	}
	b := f.last().Body
	wantData := map[string]any{"a": "1", "c": "3", "n": map[string]any{"x": "1"}}
	if !reflect.DeepEqual(b["data"], wantData) || b["options"].(map[string]any)["cas"] != 4.0 {
		t.Errorf("fallback write body = %v", b)
	}
	if _, err := kv.Patch(ctx, "missing", map[string]any{"a": "b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("patch of a missing key: %v", err)
	}
}

func TestKVv2Metadata(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/secret/metadata/app", 200, `{"data":{"cas_required":true,"created_time":"2024-05-01T10:00:00Z",
		"current_version":2,"custom_metadata":{"team":"a"},"delete_version_after":"3h0m0s","max_versions":5,
		"oldest_version":1,"updated_time":"2024-05-02T10:00:00Z","versions":{
		"1":{"created_time":"2024-05-01T10:00:00Z","deletion_time":"2024-05-01T12:00:00Z","destroyed":false},
		"2":{"created_time":"2024-05-02T10:00:00Z","deletion_time":"","destroyed":true}}}}`)
	f.on("PUT", "/v1/secret/metadata/app", 204, "")
	f.on("DELETE", "/v1/secret/metadata/app", 204, "")
	kv := f.client(t, "t").KVv2("secret")

	m, err := kv.Metadata(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if !m.CASRequired || m.CurrentVersion != 2 || m.MaxVersions != 5 || m.DeleteVersionAfter != 3*time.Hour ||
		m.CustomMetadata["team"] != "a" || len(m.Versions) != 2 || !m.Versions[2].Destroyed ||
		m.Versions[1].DeletionTime.IsZero() || m.Versions[1].Version != 1 {
		t.Errorf("metadata = %+v", m)
	}
	if _, err := kv.Metadata(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing metadata: %v", err)
	}
	max := 3
	if err := kv.PutMetadata(ctx, "app", &KVMetadataInput{MaxVersions: &max, CustomMetadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	b := f.last().Body
	if b["max_versions"] != 3.0 || b["custom_metadata"].(map[string]any)["k"] != "v" {
		t.Errorf("metadata body = %v", b)
	}
	if _, sent := b["cas_required"]; sent {
		t.Error("unset cas_required was sent")
	}
	if err := kv.DeleteMetadata(ctx, "app"); err != nil {
		t.Error(err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[any]time.Duration{"": 0, "90": 90 * time.Second, "1h30m": 90 * time.Minute, nil: 0} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%v) = %v, %v", in, got, err)
		}
	}
	if _, err := parseDuration("soon"); err == nil {
		t.Error("bad duration accepted")
	}
}

func TestKVv1(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/kv/app", 200, `{"lease_duration":2764800,"data":{"k":"v"}}`)
	f.on("PUT", "/v1/kv/app", 204, "")
	f.on("DELETE", "/v1/kv/app", 204, "")
	f.on("GET", "/v1/kv/", 200, `{"data":{"keys":["app"]}}`)
	kv := f.client(t, "t").KVv1("kv")

	d, err := kv.Get(ctx, "app")
	if err != nil || d["k"] != "v" {
		t.Errorf("get = %v, %v", d, err)
	}
	if _, err := kv.Get(ctx, "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := kv.Put(ctx, "app", map[string]any{"k": "v"}); err != nil {
		t.Error(err)
	}
	if err := kv.Put(ctx, "app", nil); err == nil {
		t.Error("empty put accepted")
	}
	if err := kv.Delete(ctx, "app"); err != nil {
		t.Error(err)
	}
	keys, err := kv.List(ctx, "")
	if err != nil || len(keys) != 1 {
		t.Errorf("list = %v, %v", keys, err)
	}
}
