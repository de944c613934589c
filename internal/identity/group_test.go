package identity

import (
	"reflect"
	"slices"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
)

func TestGroupLifecycle(t *testing.T) {
	h := newHarness(t)
	bad := engine.ErrInvalidRequest
	alice := h.login(accUserpass, "alice", nil)
	bob := h.ok(engine.OpUpdate, "entity", `{"name":"bob","policies":["bob-own"]}`)["id"].(string)

	d := h.ok(engine.OpUpdate, "group", `{"name":"devs","policies":"dev,shared","metadata":{"team":"dev"},"member_entity_ids":["`+alice.ID+`","`+bob+`","`+bob+`"]}`)
	gid, _ := d["id"].(string)
	if !uuidRE.MatchString(gid) || d["name"] != "devs" {
		t.Fatalf("create group = %v", d)
	}
	members := []string{alice.ID, bob}
	slices.Sort(members)
	for _, path := range []string{"group/id/" + gid, "group/name/devs"} {
		r := h.ok(engine.OpRead, path, "")
		want := map[string]any{
			"id": gid, "name": "devs", "type": "internal", "policies": []string{"dev", "shared"},
			"member_entity_ids": members, "member_group_ids": nil, "parent_group_ids": nil,
			"metadata": map[string]string{"team": "dev"}, "alias": map[string]any{}, "modify_index": uint64(1),
			"creation_time": "2025-03-01T12:00:00Z", "last_update_time": "2025-03-01T12:00:00Z", "namespace_id": "root",
		}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("read %s =\n%#v\nwant\n%#v", path, r, want)
		}
	}

	// Members get the group's policies and see the group.
	if got := h.s.Policies(bob); !slices.Equal(got, []string{"bob-own", "dev", "shared"}) {
		t.Fatalf("Policies(bob) = %v", got)
	}
	if got := h.s.Entity(alice.ID).GroupIDs; !slices.Equal(got, []string{gid}) {
		t.Fatalf("alice GroupIDs = %v", got)
	}
	if r := h.ok(engine.OpRead, "entity/id/"+bob, ""); !reflect.DeepEqual(r["group_ids"], []string{gid}) || !reflect.DeepEqual(r["direct_group_ids"], []string{gid}) {
		t.Fatalf("bob read = %v", r)
	}
	td := h.s.TemplateData(alice.ID)
	if !reflect.DeepEqual(td.Groups, []policy.Group{{ID: gid, Name: "devs", Metadata: map[string]string{"team": "dev"}}}) {
		t.Fatalf("template groups = %+v", td.Groups)
	}

	// Update by id answers nothing; dropping a member drops its policies.
	if d := h.ok(engine.OpUpdate, "group/id/"+gid, `{"member_entity_ids":["`+alice.ID+`"]}`); d != nil {
		t.Fatalf("update answered %v", d)
	}
	if got := h.s.Policies(bob); !slices.Equal(got, []string{"bob-own"}) {
		t.Fatalf("Policies(bob) after removal = %v", got)
	}
	// POST identity/group with an existing name updates that group.
	h.ok(engine.OpUpdate, "group", `{"name":"devs","policies":["dev2"]}`)
	if got := h.s.Policies(alice.ID); !slices.Equal(got, []string{"dev2"}) {
		t.Fatalf("Policies(alice) = %v", got)
	}
	if r := h.ok(engine.OpRead, "group/id/"+gid, ""); r["modify_index"] != uint64(3) {
		t.Fatalf("modify_index = %v", r["modify_index"])
	}

	// Errors.
	h.ok(engine.OpUpdate, "group", `{"name":"ops"}`)
	h.fail(engine.OpUpdate, "group/id/"+gid, `{"name":"ops"}`, bad, "group name is already in use")
	h.fail(engine.OpUpdate, "group/id/"+gid, `{"type":"external"}`, bad, "group type cannot be changed")
	h.fail(engine.OpUpdate, "group", `{"name":"x","type":"weird"}`, bad, "type")
	h.fail(engine.OpUpdate, "group", `{"name":"x","policies":["root"]}`, bad, "policies cannot contain root")
	h.fail(engine.OpUpdate, "group", `{"name":"x","member_entity_ids":["nope"]}`, bad, `no entity "nope"`)
	h.fail(engine.OpUpdate, "group", `{"name":"x","member_group_ids":["`+gid+`"]}`, bad, "nested groups are not supported")
	h.fail(engine.OpUpdate, "group", `{"name":"x","type":"external","member_entity_ids":["`+bob+`"]}`, bad, "external groups")
	h.fail(engine.OpUpdate, "group/id/nope", `{}`, bad, "invalid group ID")
	h.missing("group/name/x")

	// Lists.
	l := h.ok(engine.OpList, "group/name/", "")
	if !slices.Equal(keys(l), []string{"devs", "ops"}) {
		t.Fatalf("group names = %v", l)
	}
	if ki := l["key_info"].(map[string]any)["devs"].(map[string]any); ki["num_member_entities"] != 1 || ki["name"] != "devs" {
		t.Fatalf("key_info = %v", ki)
	}
	if got := keys(h.ok(engine.OpList, "group/id", "")); len(got) != 2 || !slices.Contains(got, gid) {
		t.Fatalf("group ids = %v", got)
	}

	// Deleting an entity takes it out of its groups.
	h.ok(engine.OpDelete, "entity/id/"+alice.ID, "")
	if r := h.ok(engine.OpRead, "group/id/"+gid, ""); !reflect.DeepEqual(r["member_entity_ids"], []string{}) {
		t.Fatalf("members after entity delete = %v", r["member_entity_ids"])
	}
	h.ok(engine.OpDelete, "group/name/devs", "")
	h.missing("group/id/" + gid)
	h.ok(engine.OpDelete, "group/id/"+gid, "")
}

func TestGroupGeneratedNameAndNamePath(t *testing.T) {
	h := newHarness(t)
	d := h.ok(engine.OpUpdate, "group", `{"policies":["a"]}`)
	if n := d["name"].(string); len(n) != len("group_12345678") || n[:6] != "group_" {
		t.Fatalf("generated group name %q", n)
	}
	d = h.ok(engine.OpUpdate, "group/name/admins", `{"policies":["admin"]}`)
	if d["name"] != "admins" {
		t.Fatalf("create by name = %v", d)
	}
	if d := h.ok(engine.OpUpdate, "group/name/admins", `{"type":"internal"}`); d != nil {
		t.Fatalf("update by name answered %v", d)
	}
}

func TestDisabledEntityGetsNothing(t *testing.T) {
	h := newHarness(t)
	e := h.ok(engine.OpUpdate, "entity", `{"name":"a","policies":["own"],"disabled":true}`)["id"].(string)
	h.ok(engine.OpUpdate, "group", `{"name":"g","policies":["grp"],"member_entity_ids":"`+e+`"}`)
	if p := h.s.Policies(e); p != nil {
		t.Fatalf("Policies(disabled) = %v", p)
	}
	if td := h.s.TemplateData(e); td.EntityID != "" {
		t.Fatalf("TemplateData(disabled) = %+v", td)
	}
	h.ok(engine.OpUpdate, "entity/id/"+e, `{"disabled":false}`)
	if p := h.s.Policies(e); !slices.Equal(p, []string{"grp", "own"}) {
		t.Fatalf("Policies(enabled) = %v", p)
	}
	if p := h.s.Policies("nope"); p != nil {
		t.Fatalf("Policies(unknown) = %v", p)
	}
}
