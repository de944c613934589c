package identity

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEntityCreateReadUpdateDelete(t *testing.T) {
	h := newHarness(t)
	d := h.ok(engine.OpUpdate, "entity", `{"name":"alice","metadata":{"team":"infra"},"policies":["b","a","a"]}`)
	id, _ := d["id"].(string)
	if !uuidRE.MatchString(id) || d["name"] != "alice" {
		t.Fatalf("create = %v", d)
	}
	if _, ok := d["aliases"]; !ok {
		t.Fatalf("create answer lacks aliases: %v", d)
	}

	for _, path := range []string{"entity/id/" + id, "entity/name/alice"} {
		r := h.ok(engine.OpRead, path, "")
		want := map[string]any{
			"id": id, "name": "alice", "metadata": map[string]string{"team": "infra"},
			"policies": []string{"a", "b"}, "disabled": false, "aliases": []any{},
			"group_ids": []string{}, "direct_group_ids": []string{}, "inherited_group_ids": []string{},
			"merged_entity_ids": nil, "namespace_id": "root",
			"creation_time": "2025-03-01T12:00:00Z", "last_update_time": "2025-03-01T12:00:00Z",
		}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("read %s =\n%#v\nwant\n%#v", path, r, want)
		}
	}

	// An update answers nothing, changes only what was sent and keeps the
	// creation time.
	h.clock.Advance(time.Minute)
	if d := h.ok(engine.OpUpdate, "entity/id/"+id, `{"policies":"c, d","disabled":"true"}`); d != nil {
		t.Fatalf("update answered %v, want nothing", d)
	}
	r := h.ok(engine.OpRead, "entity/id/"+id, "")
	if !reflect.DeepEqual(r["policies"], []string{"c", "d"}) || r["disabled"] != true ||
		!reflect.DeepEqual(r["metadata"], map[string]string{"team": "infra"}) ||
		r["creation_time"] != "2025-03-01T12:00:00Z" || r["last_update_time"] != "2025-03-01T12:01:00Z" {
		t.Fatalf("after update: %v", r)
	}

	// POST identity/entity with the name of an existing entity updates it.
	if d := h.ok(engine.OpUpdate, "entity", `{"name":"alice","metadata":{}}`); d != nil {
		t.Fatalf("update by name answered %v", d)
	}
	if r := h.ok(engine.OpRead, "entity/name/alice", ""); r["metadata"] != nil || r["id"] != id {
		t.Fatalf("after update by name: %v", r)
	}
	// ... and with an id, renames it.
	h.ok(engine.OpUpdate, "entity", `{"id":"`+id+`","name":"alice2"}`)
	h.missing("entity/name/alice")
	if r := h.ok(engine.OpRead, "entity/name/alice2", ""); r["id"] != id {
		t.Fatalf("renamed entity: %v", r)
	}

	h.ok(engine.OpDelete, "entity/id/"+id, "")
	h.missing("entity/id/" + id)
	h.missing("entity/name/alice2")
	h.ok(engine.OpDelete, "entity/id/"+id, "") // deleting again is fine
}

func TestEntityByNamePath(t *testing.T) {
	h := newHarness(t)
	d := h.ok(engine.OpUpdate, "entity/name/svc/payments", `{"policies":["p"]}`)
	if d["name"] != "svc/payments" {
		t.Fatalf("create by name = %v", d)
	}
	if d := h.ok(engine.OpUpdate, "entity/name/svc/payments", `{"name":"ignored","metadata":{"k":"v"}}`); d != nil {
		t.Fatalf("update by name answered %v", d)
	}
	r := h.ok(engine.OpRead, "entity/name/svc/payments", "")
	if r["name"] != "svc/payments" || !reflect.DeepEqual(r["metadata"], map[string]string{"k": "v"}) {
		t.Fatalf("read = %v", r)
	}
	h.ok(engine.OpDelete, "entity/name/svc/payments", "")
	h.missing("entity/id/" + d["id"].(string))
}

func TestEntityGeneratedName(t *testing.T) {
	h := newHarness(t)
	d := h.ok(engine.OpUpdate, "entity", `{"policies":"a"}`)
	if !regexp.MustCompile(`^entity_[0-9a-f]{8}$`).MatchString(d["name"].(string)) {
		t.Fatalf("generated name %q", d["name"])
	}
}

func TestEntityErrors(t *testing.T) {
	h := newHarness(t)
	h.ok(engine.OpUpdate, "entity", `{"name":"alice"}`)
	bob := h.ok(engine.OpUpdate, "entity", `{"name":"bob"}`)["id"].(string)
	bad := engine.ErrInvalidRequest
	h.fail(engine.OpUpdate, "entity/id/"+bob, `{"name":"alice"}`, bad, "entity name is already in use")
	h.fail(engine.OpUpdate, "entity/id/nope", `{"name":"x"}`, bad, "entity not found from id")
	h.fail(engine.OpUpdate, "entity", `{"id":"nope"}`, bad, "entity not found from id")
	h.fail(engine.OpUpdate, "entity", `{"name":"x","policies":["a","root"]}`, bad, "policies cannot contain root")
	h.fail(engine.OpUpdate, "entity", `{"name":"x","policies":{"a":1}}`, bad, "policies")
	h.fail(engine.OpUpdate, "entity", `{"name":"x","disabled":"maybe"}`, bad, "disabled")
	h.fail(engine.OpUpdate, "entity", `{"name":"x","metadata":"not json"}`, bad, "metadata")
	h.fail(engine.OpUpdate, "entity", `{"name":"x\u0007"}`, bad, "control characters")
	h.fail(engine.OpUpdate, "entity", `{"name":"x","metadata":{"":"v"}}`, bad, "keys must not be empty")
	big := `{"name":"x","metadata":{"k":"` + strings.Repeat("v", MaxMetadataValueLen+1) + `"}}`
	h.fail(engine.OpUpdate, "entity", big, bad, "at most 512 bytes")
	h.fail(engine.OpRead, "entity/id/", "", bad, "missing entity id")
	h.fail(engine.OpUpdate, "entity/id/", `{}`, bad, "missing entity id")
	// Nothing failed half-way: x does not exist.
	h.missing("entity/name/x")
	if got := keys(h.ok(engine.OpList, "entity/name/", "")); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("names = %v", got)
	}
}

func TestEntityUnknownFieldsWarn(t *testing.T) {
	h := newHarness(t)
	resp, err := h.do(engine.OpUpdate, "entity", `{"name":"a","mount_point":"x"}`)
	if err != nil || len(resp.Warnings) != 1 || resp.Data["name"] != "a" {
		t.Fatalf("resp = %+v, %v", resp, err)
	}
}

func TestEntityList(t *testing.T) {
	h := newHarness(t)
	if d := h.ok(engine.OpList, "entity/id/", ""); d != nil {
		t.Fatalf("empty list = %v, want nothing (404)", d)
	}
	a := h.login(accUserpass, "alice", nil)
	b := h.ok(engine.OpUpdate, "entity", `{"name":"bob"}`)["id"].(string)

	d := h.ok(engine.OpList, "entity/id/", "")
	want := []string{a.ID, b}
	slices.Sort(want)
	if !slices.Equal(keys(d), want) {
		t.Fatalf("ids = %v, want %v", keys(d), want)
	}
	info := d["key_info"].(map[string]any)
	ai := info[a.ID].(map[string]any)
	aliases := ai["aliases"].([]any)
	if ai["name"] != a.Name || len(aliases) != 1 || aliases[0].(map[string]any)["name"] != "alice" ||
		aliases[0].(map[string]any)["mount_accessor"] != accUserpass {
		t.Fatalf("key_info[alice] = %v", ai)
	}
	if _, has := info[b].(map[string]any)["aliases"]; has {
		t.Fatalf("key_info[bob] has aliases: %v", info[b])
	}

	// The list also answers without the trailing slash, keyed by name.
	d = h.ok(engine.OpList, "entity/name", "")
	want = []string{a.Name, "bob"}
	slices.Sort(want)
	if !slices.Equal(keys(d), want) || d["key_info"].(map[string]any)["bob"] == nil {
		t.Fatalf("names = %v", d)
	}
}
