package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/storage"
)

// testConcurrent runs writers, readers and listers at once. Each goroutine
// owns some keys (which must read back exactly) and all fight over one shared
// key (which must always hold some goroutine's complete value). Run the suite
// with -race to make this subtest meaningful for memory safety.
func testConcurrent(t *testing.T, b storage.Backend) {
	const (
		workers = 8
		rounds  = 20
	)
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("conc/w%d/k%02d", w, i)
				val := fmt.Sprintf("worker %d round %d", w, i)
				if err := b.Put(ctx, key, []byte(val)); err != nil {
					t.Errorf("Put(%q): %v", key, err)
					return
				}
				got, err := b.Get(ctx, key)
				if err != nil || string(got) != val {
					t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, val)
					return
				}
				if err := b.Put(ctx, "conc/shared", []byte(val)); err != nil {
					t.Errorf("Put(%q): %v", "conc/shared", err)
					return
				}
				got, err = b.Get(ctx, "conc/shared")
				if err != nil || !strings.HasPrefix(string(got), "worker ") {
					t.Errorf("Get(%q) = %q, %v; want some worker's value", "conc/shared", got, err)
					return
				}
				children, err := b.List(ctx, "conc/")
				if err != nil || !slices.IsSorted(children) {
					t.Errorf("List(%q) = %q, %v; want a sorted listing", "conc/", children, err)
					return
				}
				if i%4 == 3 {
					// Delete an older key of our own and check it is gone.
					old := fmt.Sprintf("conc/w%d/k%02d", w, i-1)
					if err := b.Delete(ctx, old); err != nil {
						t.Errorf("Delete(%q): %v", old, err)
						return
					}
					if _, err := b.Get(ctx, old); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("Get(%q) after Delete = %v, want ErrNotFound", old, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	want := []string{"shared"}
	for w := range workers {
		for i := range rounds {
			if i%4 != 2 {
				want = append(want, fmt.Sprintf("w%d/k%02d", w, i))
			}
		}
	}
	slices.Sort(want)
	got, err := storage.List(ctx, b, "conc/")
	if err != nil {
		t.Fatalf("storage.List: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after concurrent writes the store holds %d keys %q, want %d keys %q", len(got), got, len(want), want)
	}
}

func testSub(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	view := storage.Sub(b, "mount/abc/")
	mustPut(t, view, "k1", []byte("one"))
	mustPut(t, view, "dir/k2", []byte("two"))
	mustPut(t, b, "mount/other", []byte("outside the view"))
	mustPut(t, b, "outside", []byte("outside the view"))

	// Writes through the view land under its prefix.
	if got := mustGet(t, b, "mount/abc/k1"); string(got) != "one" {
		t.Errorf("parent Get(%q) = %q, want %q", "mount/abc/k1", got, "one")
	}
	if got := mustGet(t, view, "dir/k2"); string(got) != "two" {
		t.Errorf("view Get(%q) = %q, want %q", "dir/k2", got, "two")
	}
	// The view sees nothing outside its prefix.
	assertMissing(t, view, "outside")
	assertMissing(t, view, "mount/other")
	assertList(t, view, "", []string{"dir/", "k1"})
	assertList(t, view, "dir/", []string{"k2"})
	assertList(t, b, "mount/", []string{"abc/", "other"})

	// A view of a view composes; a prefix without "/" gets one.
	nested := storage.Sub(view, "dir")
	if got := mustGet(t, nested, "k2"); string(got) != "two" {
		t.Errorf("nested view Get(%q) = %q, want %q", "k2", got, "two")
	}
	mustPut(t, nested, "k3", []byte("three"))
	if got := mustGet(t, b, "mount/abc/dir/k3"); string(got) != "three" {
		t.Errorf("parent Get(%q) = %q, want %q", "mount/abc/dir/k3", got, "three")
	}
	assertList(t, nested, "", []string{"k2", "k3"})

	mustDelete(t, view, "k1")
	assertMissing(t, b, "mount/abc/k1")

	// The empty key is the view's folder itself, which is not a valid key.
	if _, err := view.Get(ctx, ""); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("view Get(%q) error = %v, want an invalid-key error", "", err)
	}
	if err := view.Put(ctx, "", []byte("v")); err == nil {
		t.Errorf("view Put(%q) = nil, want an invalid-key error", "")
	}
}

func testDeletePrefix(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	for _, k := range []string{"app/a", "app/b/c", "app/b/d/e", "apple", "app", "other/x", "other/y/z"} {
		mustPut(t, b, k, []byte(k))
	}
	if err := storage.DeletePrefix(ctx, b, "app/"); err != nil {
		t.Fatalf("DeletePrefix(%q): %v", "app/", err)
	}
	assertAll(t, b, []string{"app", "apple", "other/x", "other/y/z"})

	if err := storage.DeletePrefix(ctx, b, "nothing/"); err != nil {
		t.Errorf("DeletePrefix of an empty folder: %v", err)
	}

	if err := storage.DeletePrefix(ctx, storage.Sub(b, "other/"), ""); err != nil {
		t.Fatalf("DeletePrefix through a view: %v", err)
	}
	assertAll(t, b, []string{"app", "apple"})

	if err := storage.DeletePrefix(ctx, b, ""); err != nil {
		t.Fatalf("DeletePrefix(%q): %v", "", err)
	}
	assertAll(t, b, nil)
	assertList(t, b, "", nil)
}

// assertAll checks the recursive listing of the whole store.
func assertAll(t *testing.T, b storage.Backend, want []string) {
	t.Helper()
	got, err := storage.List(t.Context(), b, "")
	if err != nil {
		t.Fatalf("storage.List: %v", err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("store holds %q, want %q", got, want)
	}
}
