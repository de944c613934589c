package storagetest

import (
	"testing"

	"github.com/wardsec/ward/internal/storage"
)

// testBatch checks storage.Batch: ops apply in order (a later op on the
// same key wins), through Sub views too; a backend that implements
// Batcher refuses a batch with an invalid key as a whole.
func testBatch(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	mustPut(t, b, "old", []byte("x"))
	err := storage.Batch(ctx, b, []storage.Op{
		{Key: "a", Value: []byte("1")},
		{Key: "a", Value: []byte("2")},
		{Key: "old", Delete: true},
		{Key: "gone", Delete: true},
		{Key: "e", Value: nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := mustGet(t, b, "a"); string(v) != "2" {
		t.Errorf("a = %q, want the later op's 2", v)
	}
	if v := mustGet(t, b, "e"); len(v) != 0 {
		t.Errorf("e = %q, want empty", v)
	}
	assertMissing(t, b, "old")
	if err := storage.Batch(ctx, b, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	view := storage.Sub(b, "sub/")
	if err := storage.Batch(ctx, view, []storage.Op{{Key: "k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if v := mustGet(t, b, "sub/k"); string(v) != "v" {
		t.Errorf("sub/k = %q", v)
	}
	if _, ok := b.(storage.Batcher); !ok {
		return
	}
	err = storage.Batch(ctx, b, []storage.Op{{Key: "ok", Value: []byte("1")}, {Key: "/bad/", Value: []byte("2")}})
	if err == nil {
		t.Fatal("a batch with an invalid key succeeded")
	}
	assertMissing(t, b, "ok")
}
