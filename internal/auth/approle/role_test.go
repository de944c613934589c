package approle

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRoleDefaultsAndUpdate(t *testing.T) {
	h := newHarness(t)
	h.ok(engine.OpUpdate, "role/Web", map[string]any{
		"token_policies": "web,ops", "token_ttl": "20m", "token_max_ttl": 3600,
		"secret_id_ttl": "10m", "secret_id_num_uses": "5",
	})
	data := h.ok(engine.OpRead, "role/web", nil).Data
	want := map[string]any{
		"bind_secret_id": true, "secret_id_num_uses": 5, "secret_id_ttl": int64(600),
		"secret_id_bound_cidrs": []string{}, "local_secret_ids": false,
		"token_policies": []string{"web", "ops"}, "token_ttl": int64(1200), "token_max_ttl": int64(3600),
	}
	for k, v := range want {
		if !reflect.DeepEqual(data[k], v) {
			t.Errorf("read %s = %#v, want %#v", k, data[k], v)
		}
	}
	if _, ok := data["role_id"]; ok {
		t.Error("role read shows the role ID")
	}

	// An update changes only what it names.
	h.ok(engine.OpUpdate, "role/web", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8, 192.168.1.7", "period": "1h"})
	data = h.ok(engine.OpRead, "role/WEB", nil).Data
	if !reflect.DeepEqual(data["secret_id_bound_cidrs"], []string{"10.0.0.0/8", "192.168.1.7"}) ||
		data["secret_id_num_uses"] != 5 || data["token_period"] != int64(3600) ||
		!reflect.DeepEqual(data["token_policies"], []string{"web", "ops"}) {
		t.Errorf("after update: %v", data)
	}

	// The role ID survives an update.
	id := h.ok(engine.OpRead, "role/web/role-id", nil).Data["role_id"].(string)
	if !uuidRE.MatchString(id) {
		t.Errorf("role_id %q is not a UUID", id)
	}
	h.ok(engine.OpUpdate, "role/web", map[string]any{"token_ttl": "5m"})
	if got := h.ok(engine.OpRead, "role/web/role-id", nil).Data["role_id"]; got != id {
		t.Errorf("role_id changed on update: %v -> %v", id, got)
	}

	h.role("api", nil)
	keys := h.ok(engine.OpList, "role/", nil).Data["keys"]
	if !reflect.DeepEqual(keys, []string{"api", "web"}) {
		t.Errorf("list = %v", keys)
	}
	h.ok(engine.OpDelete, "role/web", nil)
	if resp := h.ok(engine.OpRead, "role/web", nil); resp != nil {
		t.Errorf("read after delete = %+v", resp)
	}
	if resp := h.ok(engine.OpRead, "role/web/role-id", nil); resp != nil {
		t.Errorf("role-id after delete = %+v", resp)
	}
	// Deleting again is fine.
	h.ok(engine.OpDelete, "role/web", nil)
}

func TestRoleInputErrors(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		path string
		data map[string]any
		want string
	}{
		{"role/a%b", nil, "role_name"},
		{"role/" + strings.Repeat("x", MaxNameLen+1), nil, "role_name"},
		{"role/a", map[string]any{"bind_secret_id": false}, "at least one constraint"},
		{"role/a", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/33"}, "secret_id_bound_cidrs"},
		{"role/a", map[string]any{"secret_id_num_uses": -1}, "secret_id_num_uses"},
		{"role/a", map[string]any{"secret_id_ttl": "soon"}, "secret_id_ttl"},
		{"role/a", map[string]any{"token_ttl": "2h", "token_max_ttl": "1h"}, "token_ttl"},
		{"role/a", map[string]any{"token_bound_cidrs": "nope"}, "token_bound_cidrs"},
		{"role/a", map[string]any{"role_id": ""}, "role_id"},
	} {
		if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, c.path, c.data); !strings.Contains(msg, c.want) {
			t.Errorf("write %s %v: %q does not name %s", c.path, c.data, msg, c.want)
		}
	}
	if resp := h.ok(engine.OpList, "role/", nil); resp != nil {
		t.Errorf("a refused write left roles: %v", resp.Data)
	}

	// A role that needs no secret ID is fine with bound CIDRs.
	h.ok(engine.OpUpdate, "role/a", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.1/32"})
	// local_secret_ids is fixed at creation.
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/a", map[string]any{"local_secret_ids": true}); !strings.Contains(msg, "local_secret_ids") {
		t.Errorf("local_secret_ids change: %q", msg)
	}
	// Unknown fields are ignored with a warning.
	resp := h.ok(engine.OpUpdate, "role/a", map[string]any{"colour": "blue", "token_ttl": 60})
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "colour") || strings.Contains(resp.Warnings[0], "token_ttl") {
		t.Errorf("warnings = %+v", resp)
	}
}

func TestRoleCreateOnly(t *testing.T) {
	h := newHarness(t)
	h.role("a", nil)
	_, err := h.b.Handle(t.Context(), &engine.Request{Operation: engine.OpCreate, Path: "role/a", CreateOnly: true, Data: map[string]any{}})
	if !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("create-only write over an existing role: %v", err)
	}
	found, supported, err := h.b.(engine.ExistenceChecker).Exists(t.Context(), &engine.Request{Operation: engine.OpUpdate, Path: "role/A"})
	if !found || !supported || err != nil {
		t.Errorf("Exists(role/A) = %v %v %v", found, supported, err)
	}
	found, _, _ = h.b.(engine.ExistenceChecker).Exists(t.Context(), &engine.Request{Operation: engine.OpUpdate, Path: "role/b"})
	if found {
		t.Error("Exists(role/b) = true")
	}
}

func TestCustomRoleID(t *testing.T) {
	h := newHarness(t)
	oldID := h.role("a", nil)
	secret, _ := h.secretID("a", nil)
	h.ok(engine.OpUpdate, "role/a/role-id", map[string]any{"role_id": "my-role-id"})
	if got := h.ok(engine.OpRead, "role/a/role-id", nil).Data["role_id"]; got != "my-role-id" {
		t.Fatalf("role_id = %v", got)
	}
	l, err := h.login(oldID, secret)
	h.refused(l, err)
	if _, err := h.login("my-role-id", secret); err != nil {
		t.Fatalf("login with the new role ID: %v", err)
	}

	// Another role may not take it; a role may be created with its own.
	h.role("b", map[string]any{"role_id": "b-id"})
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/b/role-id", map[string]any{"role_id": "my-role-id"}); !strings.Contains(msg, "in use") {
		t.Errorf("duplicate role_id: %q", msg)
	}
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/c", map[string]any{"role_id": "b-id"}); !strings.Contains(msg, "in use") {
		t.Errorf("duplicate role_id at creation: %q", msg)
	}
	h.fails(engine.ErrNotFound, engine.OpUpdate, "role/nope/role-id", map[string]any{"role_id": "x"})
	h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/a/role-id", map[string]any{})

	// Once a role lets go of a role ID, another may take it.
	h.ok(engine.OpDelete, "role/a", nil)
	h.ok(engine.OpUpdate, "role/b/role-id", map[string]any{"role_id": "my-role-id"})
	if _, err := h.login("my-role-id", ""); err == nil || !strings.Contains(err.Error(), "invalid role or secret ID") {
		t.Errorf("login as role b without its secret ID: %v", err)
	}
	for _, line := range strings.Split(h.dump(), "\n") {
		if strings.Contains(line, "my-role-id") && !strings.HasPrefix(line, "role/b=") {
			t.Errorf("role ID stored outside its role: %q", line)
		}
	}
}

func TestRoleIDNotStoredOutsideRole(t *testing.T) {
	h := newHarness(t)
	id := h.role("a", nil)
	for _, line := range strings.Split(h.dump(), "\n") {
		if strings.Contains(line, id) && !strings.HasPrefix(line, "role/a=") {
			t.Errorf("role ID in %q", line)
		}
	}
}

func TestSpecialPaths(t *testing.T) {
	h := newHarness(t)
	sp := h.b.(engine.SpecialPaths)
	if _, unauth := sp.Special("login", engine.OpUpdate); !unauth {
		t.Error("login needs a token")
	}
	for _, p := range []string{"role/a", "role/a/secret-id", "role/a/role-id", "tidy/secret-id"} {
		if _, unauth := sp.Special(p, engine.OpUpdate); unauth {
			t.Errorf("%s needs no token", p)
		}
	}
}
