package kubernetes

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func TestRoleCRUD(t *testing.T) {
	h := newHarness(t)
	if resp, err := h.call(engine.OpList, "role", nil); err != nil || resp != nil {
		t.Fatalf("empty list = %v, %v; want nothing (404)", resp, err)
	}
	found, supported, err := h.b.Exists(t.Context(), &engine.Request{Operation: engine.OpCreate, Path: "role/app"})
	if err != nil || !supported || found {
		t.Fatalf("Exists before write = %v, %v, %v", found, supported, err)
	}
	h.must(engine.OpCreate, "role/app", map[string]any{
		"bound_service_account_names":      "a, b",
		"bound_service_account_namespaces": []any{"default"},
		"audience":                         "ward",
		"token_policies":                   "app",
		"token_ttl":                        "1h",
	})
	found, _, _ = h.b.Exists(t.Context(), &engine.Request{Operation: engine.OpUpdate, Path: "role/app"})
	if !found {
		t.Fatal("Exists after write = false")
	}
	d := h.must(engine.OpRead, "role/app", nil).Data
	if !reflect.DeepEqual(d["bound_service_account_names"], []string{"a", "b"}) ||
		!reflect.DeepEqual(d["bound_service_account_namespaces"], []string{"default"}) ||
		d["audience"] != "ward" || d["alias_name_source"] != aliasSourceUID ||
		!reflect.DeepEqual(d["token_policies"], []string{"app"}) || d["token_ttl"] != int64(3600) || d["ttl"] != int64(3600) {
		t.Fatalf("read = %v", d)
	}

	// An update changes only what it names.
	h.must(engine.OpUpdate, "role/app", map[string]any{"alias_name_source": aliasSourceName, "max_ttl": 7200})
	d = h.must(engine.OpRead, "role/app", nil).Data
	if d["alias_name_source"] != aliasSourceName || d["audience"] != "ward" || d["token_max_ttl"] != int64(7200) ||
		!reflect.DeepEqual(d["bound_service_account_names"], []string{"a", "b"}) {
		t.Fatalf("after update = %v", d)
	}

	// Both "*" would let every service account of the cluster in.
	if _, err := h.call(engine.OpUpdate, "role/other", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "*"}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("both bound lists \"*\": %v", err)
	}
	h.must(engine.OpUpdate, "role/other", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "ops"})
	keys := h.must(engine.OpList, "role", nil).Data["keys"]
	if !reflect.DeepEqual(keys, []string{"app", "other"}) {
		t.Fatalf("list = %v", keys)
	}
	h.must(engine.OpDelete, "role/app", nil)
	if resp, _ := h.call(engine.OpRead, "role/app", nil); resp != nil {
		t.Fatal("role still readable after delete")
	}
	h.must(engine.OpDelete, "role/app", nil) // idempotent
}

func TestRoleRejects(t *testing.T) {
	h := newHarness(t)
	ok := map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "ns"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"no names", with("bound_service_account_names", nil), "bound_service_account_names"},
		{"empty names", with("bound_service_account_names", []any{}), "bound_service_account_names"},
		{"no namespaces", with("bound_service_account_namespaces", nil), "bound_service_account_namespaces"},
		{"star mixed", with("bound_service_account_namespaces", "*,default"), "bound_service_account_namespaces"},
		{"alias source", with("alias_name_source", "pod_name"), "alias_name_source"},
		{"token ttl over max", with("token_ttl", "2h"), "token_ttl"},
		{"token type", with("token_type", "batch"), "token_type"},
		{"names not a list", with("bound_service_account_names", map[string]any{"x": 1}), "bound_service_account_names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if tc.name == "token ttl over max" {
				data["token_max_ttl"] = "1h"
			}
			_, err := h.call(engine.OpUpdate, "role/r", data)
			wantKind(t, err, engine.ErrInvalidRequest, "")
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
	if resp, _ := h.call(engine.OpRead, "role/r", nil); resp != nil {
		t.Fatal("a refused write stored a role")
	}
	long := strings.Repeat("r", maxRoleName+1)
	_, err := h.call(engine.OpUpdate, "role/"+long, ok)
	wantKind(t, err, engine.ErrInvalidRequest, "")
}

func TestRoleWarnsUnknownParams(t *testing.T) {
	h := newHarness(t)
	resp := h.must(engine.OpUpdate, "role/r", map[string]any{
		"bound_service_account_names":              "a",
		"bound_service_account_namespaces":         "ns",
		"token_policies":                           "p",
		"bound_service_account_namespace_selector": "x",
		"colour": "blue",
	})
	want := []string{"Endpoint ignored these unrecognized parameters: [bound_service_account_namespace_selector colour]"}
	if resp == nil || !reflect.DeepEqual(resp.Warnings, want) {
		t.Fatalf("warnings = %v, want %v", resp, want)
	}
	resp = h.must(engine.OpUpdate, "role/r", map[string]any{"token_ttl": 60})
	if resp != nil {
		t.Fatalf("known params warned: %v", resp.Warnings)
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		list  []string
		value string
		want  bool
	}{
		{[]string{"*"}, "anything", true},
		{[]string{"a", "b"}, "b", true},
		{[]string{"a", "b"}, "c", false},
		{[]string{"a"}, "ab", false},
		{[]string{"app-*"}, "app-web", true},
		{[]string{"app-*"}, "api-web", false},
		{[]string{"*-web"}, "app-web", true},
		{[]string{"*-web"}, "app-db", false},
		{[]string{"*pp*"}, "app-db", true},
		{[]string{"*pp*"}, "db", false},
		{nil, "a", false},
	} {
		if got := matches(tc.list, tc.value); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.list, tc.value, got, tc.want)
		}
	}
}
