package storagetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/wardsec/ward/internal/storage"
)

func testListEmpty(t *testing.T, b storage.Backend) {
	assertList(t, b, "", nil)
	assertList(t, b, "nothing/here/", nil)

	mustPut(t, b, "a", []byte("v"))
	mustPut(t, b, "b/c", []byte("v"))
	// A key is not a folder: nothing lives below "a/".
	assertList(t, b, "a/", nil)
	assertList(t, b, "b/c/", nil)
	assertList(t, b, "c/", nil)
}

func testListRoot(t *testing.T, b storage.Backend) {
	for _, k := range []string{"b", "a", "c/d", "c/e/f", "d/x"} {
		mustPut(t, b, k, []byte(k))
	}
	assertList(t, b, "", []string{"a", "b", "c/", "d/"})
}

func testListDirectChildren(t *testing.T, b storage.Backend) {
	for _, k := range []string{
		"p/z", "p/a", "p/m/1", "p/m/2", "p/m/n/3", "p/b/x",
		"q", "pp", "p0", // siblings of the folder "p/" that List("p/") must not show
	} {
		mustPut(t, b, k, []byte(k))
	}
	assertList(t, b, "p/", []string{"a", "b/", "m/", "z"})
	assertList(t, b, "", []string{"p/", "p0", "pp", "q"})
}

func testListNested(t *testing.T, b storage.Backend) {
	for _, k := range []string{"l1/l2/l3/l4/leaf", "l1/l2/mid", "l1/top"} {
		mustPut(t, b, k, []byte(k))
	}
	assertList(t, b, "", []string{"l1/"})
	assertList(t, b, "l1/", []string{"l2/", "top"})
	assertList(t, b, "l1/l2/", []string{"l3/", "mid"})
	assertList(t, b, "l1/l2/l3/", []string{"l4/"})
	assertList(t, b, "l1/l2/l3/l4/", []string{"leaf"})
	assertList(t, b, "l1/l2/l3/l4/leaf/", nil)
}

// testListSharedPrefixes covers keys where one is a prefix of another and a
// key that is also a folder name ("a" and "a/b").
func testListSharedPrefixes(t *testing.T, b storage.Backend) {
	values := map[string]string{"a": "1", "a/b": "2", "ab": "3", "a/b/c": "4", "a-b": "5"}
	for k, v := range values {
		mustPut(t, b, k, []byte(v))
	}
	for k, v := range values {
		if got := mustGet(t, b, k); string(got) != v {
			t.Errorf("Get(%q) = %q, want %q", k, got, v)
		}
	}
	// '-' (0x2d) sorts before '/' (0x2f), which sorts before 'b'.
	assertList(t, b, "", []string{"a", "a-b", "a/", "ab"})
	assertList(t, b, "a/", []string{"b", "b/"})
	assertList(t, b, "a/b/", []string{"c"})

	mustDelete(t, b, "a")
	if got := mustGet(t, b, "a/b"); string(got) != "2" {
		t.Errorf("deleting %q changed %q to %q", "a", "a/b", got)
	}
	if got := mustGet(t, b, "ab"); string(got) != "3" {
		t.Errorf("deleting %q changed %q to %q", "a", "ab", got)
	}
	assertList(t, b, "", []string{"a-b", "a/", "ab"})

	mustDelete(t, b, "a/b")
	assertList(t, b, "a/", []string{"b/"})

	// Removing the last key below a folder removes the folder from List.
	mustDelete(t, b, "a/b/c")
	assertList(t, b, "", []string{"a-b", "ab"})
	assertList(t, b, "a/", nil)
}

// testListByteOrder checks that List sorts by bytes, including characters
// that sort before and after "/".
func testListByteOrder(t *testing.T, b storage.Backend) {
	children := []string{" b", "!", ".hidden", "é", "Z", "z", "z-1", "~"}
	for _, c := range children {
		mustPut(t, b, "x/"+c, []byte(c))
	}
	mustPut(t, b, "x/z/1", []byte("1"))
	mustPut(t, b, "x/.hidden-dir/1", []byte("1"))
	want := append(slices.Clone(children), "z/", ".hidden-dir/")
	sort.Strings(want)
	assertList(t, b, "x/", want)
}

func testListManyKeys(t *testing.T, b storage.Backend) {
	var want []string
	for f := range 12 {
		folder := fmt.Sprintf("f%02d", f)
		for k := range 8 {
			mustPut(t, b, fmt.Sprintf("many/%s/k%d", folder, k), []byte("v"))
		}
		want = append(want, folder+"/")
	}
	for k := range 30 {
		key := fmt.Sprintf("k%03d", k)
		mustPut(t, b, "many/"+key, []byte("v"))
		want = append(want, key)
	}
	sort.Strings(want)
	assertList(t, b, "many/", want)
	assertList(t, b, "", []string{"many/"})
	assertList(t, b, "many/f03/", []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"})
}

func mustDelete(t *testing.T, b storage.Backend, key string) {
	t.Helper()
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
}
