package identity

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func TestLookupEntity(t *testing.T) {
	h := newHarness(t)
	e := h.login(accUserpass, "alice", nil)
	for _, q := range []string{
		`{"id":"` + e.ID + `"}`,
		`{"name":"` + e.Name + `"}`,
		`{"alias_id":"` + e.Aliases[0].ID + `"}`,
		`{"alias_name":"alice","alias_mount_accessor":"` + accUserpass + `"}`,
	} {
		d := h.ok(engine.OpUpdate, "lookup/entity", q)
		if d["id"] != e.ID || d["name"] != e.Name || len(d["aliases"].([]any)) != 1 {
			t.Fatalf("lookup %s = %v", q, d)
		}
	}
	for _, q := range []string{`{"id":"nope"}`, `{"alias_name":"bob","alias_mount_accessor":"` + accUserpass + `"}`, `{"alias_name":"alice","alias_mount_accessor":"other"}`} {
		if d := h.ok(engine.OpUpdate, "lookup/entity", q); d != nil {
			t.Fatalf("lookup %s = %v, want nothing", q, d)
		}
	}
	bad := engine.ErrInvalidRequest
	h.fail(engine.OpUpdate, "lookup/entity", `{}`, bad, "missing lookup criteria")
	h.fail(engine.OpUpdate, "lookup/entity", `{"id":"a","name":"b"}`, bad, "only one lookup criterion")
	h.fail(engine.OpUpdate, "lookup/entity", `{"alias_name":"alice"}`, bad, "must be given together")
	h.fail(engine.OpRead, "lookup/entity", ``, engine.ErrUnsupportedOperation, "unsupported operation")

	g := h.ok(engine.OpUpdate, "group", `{"name":"g"}`)["id"].(string)
	if d := h.ok(engine.OpUpdate, "lookup/group", `{"name":"g"}`); d["id"] != g {
		t.Fatalf("lookup group = %v", d)
	}
	if d := h.ok(engine.OpUpdate, "lookup/group", `{"id":"nope"}`); d != nil {
		t.Fatalf("lookup missing group = %v", d)
	}
}

// TestReopen checks that everything written comes back from storage, as
// after an unseal, with its indexes.
func TestReopen(t *testing.T) {
	h := newHarness(t)
	alice := h.login(accUserpass, "alice", map[string]string{"k": "v"})
	h.ok(engine.OpUpdate, "entity/id/"+alice.ID, `{"policies":["own"],"metadata":{"m":"1"}}`)
	bob := h.ok(engine.OpUpdate, "entity", `{"name":"bob"}`)["id"].(string)
	internal := h.ok(engine.OpUpdate, "group", `{"name":"int","policies":["int"],"member_entity_ids":["`+alice.ID+`","`+bob+`"]}`)["id"].(string)
	ext := h.ok(engine.OpUpdate, "group", `{"name":"ext","type":"external","policies":["ext"]}`)["id"].(string)
	ga := h.ok(engine.OpUpdate, "group-alias", `{"name":"devs","mount_accessor":"`+accJWT+`","canonical_id":"`+ext+`"}`)["id"].(string)
	carol := h.login(accJWT, "carol", nil, "devs")

	before := map[string]any{}
	for _, p := range []string{"entity/id/" + alice.ID, "entity/id/" + bob, "entity/id/" + carol.ID, "group/id/" + internal, "group/id/" + ext, "group-alias/id/" + ga, "entity-alias/id/" + alice.Aliases[0].ID} {
		before[p] = h.ok(engine.OpRead, p, "")
	}
	policies := h.s.Policies(alice.ID)
	td := h.s.TemplateData(carol.ID)

	h.reopen()
	for p, want := range before {
		if got := h.ok(engine.OpRead, p, ""); !reflect.DeepEqual(got, want) {
			t.Fatalf("after reopen %s =\n%v\nwant\n%v", p, got, want)
		}
	}
	if got := h.s.Policies(alice.ID); !slices.Equal(got, policies) || !slices.Equal(got, []string{"int", "own"}) {
		t.Fatalf("Policies after reopen = %v", got)
	}
	if got := h.s.TemplateData(carol.ID); !reflect.DeepEqual(got, td) {
		t.Fatalf("TemplateData after reopen = %+v, want %+v", got, td)
	}
	// Indexes work: the same logins find the same entities, names are taken.
	if e := h.login(accUserpass, "alice", map[string]string{"k": "v"}); e.ID != alice.ID {
		t.Fatalf("login after reopen found %s", e.ID)
	}
	h.fail(engine.OpUpdate, "entity/id/"+bob, `{"name":"`+alice.Name+`"}`, engine.ErrInvalidRequest, "already in use")
	if d := h.ok(engine.OpUpdate, "lookup/group", `{"alias_name":"devs","alias_mount_accessor":"`+accJWT+`"}`); d["id"] != ext {
		t.Fatalf("group alias index after reopen: %v", d)
	}
}

func TestReopenDropsDanglingMembers(t *testing.T) {
	h := newHarness(t)
	a := h.ok(engine.OpUpdate, "entity", `{"name":"a"}`)["id"].(string)
	g := h.ok(engine.OpUpdate, "group", `{"name":"g","member_entity_ids":"`+a+`"}`)["id"].(string)
	// Delete the entity behind the store's back, as a cut-short delete would.
	if err := h.st.Delete(context.Background(), prefixEntity+a); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if m := h.ok(engine.OpRead, "group/id/"+g, "")["member_entity_ids"]; !reflect.DeepEqual(m, []string{}) {
		t.Fatalf("members = %v", m)
	}
}

func TestReopenRejectsDamage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.st.Put(ctx, prefixEntity+"x", []byte("{not json"))
	if _, err := New(ctx, h.st, h.opts); err == nil || !strings.Contains(err.Error(), "decode entity/x") {
		t.Fatalf("New with damaged entity: %v", err)
	}
	h.st.Put(ctx, prefixEntity+"x", []byte(`{"id":"y"}`))
	if _, err := New(ctx, h.st, h.opts); err == nil || !strings.Contains(err.Error(), "stored under") {
		t.Fatalf("New with misfiled entity: %v", err)
	}
}

// TestStorageFailureChangesNothing checks that a write whose storage fails
// leaves memory as it was: the store never shows what it could not save.
func TestStorageFailureChangesNothing(t *testing.T) {
	h := newHarness(t)
	e := h.login(accUserpass, "alice", nil)
	g := h.ok(engine.OpUpdate, "group", `{"name":"g","policies":"p","member_entity_ids":"`+e.ID+`"}`)["id"].(string)
	gen := h.s.Generation()
	snapshot := func() map[string]any {
		return map[string]any{
			"entity": h.ok(engine.OpRead, "entity/id/"+e.ID, ""),
			"group":  h.ok(engine.OpRead, "group/id/"+g, ""),
			"names":  h.ok(engine.OpList, "entity/name/", ""),
		}
	}
	before := snapshot()
	h.st.setFail(true)
	for _, w := range []struct{ op, path, body string }{
		{"update", "entity/id/" + e.ID, `{"name":"renamed","policies":"x"}`},
		{"update", "entity", `{"name":"new"}`},
		{"update", "group/id/" + g, `{"policies":"y"}`},
		{"update", "entity-alias/id/" + e.Aliases[0].ID, `{"name":"x"}`},
		{"delete", "entity/id/" + e.ID, ``},
		{"delete", "group/id/" + g, ``},
		{"delete", "entity-alias/id/" + e.Aliases[0].ID, ``},
	} {
		op := engine.OpUpdate
		if w.op == "delete" {
			op = engine.OpDelete
		}
		if _, err := h.do(op, w.path, w.body); !errors.Is(err, errInjected) {
			t.Fatalf("%s %s with failing storage: %v", w.op, w.path, err)
		}
	}
	if _, err := h.s.LoginAlias(context.Background(), accUserpass, "userpass", "auth/userpass/", engine.Alias{Name: "alice", Metadata: map[string]string{"new": "1"}}, nil); !errors.Is(err, errInjected) {
		t.Fatalf("login with failing storage: %v", err)
	}
	h.st.setFail(false)
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Fatalf("failed writes changed the store:\n%v\nwas\n%v", after, before)
	}
	if h.s.Generation() != gen {
		t.Fatal("failed writes bumped the generation")
	}
}

func TestGenerationBumps(t *testing.T) {
	h := newHarness(t)
	last := h.s.Generation()
	step := func(what string, op engine.Operation, path, body string) {
		t.Helper()
		h.ok(op, path, body)
		if g := h.s.Generation(); g <= last {
			t.Fatalf("%s: generation %d, was %d", what, g, last)
		} else {
			last = g
		}
	}
	step("create entity", engine.OpUpdate, "entity", `{"name":"a"}`)
	id := h.s.entityByName["a"]
	step("update entity", engine.OpUpdate, "entity/id/"+id, `{"metadata":{"k":"v"}}`)
	step("create alias", engine.OpUpdate, "entity-alias", `{"name":"a","mount_accessor":"`+accUserpass+`","canonical_id":"`+id+`"}`)
	step("create group", engine.OpUpdate, "group", `{"name":"g","member_entity_ids":"`+id+`"}`)
	step("update group", engine.OpUpdate, "group/name/g", `{"metadata":{"k":"v"}}`)
	step("delete group", engine.OpDelete, "group/name/g", ``)
	step("delete entity", engine.OpDelete, "entity/id/"+id, ``)
	// Reads do not bump it.
	h.ok(engine.OpList, "group/id/", "")
	h.s.Policies(id)
	if h.s.Generation() != last {
		t.Fatal("a read bumped the generation")
	}
}
