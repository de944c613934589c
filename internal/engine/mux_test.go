package engine

import (
	"context"
	"errors"
	"testing"
)

func TestMuxMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		ok            bool
		vars          map[string]string
	}{
		{"config", "config", true, map[string]string{}},
		{"config", "config/", false, nil},
		{"config", "configs", false, nil},
		{"", "", true, map[string]string{}},
		{"", "x", false, nil},
		{"data/{path...}", "data/a/b/c", true, map[string]string{"path": "a/b/c"}},
		{"data/{path...}", "data/", true, map[string]string{"path": ""}},
		{"data/{path...}", "data", true, map[string]string{"path": ""}},
		{"data/{path...}", "metadata/x", false, nil},
		{"keys/{name}", "keys/k1", true, map[string]string{"name": "k1"}},
		{"keys/{name}", "keys/", false, nil},
		{"keys/{name}", "keys/a/b", false, nil},
		{"keys/{name}/rotate", "keys/k1/rotate", true, map[string]string{"name": "k1"}},
		{"{path...}", "", true, map[string]string{"path": ""}},
		{"{path...}", "a/b/", true, map[string]string{"path": "a/b/"}},
	}
	for _, tt := range tests {
		p := NewMux(Path{Pattern: tt.pattern}).paths[0]
		var vars map[string]string
		got := p.match(tt.path, &vars)
		if got != tt.ok {
			t.Errorf("%q matching %q = %v, want %v", tt.pattern, tt.path, got, tt.ok)
			continue
		}
		if !got {
			continue
		}
		for k, v := range tt.vars {
			if vars[k] != v {
				t.Errorf("%q matching %q: var %s = %q, want %q", tt.pattern, tt.path, k, vars[k], v)
			}
		}
	}
}

func TestMuxHandle(t *testing.T) {
	called := ""
	m := NewMux(
		Path{Pattern: "config", Read: func(context.Context, *Request) (*Response, error) {
			called = "read"
			return DataResponse(map[string]any{"a": 1}), nil
		}},
		Path{Pattern: "data/{path...}",
			Write: func(_ context.Context, r *Request) (*Response, error) {
				called = "write " + r.Var("path")
				return nil, nil
			},
			Exists: func(_ context.Context, r *Request) (bool, error) { return r.Var("path") == "old", nil },
			Sudo:   true,
		},
	)
	ctx := context.Background()
	if _, err := m.Handle(ctx, &Request{Operation: OpRead, Path: "config"}); err != nil || called != "read" {
		t.Fatalf("read config: called=%q err=%v", called, err)
	}
	if _, err := m.Handle(ctx, &Request{Operation: OpCreate, Path: "data/x/y"}); err != nil || called != "write x/y" {
		t.Fatalf("create: called=%q err=%v", called, err)
	}
	_, err := m.Handle(ctx, &Request{Operation: OpDelete, Path: "config"})
	if !errors.Is(err, ErrUnsupportedOperation) {
		t.Fatalf("delete config: err = %v, want unsupported operation", err)
	}
	_, err = m.Handle(ctx, &Request{Operation: OpRead, Path: "nope", MountPath: "kv/"})
	if !errors.Is(err, ErrUnsupportedPath) || err.Error() != `no handler for route "kv/nope". route entry not found.` {
		t.Fatalf("unknown path: err = %v", err)
	}
	found, supported, err := m.Exists(ctx, &Request{Operation: OpUpdate, Path: "data/old"})
	if !found || !supported || err != nil {
		t.Fatalf("exists old = %v %v %v", found, supported, err)
	}
	if _, supported, _ := m.Exists(ctx, &Request{Path: "config"}); supported {
		t.Fatal("config has no existence check")
	}
	if sudo, unauth := m.Special("data/a", OpUpdate); !sudo || unauth {
		t.Fatalf("special data/a = %v %v", sudo, unauth)
	}
}

// A trailing slash reaches a bare route only for lists: otherwise a
// policy on the exact path could be sidestepped with "path/".
func TestMuxTrailingSlashOnlyForLists(t *testing.T) {
	m := NewMux(Path{Pattern: "policies/acl",
		List:  func(context.Context, *Request) (*Response, error) { return ListResponse([]string{"p"}), nil },
		Write: func(context.Context, *Request) (*Response, error) { return nil, nil },
	})
	ctx := context.Background()
	if _, err := m.Handle(ctx, &Request{Operation: OpList, Path: "policies/acl/"}); err != nil {
		t.Fatalf("list with slash: %v", err)
	}
	if _, err := m.Handle(ctx, &Request{Operation: OpUpdate, Path: "policies/acl/"}); !errors.Is(err, ErrUnsupportedPath) {
		t.Fatalf("write with slash: %v, want unsupported path", err)
	}
}
