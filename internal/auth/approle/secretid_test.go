package approle

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestSecretIDIssueLookupDestroy(t *testing.T) {
	h := newHarness(t)
	h.role("web", map[string]any{"secret_id_num_uses": 10, "secret_id_ttl": "1h"})
	resp := h.ok(engine.OpUpdate, "role/web/secret-id", map[string]any{
		"metadata": `{"env": "prod", "team": "web"}`, "num_uses": 3, "ttl": "30m",
	})
	id, acc := resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
	if !uuidRE.MatchString(id) || !uuidRE.MatchString(acc) || id == acc {
		t.Fatalf("secret_id %q, accessor %q", id, acc)
	}
	if resp.Data["secret_id_ttl"] != int64(1800) || resp.Data["secret_id_num_uses"] != 3 {
		t.Errorf("issue answer %v", resp.Data)
	}

	// Defaults come from the role.
	resp = h.ok(engine.OpUpdate, "role/web/secret-id", nil)
	if resp.Data["secret_id_ttl"] != int64(3600) || resp.Data["secret_id_num_uses"] != 10 {
		t.Errorf("defaults %v", resp.Data)
	}
	acc2 := resp.Data["secret_id_accessor"].(string)

	keys := h.ok(engine.OpList, "role/web/secret-id/", nil).Data["keys"].([]string)
	if len(keys) != 2 || !contains(keys, acc) || !contains(keys, acc2) {
		t.Errorf("list = %v, want %s and %s", keys, acc, acc2)
	}

	h.clock.Advance(time.Minute)
	want := map[string]any{
		"secret_id_accessor": acc, "secret_id_num_uses": 3, "secret_id_ttl": int64(1800),
		"creation_time": "2025-03-01T12:00:00Z", "expiration_time": "2025-03-01T12:30:00Z",
		"last_updated_time": "2025-03-01T12:00:00Z",
		"metadata":          map[string]string{"env": "prod", "team": "web"},
		"cidr_list":         []string{}, "token_bound_cidrs": []string{},
	}
	if got := h.ok(engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{"secret_id": id}).Data; !reflect.DeepEqual(got, want) {
		t.Errorf("lookup = %v\nwant %v", got, want)
	}
	if got := h.ok(engine.OpUpdate, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc}).Data; !reflect.DeepEqual(got, want) {
		t.Errorf("accessor lookup = %v\nwant %v", got, want)
	}
	if resp := h.ok(engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{"secret_id": "nope"}); resp != nil {
		t.Errorf("lookup of an unknown secret ID = %+v", resp)
	}
	if msg := h.fails(engine.ErrNotFound, engine.OpUpdate, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": "nope"}); !strings.Contains(msg, "nope") {
		t.Errorf("unknown accessor: %q", msg)
	}
	h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": "../x"})
	h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{})

	// The secret ID is stored only as an HMAC.
	if d := h.dump(); strings.Contains(d, id) {
		t.Errorf("secret ID stored in clear:\n%s", d)
	}

	// Destroy by secret and by accessor.
	h.ok(engine.OpUpdate, "role/web/secret-id/destroy", map[string]any{"secret_id": id})
	if resp := h.ok(engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{"secret_id": id}); resp != nil {
		t.Errorf("lookup after destroy = %+v", resp)
	}
	h.fails(engine.ErrNotFound, engine.OpUpdate, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc})
	h.ok(engine.OpDelete, "role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": acc2})
	if resp := h.ok(engine.OpList, "role/web/secret-id/", nil); resp != nil {
		t.Errorf("list after destroying all = %+v", resp.Data)
	}
	h.fails(engine.ErrNotFound, engine.OpUpdate, "role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": acc2})
	// A secret ID of one role is not found through another.
	h.role("other", nil)
	other, otherAcc := h.secretID("other", nil)
	if resp := h.ok(engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{"secret_id": other}); resp != nil {
		t.Errorf("web sees other's secret ID: %+v", resp)
	}
	h.fails(engine.ErrNotFound, engine.OpUpdate, "role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": otherAcc})
	h.fails(engine.ErrNotFound, engine.OpUpdate, "role/nope/secret-id", nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSecretIDLimits(t *testing.T) {
	h := newHarness(t)
	h.role("web", map[string]any{
		"secret_id_num_uses": 5, "secret_id_ttl": "1h",
		"secret_id_bound_cidrs": "10.0.0.0/8", "token_bound_cidrs": "10.1.0.0/16",
	})
	for _, c := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"num_uses": 6}, "num_uses"},
		{map[string]any{"num_uses": 0}, "num_uses"},
		{map[string]any{"num_uses": -1}, "num_uses"},
		{map[string]any{"ttl": "2h"}, "ttl"},
		{map[string]any{"ttl": 0}, "ttl"},
		{map[string]any{"cidr_list": "192.168.0.0/24"}, "cidr_list"},
		{map[string]any{"cidr_list": "10.0.0.0/7"}, "cidr_list"},
		{map[string]any{"cidr_list": "::1"}, "cidr_list"},
		{map[string]any{"cidr_list": "bad"}, "cidr_list"},
		{map[string]any{"token_bound_cidrs": "10.2.0.1"}, "token_bound_cidrs"},
		{map[string]any{"metadata": "not json"}, "metadata"},
		{map[string]any{"metadata": `{"a": {"b": 1}}`}, "metadata"},
	} {
		if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/secret-id", c.data); !strings.Contains(msg, c.want) {
			t.Errorf("secret-id %v: %q does not name %s", c.data, msg, c.want)
		}
	}
	resp := h.ok(engine.OpUpdate, "role/web/secret-id", map[string]any{
		"num_uses": 5, "ttl": 3600, "cidr_list": []any{"10.1.2.0/24", "10.9.9.9"}, "token_bound_cidrs": "10.1.7.0/24",
	})
	if resp.Data["secret_id_num_uses"] != 5 {
		t.Errorf("issue = %v", resp.Data)
	}
	if resp := h.ok(engine.OpList, "role/web/secret-id/", nil); len(resp.Data["keys"].([]string)) != 1 {
		t.Errorf("refused requests left secret IDs: %v", resp.Data)
	}

	// A role with no secret ID has none to give.
	h.role("open", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.1"})
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/open/secret-id", nil); !strings.Contains(msg, "bind_secret_id") {
		t.Errorf("secret-id on a role without bind_secret_id: %q", msg)
	}
}

func TestCustomSecretID(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("web", nil)
	resp := h.ok(engine.OpUpdate, "role/web/custom-secret-id", map[string]any{"secret_id": "pushed-secret-1", "num_uses": 2})
	if resp.Data["secret_id"] != "pushed-secret-1" || !uuidRE.MatchString(resp.Data["secret_id_accessor"].(string)) {
		t.Errorf("custom-secret-id = %v", resp.Data)
	}
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/custom-secret-id", map[string]any{"secret_id": "pushed-secret-1"}); !strings.Contains(msg, "already registered") || strings.Contains(msg, "pushed-secret-1") {
		t.Errorf("duplicate custom secret ID: %q", msg)
	}
	h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/custom-secret-id", map[string]any{})
	h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "role/web/custom-secret-id", map[string]any{"secret_id": []any{"a"}})
	if _, err := h.login(roleID, "pushed-secret-1"); err != nil {
		t.Fatalf("login with the custom secret ID: %v", err)
	}
	if d := h.dump(); strings.Contains(d, "pushed-secret-1") {
		t.Errorf("custom secret ID stored in clear:\n%s", d)
	}
	// The same custom secret may serve two roles, each its own.
	h.role("api", nil)
	h.ok(engine.OpUpdate, "role/api/custom-secret-id", map[string]any{"secret_id": "pushed-secret-1"})
}

func TestDeleteRoleTakesSecretIDs(t *testing.T) {
	h := newHarness(t)
	h.role("web", map[string]any{"role_id": "web-id"})
	id, _ := h.secretID("web", nil)
	h.ok(engine.OpDelete, "role/web", nil)
	h.role("web", map[string]any{"role_id": "web-id"})
	l, err := h.login("web-id", id)
	h.refused(l, err, id)
	for _, line := range strings.Split(h.dump(), "\n") {
		if strings.HasPrefix(line, secretIDPrefix) || strings.HasPrefix(line, accessorPrefix) {
			t.Errorf("left behind: %s", line)
		}
	}
}

func TestTidy(t *testing.T) {
	h := newHarness(t)
	h.role("web", nil)
	h.secretID("web", map[string]any{"ttl": "1m"})
	h.secretID("web", map[string]any{"ttl": "1h"})
	h.secretID("web", nil)
	// Leftovers of a role deleted part way.
	h.store.Put(t.Context(), secretIDPrefix+"dead-uid/abc", []byte(`{}`))
	h.store.Put(t.Context(), accessorPrefix+"dead-uid/acc", []byte(`"abc"`))
	h.clock.Advance(2 * time.Minute)
	resp := h.ok(engine.OpUpdate, "tidy/secret-id", nil)
	if resp.Data["expired_secret_ids_removed"] != 1 || resp.Data["deleted_roles_cleaned"] != 1 {
		t.Errorf("tidy = %v", resp.Data)
	}
	if keys := h.ok(engine.OpList, "role/web/secret-id", nil).Data["keys"].([]string); len(keys) != 2 {
		t.Errorf("after tidy: %v", keys)
	}
	if strings.Contains(h.dump(), "dead-uid") {
		t.Error("tidy left a deleted role's secret IDs")
	}
}
