package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		return openTest(t, t.TempDir())
	})
}

// openTest opens a backend in dir and closes it when the test ends.
func openTest(t testing.TB, dir string) *Backend {
	t.Helper()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestOpenCreatesPrivateDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "ward")
	b := openTest(t, dir)
	if want := filepath.Join(dir, FileName); b.Path() != want {
		t.Errorf("Path() = %q, want %q", b.Path(), want)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, b.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %o, want %o", path, got, want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"core/keyring", "logical/x/a", "logical/x/b"} {
		if err := b.Put(ctx, k, []byte("value of "+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, "logical/x/a"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = openTest(t, dir)
	got, err := storage.List(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"core/keyring", "logical/x/b"}; !slices.Equal(got, want) {
		t.Errorf("after reopen the store holds %q, want %q", got, want)
	}
	v, err := b.Get(ctx, "core/keyring")
	if err != nil || string(v) != "value of core/keyring" {
		t.Errorf("Get after reopen = %q, %v", v, err)
	}
}

func TestSecondOpenFailsWhileLocked(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := Open(dir, &Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked database succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("second Open took %s, want about the 50ms timeout", elapsed)
	}
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second Open error = %v, want a lock timeout that says the file is locked", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openTest(t, dir) // the lock is released by Close
}

func TestOpenRejectsBadPaths(t *testing.T) {
	if _, err := Open("", nil); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Open(file, nil); err == nil {
		b.Close()
		t.Error("Open of a path that is a regular file succeeded")
	}
}

func TestUseAfterCloseFails(t *testing.T) {
	ctx := t.Context()
	b, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after Close error = %v, want a closed-database error", err)
	}
	if err := b.Put(ctx, "k", []byte("v")); err == nil {
		t.Error("Put after Close succeeded")
	}
	if err := b.Delete(ctx, "k"); err == nil {
		t.Error("Delete after Close succeeded")
	}
	if _, err := b.List(ctx, ""); err == nil {
		t.Error("List after Close succeeded")
	}
}

// TestListFolderSkipEdges stores keys right at and around the seek target
// List uses to jump past a folder, including bytes 0x00 and 0xff.
func TestListFolderSkipEdges(t *testing.T) {
	ctx := context.Background()
	b := openTest(t, t.TempDir())
	keys := []string{
		"a/x", "a/\xff", "a/\xff\xff/z", "a/\x00", // inside folder "a/"
		"a0",      // exactly the key List seeks to after "a/"
		"a.", "a", // just before the folder
		"a0/b", // a folder right after
		"p/q/\xff", "p/q0", "p/q/r/s",
	}
	for _, k := range keys {
		if err := b.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string][]string{
		"":     {"a", "a.", "a/", "a0", "a0/", "p/"},
		"a/":   {"\x00", "x", "\xff", "\xff\xff/"},
		"p/":   {"q/", "q0"},
		"p/q/": {"r/", "\xff"},
	} {
		got, err := b.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestFolderEnd(t *testing.T) {
	for _, tc := range []struct{ prefix, folder, want string }{
		{"", "a/", "a0"},
		{"p/", "q/", "p/q0"},
		{"x/y/", "\xff/", "x/y/\xff0"},
	} {
		if got := string(folderEnd([]byte(tc.prefix), []byte(tc.folder))); got != tc.want {
			t.Errorf("folderEnd(%q, %q) = %q, want %q", tc.prefix, tc.folder, got, tc.want)
		}
	}
}
