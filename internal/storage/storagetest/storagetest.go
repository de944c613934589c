package storagetest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wardsec/ward/internal/storage"
)

// Run runs the conformance suite against backends made by newBackend, which
// is called once per subtest and must return an empty Backend.
func Run(t *testing.T, newBackend func(t *testing.T) storage.Backend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Backend)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"EmptyValue", testEmptyValue},
		{"BinaryValues", testBinaryValues},
		{"NoAliasing", testNoAliasing},
		{"InvalidKeys", testInvalidKeys},
		{"CancelledContext", testCancelledContext},
		{"ListEmpty", testListEmpty},
		{"ListRoot", testListRoot},
		{"ListDirectChildren", testListDirectChildren},
		{"ListNested", testListNested},
		{"ListSharedPrefixes", testListSharedPrefixes},
		{"ListByteOrder", testListByteOrder},
		{"ListManyKeys", testListManyKeys},
		{"Concurrent", testConcurrent},
		{"Sub", testSub},
		{"DeletePrefix", testDeletePrefix},
		{"Batch", testBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newBackend(t))
		})
	}
}

func testGetMissing(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	for _, key := range []string{"missing", "a/b/c", "x"} {
		v, err := b.Get(ctx, key)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", key, err)
		}
		if v != nil {
			t.Errorf("Get(%q) value = %q, want nil with ErrNotFound", key, v)
		}
	}
	// A key that is only a folder (something exists below it) is not a value.
	mustPut(t, b, "dir/child", []byte("v"))
	if _, err := b.Get(ctx, "dir"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) of a folder error = %v, want ErrNotFound", "dir", err)
	}
	if _, err := b.Get(ctx, "dir/chil"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) of a key prefix error = %v, want ErrNotFound", "dir/chil", err)
	}
}

func testPutGet(t *testing.T, b storage.Backend) {
	entries := map[string]string{
		"a":                   "alpha",
		"b/c":                 "bravo charlie",
		"deep/er/and/deeper":  "delta",
		"with space/and.dots": "echo",
		"unicode/ключ/é":      "foxtrot",
	}
	for k, v := range entries {
		mustPut(t, b, k, []byte(v))
	}
	for k, v := range entries {
		if got := mustGet(t, b, k); string(got) != v {
			t.Errorf("Get(%q) = %q, want %q", k, got, v)
		}
	}
}

func testOverwrite(t *testing.T, b storage.Backend) {
	for _, v := range []string{"one", "a much longer second value", "3"} {
		mustPut(t, b, "k", []byte(v))
		if got := mustGet(t, b, "k"); string(got) != v {
			t.Fatalf("after overwrite Get(%q) = %q, want %q", "k", got, v)
		}
	}
	assertList(t, b, "", []string{"k"})
}

func testDelete(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	mustPut(t, b, "a", []byte("1"))
	mustPut(t, b, "b", []byte("2"))
	if err := b.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete(%q): %v", "a", err)
	}
	assertMissing(t, b, "a")
	if got := mustGet(t, b, "b"); string(got) != "2" {
		t.Errorf("Get(%q) after deleting a sibling = %q, want %q", "b", got, "2")
	}
	if err := b.Delete(ctx, "a"); err != nil {
		t.Errorf("Delete(%q) twice: %v, want nil", "a", err)
	}
	if err := b.Delete(ctx, "never/existed"); err != nil {
		t.Errorf("Delete(%q) of a missing key: %v, want nil", "never/existed", err)
	}
	assertList(t, b, "", []string{"b"})

	// The key can be written again after a delete.
	mustPut(t, b, "a", []byte("again"))
	if got := mustGet(t, b, "a"); string(got) != "again" {
		t.Errorf("Get(%q) after re-put = %q, want %q", "a", got, "again")
	}
}

func testEmptyValue(t *testing.T, b storage.Backend) {
	mustPut(t, b, "empty", []byte{})
	mustPut(t, b, "nil", nil)
	for _, k := range []string{"empty", "nil"} {
		if got := mustGet(t, b, k); len(got) != 0 {
			t.Errorf("Get(%q) = %q, want empty", k, got)
		}
	}
	assertList(t, b, "", []string{"empty", "nil"})
	// Overwriting a non-empty value with an empty one keeps the key.
	mustPut(t, b, "shrink", []byte("something"))
	mustPut(t, b, "shrink", nil)
	if got := mustGet(t, b, "shrink"); len(got) != 0 {
		t.Errorf("Get(%q) after emptying = %q, want empty", "shrink", got)
	}
}

func testBinaryValues(t *testing.T, b storage.Backend) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{'w', 'a', 'r', 'd'}))
	large := make([]byte, 256<<10)
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	values := map[string][]byte{
		"bin/all-bytes": allBytes,
		"bin/zeros":     make([]byte, 1000),
		"bin/nul-edges": {0, 'x', 0},
		"bin/ff":        {0xff, 0xfe, 0xff},
		"bin/large":     large,
	}
	for k, v := range values {
		mustPut(t, b, k, v)
	}
	for k, v := range values {
		if got := mustGet(t, b, k); !bytes.Equal(got, v) {
			t.Errorf("Get(%q) returned %d bytes that differ from the %d put", k, len(got), len(v))
		}
	}
}

func testNoAliasing(t *testing.T, b storage.Backend) {
	in := []byte("original")
	mustPut(t, b, "k", in)
	copy(in, "XXXXXXXX")
	if got := mustGet(t, b, "k"); string(got) != "original" {
		t.Fatalf("changing the slice given to Put changed the stored value to %q", got)
	}

	out := mustGet(t, b, "k")
	copy(out, "YYYYYYYY")
	if got := mustGet(t, b, "k"); string(got) != "original" {
		t.Fatalf("changing a slice returned by Get changed the stored value to %q", got)
	}

	// Two Gets never share memory either.
	first, second := mustGet(t, b, "k"), mustGet(t, b, "k")
	first[0] = 'Z'
	if second[0] != 'o' {
		t.Fatalf("two Get results share memory: second = %q", second)
	}
}

func testInvalidKeys(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	for _, key := range []string{"", "/", "/a", "a/", "/a/", "a/b/"} {
		if v, err := b.Get(ctx, key); err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) = %q, %v; want an error that is not ErrNotFound", key, v, err)
		}
		if err := b.Put(ctx, key, []byte("v")); err == nil {
			t.Errorf("Put(%q) = nil, want an error", key)
		}
		if err := b.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) = nil, want an error", key)
		}
	}
	for _, prefix := range []string{"a", "/", "/a/", "a/b"} {
		if got, err := b.List(ctx, prefix); err == nil {
			t.Errorf("List(%q) = %q, nil; want an error", prefix, got)
		}
	}
	// Nothing was stored by the rejected writes.
	if keys, err := storage.List(ctx, b, ""); err != nil || len(keys) != 0 {
		t.Errorf("after invalid writes the store holds %q (err %v), want nothing", keys, err)
	}
}

func testCancelledContext(t *testing.T, b storage.Backend) {
	mustPut(t, b, "k", []byte("before"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	if _, err := b.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with cancelled context error = %v, want context.Canceled", err)
	}
	if err := b.Put(ctx, "k", []byte("after")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled context error = %v, want context.Canceled", err)
	}
	if err := b.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with cancelled context error = %v, want context.Canceled", err)
	}
	if _, err := b.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("List with cancelled context error = %v, want context.Canceled", err)
	}
	if got := mustGet(t, b, "k"); string(got) != "before" {
		t.Errorf("failed writes changed the value to %q, want %q", got, "before")
	}
}

func mustPut(t *testing.T, b storage.Backend, key string, value []byte) {
	t.Helper()
	if err := b.Put(t.Context(), key, value); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, b storage.Backend, key string) []byte {
	t.Helper()
	v, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func assertMissing(t *testing.T, b storage.Backend, key string) {
	t.Helper()
	if v, err := b.Get(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

// assertList checks that List(prefix) returns exactly want, in order.
func assertList(t *testing.T, b storage.Backend, prefix string, want []string) {
	t.Helper()
	got, err := b.List(t.Context(), prefix)
	if err != nil {
		t.Errorf("List(%q): %v", prefix, err)
		return
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("List(%q) = %q, want %q", prefix, got, want)
	}
}
