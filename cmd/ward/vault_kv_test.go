package main

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultKVv2 drives the KV v2 engine at secret/ with the Go client's
// KVv2 helpers.
func TestVaultKVv2(t *testing.T) {
	srv := startDev(t)
	c := vaultClient(t, srv.Addr, "root")
	kv := c.KVv2("secret")
	ctx := context.Background()

	t.Run("put and get", func(t *testing.T) {
		s, err := kv.Put(ctx, "app/db", map[string]any{"user": "admin", "nested": map[string]any{"n": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if s.VersionMetadata == nil || s.VersionMetadata.Version != 1 || s.VersionMetadata.CreatedTime.IsZero() {
			t.Fatalf("put metadata = %+v", s.VersionMetadata)
		}
		// Unknown options are ignored.
		if _, err := kv.Put(ctx, "app/db", map[string]any{"user": "admin2"}, vaultapi.WithOption("shiny", true)); err != nil {
			t.Fatal(err)
		}
		got, err := kv.Get(ctx, "app/db")
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["user"] != "admin2" || got.VersionMetadata.Version != 2 {
			t.Fatalf("get = %v %+v", got.Data, got.VersionMetadata)
		}
		// Numbers reach callers as json.Number (UseNumber decoding).
		v1, err := kv.GetVersion(ctx, "app/db", 1)
		if err != nil {
			t.Fatal(err)
		}
		nested, _ := v1.Data["nested"].(map[string]any)
		if n, ok := nested["n"].(json.Number); !ok || n.String() != "1" {
			t.Fatalf("version 1 nested = %#v", v1.Data["nested"])
		}
		if v1.VersionMetadata.Version != 1 {
			t.Fatalf("version 1 metadata = %+v", v1.VersionMetadata)
		}
		if v, ok := got.Raw.Data["metadata"].(map[string]any)["version"].(json.Number); !ok || v.String() != "2" {
			t.Fatalf("raw metadata.version = %#v, want json.Number 2", got.Raw.Data["metadata"])
		}
	})

	t.Run("not found", func(t *testing.T) {
		_, err := kv.Get(ctx, "nope")
		if !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("get missing: %v, want ErrSecretNotFound", err)
		}
		_, err = kv.GetVersion(ctx, "app/db", 99)
		if !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("get missing version: %v, want ErrSecretNotFound", err)
		}
		_, err = kv.GetMetadata(ctx, "nope")
		if !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("get missing metadata: %v, want ErrSecretNotFound", err)
		}
		r := rawCall(t, "GET", srv.Addr, "secret/data/nope", "root", nil)
		if r.Status != 404 || strings.TrimSpace(string(r.Body)) != `{"errors":[]}` {
			t.Fatalf("missing key: %d %s", r.Status, r.Body)
		}
	})

	t.Run("cas", func(t *testing.T) {
		if _, err := kv.Put(ctx, "cas", map[string]any{"a": "1"}, vaultapi.WithCheckAndSet(0)); err != nil {
			t.Fatalf("cas=0 on a new key: %v", err)
		}
		_, err := kv.Put(ctx, "cas", map[string]any{"a": "2"}, vaultapi.WithCheckAndSet(0))
		wantStatus(t, err, 400, "check-and-set parameter did not match the current version")
		if _, err := kv.Put(ctx, "cas", map[string]any{"a": "2"}, vaultapi.WithCheckAndSet(1)); err != nil {
			t.Fatalf("cas=1: %v", err)
		}
		_, err = kv.Put(ctx, "cas", map[string]any{"a": "3"}, vaultapi.WithOption("cas", 1))
		wantStatus(t, err, 400, "check-and-set")

		// cas_required in key metadata makes cas mandatory.
		if err := kv.PutMetadata(ctx, "cas", vaultapi.KVMetadataPutInput{CASRequired: true}); err != nil {
			t.Fatal(err)
		}
		_, err = kv.Put(ctx, "cas", map[string]any{"a": "3"})
		wantStatus(t, err, 400, "check-and-set parameter required")
		if _, err := kv.Put(ctx, "cas", map[string]any{"a": "3"}, vaultapi.WithCheckAndSet(2)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		// Metadata on a key with no versions (ESO PushSecret does this).
		err := kv.PutMetadata(ctx, "meta/only", vaultapi.KVMetadataPutInput{
			MaxVersions:        3,
			DeleteVersionAfter: 2 * time.Hour,
			CustomMetadata:     map[string]any{"managed-by": "external-secrets"},
		})
		if err != nil {
			t.Fatal(err)
		}
		md, err := kv.GetMetadata(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if md.MaxVersions != 3 || md.DeleteVersionAfter != 2*time.Hour || md.CurrentVersion != 0 ||
			md.CustomMetadata["managed-by"] != "external-secrets" || len(md.Versions) != 0 {
			t.Fatalf("metadata = %+v", md)
		}
		// Writing data then keeps the metadata.
		s, err := kv.Put(ctx, "meta/only", map[string]any{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		if s.VersionMetadata.Version != 1 || s.CustomMetadata["managed-by"] != "external-secrets" {
			t.Fatalf("put after metadata = %+v custom %v", s.VersionMetadata, s.CustomMetadata)
		}
		got, err := kv.Get(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if got.CustomMetadata["managed-by"] != "external-secrets" {
			t.Fatalf("get custom metadata = %v", got.CustomMetadata)
		}
		// max_versions 3 prunes the oldest.
		for i := 0; i < 3; i++ {
			if _, err := kv.Put(ctx, "meta/only", map[string]any{"k": i}); err != nil {
				t.Fatal(err)
			}
		}
		md, err = kv.GetMetadata(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if md.CurrentVersion != 4 || md.OldestVersion != 2 || len(md.Versions) != 3 || md.CreatedTime.IsZero() || md.UpdatedTime.IsZero() {
			t.Fatalf("after 4 writes with max_versions 3: %+v", md)
		}
		// The raw versions map has decimal string keys and object values.
		raw, err := c.Logical().Read("secret/metadata/meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := raw.Data["versions"].(map[string]any)["4"].(map[string]any); !ok {
			t.Fatalf("raw versions = %#v", md.Raw.Data["versions"])
		}
		if n, ok := raw.Data["current_version"].(json.Number); !ok || n.String() != "4" {
			t.Fatalf("raw current_version = %#v", raw.Data["current_version"])
		}
		if d, ok := raw.Data["delete_version_after"].(string); !ok || d != "2h0m0s" {
			t.Fatalf("raw delete_version_after = %#v", raw.Data["delete_version_after"])
		}
		list, err := kv.GetVersionsAsList(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		var versions []int
		for _, v := range list {
			versions = append(versions, v.Version)
		}
		if !reflect.DeepEqual(versions, []int{2, 3, 4}) {
			t.Fatalf("versions = %v", versions)
		}

		// PatchMetadata changes only what it names.
		seven := 7
		if err := kv.PatchMetadata(ctx, "meta/only", vaultapi.KVMetadataPatchInput{MaxVersions: &seven}); err != nil {
			t.Fatal(err)
		}
		md, err = kv.GetMetadata(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if md.MaxVersions != 7 || md.CustomMetadata["managed-by"] != "external-secrets" || md.DeleteVersionAfter != 2*time.Hour {
			t.Fatalf("after patch metadata: %+v", md)
		}
		// custom_metadata is merged key by key.
		err = kv.PatchMetadata(ctx, "meta/only", vaultapi.KVMetadataPatchInput{CustomMetadata: map[string]any{"owner": "team-a"}})
		if err != nil {
			t.Fatal(err)
		}
		md, err = kv.GetMetadata(ctx, "meta/only")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(md.CustomMetadata, map[string]any{"managed-by": "external-secrets", "owner": "team-a"}) {
			t.Fatalf("custom metadata after patch = %v", md.CustomMetadata)
		}
	})

	t.Run("patch", func(t *testing.T) {
		if _, err := kv.Put(ctx, "patched", map[string]any{"a": "1", "b": "2"}); err != nil {
			t.Fatal(err)
		}
		s, err := kv.Patch(ctx, "patched", map[string]any{"b": "3", "c": "4"})
		if err != nil {
			t.Fatalf("patch (merge-patch): %v", err)
		}
		if s.VersionMetadata.Version != 2 {
			t.Fatalf("patch version = %+v", s.VersionMetadata)
		}
		s, err = kv.Patch(ctx, "patched", map[string]any{"a": nil, "d": "5"}, vaultapi.WithMergeMethod(vaultapi.KVMergeMethodReadWrite))
		if err != nil {
			t.Fatalf("patch (rw): %v", err)
		}
		if s.VersionMetadata.Version != 3 {
			t.Fatalf("rw patch version = %+v", s.VersionMetadata)
		}
		got, err := kv.Get(ctx, "patched")
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["a"] != nil || got.Data["b"] != "3" || got.Data["c"] != "4" || got.Data["d"] != "5" {
			t.Fatalf("after patches: %v", got.Data)
		}
		// Merge-patch removes keys set to null.
		if _, err := kv.Patch(ctx, "patched", map[string]any{"c": nil}); err != nil {
			t.Fatal(err)
		}
		got, err = kv.Get(ctx, "patched")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got.Data["c"]; ok {
			t.Fatalf("merge-patch null did not remove c: %v", got.Data)
		}
		// Patch with a stale cas fails; patching a missing key is not found.
		_, err = kv.Patch(ctx, "patched", map[string]any{"x": "y"}, vaultapi.WithCheckAndSet(1))
		wantStatus(t, err, 400, "check-and-set")
		_, err = kv.Patch(ctx, "no-such-key", map[string]any{"x": "y"})
		if !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("patch missing key: %v, want ErrSecretNotFound", err)
		}
	})

	t.Run("delete undelete destroy", func(t *testing.T) {
		for i := 1; i <= 3; i++ {
			if _, err := kv.Put(ctx, "lifecycle", map[string]any{"v": i}); err != nil {
				t.Fatal(err)
			}
		}
		if err := kv.Delete(ctx, "lifecycle"); err != nil {
			t.Fatal(err)
		}
		// A deleted latest version is a secret with nil data and a deletion time.
		got, err := kv.Get(ctx, "lifecycle")
		if err != nil {
			t.Fatalf("get deleted: %v", err)
		}
		if got.Data != nil || got.VersionMetadata.Version != 3 || got.VersionMetadata.DeletionTime.IsZero() {
			t.Fatalf("deleted version: data %v meta %+v", got.Data, got.VersionMetadata)
		}
		r := rawCall(t, "GET", srv.Addr, "secret/data/lifecycle", "root", nil)
		body := r.JSON(t)
		data, _ := body["data"].(map[string]any)
		if r.Status != 404 || data == nil || data["data"] != nil || data["metadata"] == nil {
			t.Fatalf("raw deleted read: %d %s", r.Status, r.Body)
		}

		if err := kv.DeleteVersions(ctx, "lifecycle", []int{1}); err != nil {
			t.Fatal(err)
		}
		if err := kv.Undelete(ctx, "lifecycle", []int{1, 3}); err != nil {
			t.Fatal(err)
		}
		got, err = kv.Get(ctx, "lifecycle")
		if err != nil || got.Data == nil || !got.VersionMetadata.DeletionTime.IsZero() {
			t.Fatalf("after undelete: %v %+v", err, got)
		}
		if err := kv.Destroy(ctx, "lifecycle", []int{2}); err != nil {
			t.Fatal(err)
		}
		v2, err := kv.GetVersion(ctx, "lifecycle", 2)
		if err != nil {
			t.Fatalf("get destroyed: %v", err)
		}
		if v2.Data != nil || !v2.VersionMetadata.Destroyed {
			t.Fatalf("destroyed version: %v %+v", v2.Data, v2.VersionMetadata)
		}
		// Destroyed versions cannot be undeleted.
		if err := kv.Undelete(ctx, "lifecycle", []int{2}); err != nil {
			t.Fatal(err)
		}
		v2, err = kv.GetVersion(ctx, "lifecycle", 2)
		if err != nil || v2.Data != nil || !v2.VersionMetadata.Destroyed {
			t.Fatalf("undelete of destroyed version: %v %+v", err, v2)
		}
		// Rollback writes version 1's data as a new version.
		s, err := kv.Rollback(ctx, "lifecycle", 1)
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if s.VersionMetadata.Version != 4 {
			t.Fatalf("rollback version = %+v", s.VersionMetadata)
		}
		got, err = kv.Get(ctx, "lifecycle")
		if err != nil || got.Data["v"] != json.Number("1") {
			t.Fatalf("after rollback: %v %v", err, got)
		}
		// Rolling back to a destroyed version is refused client-side
		// because the server reports it destroyed.
		if _, err := kv.Rollback(ctx, "lifecycle", 2); err == nil {
			t.Fatal("rollback to a destroyed version succeeded")
		}

		if err := kv.DeleteMetadata(ctx, "lifecycle"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.GetMetadata(ctx, "lifecycle"); !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("metadata after delete: %v", err)
		}
		if _, err := kv.Get(ctx, "lifecycle"); !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("data after delete metadata: %v", err)
		}
	})

	t.Run("deleted latest version", func(t *testing.T) {
		if _, err := kv.Put(ctx, "gone", map[string]any{"a": "1"}); err != nil {
			t.Fatal(err)
		}
		if err := kv.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		// Patch of a deleted version: not found, with the metadata body.
		_, err := kv.Patch(ctx, "gone", map[string]any{"a": "2"})
		if !errors.Is(err, vaultapi.ErrSecretNotFound) {
			t.Fatalf("patch deleted: %v, want ErrSecretNotFound", err)
		}
		r := rawCall(t, "PATCH", srv.Addr, "secret/data/gone", "root", []byte(`{"data":{"a":"2"}}`), "Content-Type", "application/merge-patch+json")
		if r.Status != 404 {
			t.Fatalf("raw patch deleted: %d %s", r.Status, r.Body)
		}
		// A new write after a delete makes a new, live version.
		s, err := kv.Put(ctx, "gone", map[string]any{"a": "3"})
		if err != nil || s.VersionMetadata.Version != 2 {
			t.Fatalf("put after delete = %+v, %v", s, err)
		}
		// Metadata shows version 1's deletion time.
		list, err := kv.GetVersionsAsList(ctx, "gone")
		if err != nil || len(list) != 2 || list[0].DeletionTime.IsZero() || !list[1].DeletionTime.IsZero() {
			t.Fatalf("versions = %+v, %v", list, err)
		}
	})

	t.Run("config subkeys and non-API paths", func(t *testing.T) {
		if _, err := c.Logical().Write("secret/config", map[string]any{"max_versions": 5, "delete_version_after": "1h"}); err != nil {
			t.Fatal(err)
		}
		cfg, err := c.Logical().Read("secret/config")
		if err != nil || cfg.Data["max_versions"] != json.Number("5") || cfg.Data["delete_version_after"] != "1h0m0s" || cfg.Data["cas_required"] != false {
			t.Fatalf("config = %+v, %v", cfg, err)
		}
		if _, err := c.Logical().Write("secret/config", map[string]any{"max_versions": 0, "delete_version_after": "0s"}); err != nil {
			t.Fatal(err)
		}

		if _, err := kv.Put(ctx, "deep", map[string]any{"a": map[string]any{"b": "c"}, "d": "e"}); err != nil {
			t.Fatal(err)
		}
		sk, err := c.Logical().Read("secret/subkeys/deep")
		if err != nil || sk == nil {
			t.Fatalf("subkeys = %v, %v", sk, err)
		}
		want := map[string]any{"a": map[string]any{"b": nil}, "d": nil}
		if !reflect.DeepEqual(sk.Data["subkeys"], want) {
			t.Fatalf("subkeys = %#v", sk.Data["subkeys"])
		}

		// Reading a v1-style path on a v2 mount gives a hint, not data.
		s, err := c.Logical().Read("secret/deep")
		if err != nil || s == nil || len(s.Warnings) == 0 || len(s.Data) > 0 {
			t.Fatalf("non-API path = %+v, %v", s, err)
		}
	})

	t.Run("list", func(t *testing.T) {
		for _, p := range []string{"tree/a", "tree/b", "tree/sub/c"} {
			if _, err := kv.Put(ctx, p, map[string]any{"x": "y"}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := c.Logical().List("secret/metadata/tree")
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Fatal("list returned nil")
		}
		keys := stringList(t, s.Data["keys"])
		sort.Strings(keys)
		if !reflect.DeepEqual(keys, []string{"a", "b", "sub/"}) {
			t.Fatalf("keys = %v", keys)
		}
		// Listing nothing is a nil secret (404), not an error.
		s, err = c.Logical().List("secret/metadata/empty-dir")
		if err != nil || s != nil {
			t.Fatalf("empty list = %v, %v", s, err)
		}
	})
}

// TestVaultKVv1 mounts a KV v1 engine and uses the KVv1 helper.
func TestVaultKVv1(t *testing.T) {
	srv := startDev(t)
	c := vaultClient(t, srv.Addr, "root")
	ctx := context.Background()
	if err := c.Sys().Mount("kv1", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	kv := c.KVv1("kv1")
	if err := kv.Put(ctx, "app/cfg", map[string]any{"password": "hunter2", "ttl": "1h"}); err != nil {
		t.Fatal(err)
	}
	s, err := kv.Get(ctx, "app/cfg")
	if err != nil {
		t.Fatal(err)
	}
	if s.Data["password"] != "hunter2" || s.VersionMetadata != nil {
		t.Fatalf("get = %+v", s)
	}
	if s.Raw.LeaseDuration != 3600 || s.Raw.LeaseID != "" || s.Raw.Renewable {
		t.Fatalf("kv1 lease fields = %d %q %v", s.Raw.LeaseDuration, s.Raw.LeaseID, s.Raw.Renewable)
	}
	// Without a ttl key the lease duration is the mount default.
	if err := kv.Put(ctx, "app/plain", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	plain, err := kv.Get(ctx, "app/plain")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Sys().MountConfig("kv1")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Raw.LeaseDuration != cfg.DefaultLeaseTTL || cfg.DefaultLeaseTTL == 0 {
		t.Fatalf("kv1 lease_duration %d, mount default %d", plain.Raw.LeaseDuration, cfg.DefaultLeaseTTL)
	}
	list, err := c.Logical().List("kv1/app")
	if err != nil || list == nil || !reflect.DeepEqual(stringList(t, list.Data["keys"]), []string{"cfg", "plain"}) {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := kv.Delete(ctx, "app/cfg"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "app/cfg"); !errors.Is(err, vaultapi.ErrSecretNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	// An empty write is rejected.
	_, err = c.Logical().Write("kv1/empty", map[string]any{})
	wantStatus(t, err, 400, "")
}

// stringList converts a decoded JSON array of strings.
func stringList(t testing.TB, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("not a JSON array: %#v", v)
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			t.Fatalf("not a string: %#v", e)
		}
		out = append(out, s)
	}
	return out
}
