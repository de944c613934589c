package archtest

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/wardsec/ward"

// layers lists Ward's packages from the bottom up. A package may import
// packages of lower layers only; implementations (children of a contract
// package) are handled by implementationParents.
var layers = [][]string{
	{"api", "internal/config", "internal/shamir", "internal/policy", "internal/storage", "internal/audit"},
	{"internal/engine", "internal/auth"},
	{}, // implementations: see implementationParents
	{"internal/barrier", "internal/seal", "internal/router", "internal/token", "internal/lease", "internal/identity"},
	{"internal/core"},
	{"internal/sys", "internal/httpapi"},
	{"internal/server"},
	{"internal/cli"},
	{"cmd/ward"},
}

// implementationParents are the contract packages whose children are
// implementations: a child imports only its parent and the leaves.
var implementationParents = []string{"internal/storage", "internal/audit", "internal/engine", "internal/auth"}

// extraAllowed are the deliberate exceptions, each with its reason.
var extraAllowed = map[string][]string{
	// An auth method is an engine that can also log in.
	"internal/auth": {"internal/engine"},
}

// testOnly packages exist for tests and may import anything.
var testOnly = map[string]bool{
	"internal/archtest": true, "internal/testcluster": true, "internal/storage/storagetest": true,
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func layerOf(pkg string) (int, bool) {
	for i, l := range layers {
		for _, p := range l {
			if p == pkg {
				return i, true
			}
		}
	}
	for _, parent := range implementationParents {
		if strings.HasPrefix(pkg, parent+"/") {
			return 2, true
		}
	}
	return 0, false
}

func implParent(pkg string) string {
	for _, parent := range implementationParents {
		if strings.HasPrefix(pkg, parent+"/") {
			return parent
		}
	}
	return ""
}

// allowed reports whether pkg may import dep (both module-relative).
func allowed(pkg, dep string) bool {
	if pkg == "client" {
		return dep == "api"
	}
	if dep == "client" {
		return pkg == "internal/cli" || pkg == "cmd/ward"
	}
	for _, x := range extraAllowed[pkg] {
		if x == dep {
			return true
		}
	}
	lp, ok := layerOf(pkg)
	if !ok {
		return false
	}
	ld, ok := layerOf(dep)
	if !ok {
		return false
	}
	if parent := implParent(pkg); parent != "" {
		// An implementation sees its own contract, that contract's own
		// allowances, and the leaves.
		if dep == parent || ld == 0 {
			return true
		}
		for _, x := range extraAllowed[parent] {
			if x == dep {
				return true
			}
		}
		return strings.HasPrefix(dep, pkg+"/")
	}
	if ld == 2 {
		// Only the composition root and tests name implementations.
		return lp >= 6
	}
	return ld < lp
}

func TestImportRules(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	var violations []string
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if testOnly[pkg] {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if _, known := layerOf(pkg); !known && pkg != "client" && !seen[pkg] {
			seen[pkg] = true
			violations = append(violations, pkg+": package is not placed in a layer (add it to archtest's layers)")
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module+"/")
			if !ok || dep == pkg || strings.HasPrefix(dep, pkg+"/") && implParent(dep) == pkg {
				continue
			}
			if !allowed(pkg, dep) {
				rfile, _ := filepath.Rel(root, path)
				violations = append(violations, rfile+": "+pkg+" must not import "+dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(violations)
	for _, v := range violations {
		t.Error(v)
	}
}

func TestFileSizeBudget(t *testing.T) {
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n, err := countLines(path)
		if err != nil {
			return err
		}
		if n > 1000 {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s has %d lines; production files stay under 1,000 (split it by topic)", rel, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

func TestAllowedRules(t *testing.T) {
	cases := []struct {
		pkg, dep string
		want     bool
	}{
		{"internal/core", "internal/engine/kv", false},
		{"internal/core", "internal/barrier", true},
		{"internal/core", "internal/httpapi", false},
		{"internal/engine/kv", "internal/engine", true},
		{"internal/engine/kv", "internal/storage", true},
		{"internal/engine/kv", "internal/engine/cubbyhole", false},
		{"internal/engine/kv", "internal/core", false},
		{"internal/barrier", "internal/seal", false},
		{"internal/server", "internal/storage/bolt", true},
		{"client", "api", true},
		{"client", "internal/core", false},
		{"internal/cli", "client", true},
		{"internal/storage", "internal/engine", false},
		{"internal/sys", "internal/httpapi", false},
	}
	for _, c := range cases {
		if got := allowed(c.pkg, c.dep); got != c.want {
			t.Errorf("allowed(%s -> %s) = %v, want %v", c.pkg, c.dep, got, c.want)
		}
	}
}
