package identity

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestEntityAliasLifecycle(t *testing.T) {
	h := newHarness(t)
	bad := engine.ErrInvalidRequest
	alice := h.ok(engine.OpUpdate, "entity", `{"name":"alice"}`)["id"].(string)
	bob := h.ok(engine.OpUpdate, "entity", `{"name":"bob"}`)["id"].(string)

	d := h.ok(engine.OpUpdate, "entity-alias", `{"name":"alice","canonical_id":"`+alice+`","mount_accessor":"`+accUserpass+`","custom_metadata":{"email":"a@example.com"}}`)
	aliasID, _ := d["id"].(string)
	if !uuidRE.MatchString(aliasID) || d["canonical_id"] != alice {
		t.Fatalf("create alias = %v", d)
	}
	r := h.ok(engine.OpRead, "entity-alias/id/"+aliasID, "")
	want := map[string]any{
		"id": aliasID, "canonical_id": alice, "mount_accessor": accUserpass, "mount_type": "", "mount_path": "",
		"name": "alice", "metadata": nil, "custom_metadata": map[string]string{"email": "a@example.com"},
		"creation_time": "2025-03-01T12:00:00Z", "last_update_time": "2025-03-01T12:00:00Z",
		"local": false, "merged_from_canonical_ids": nil, "namespace_id": "root",
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("read alias =\n%#v\nwant\n%#v", r, want)
	}
	// The entity shows it, and logins through the mount find alice.
	if al := h.ok(engine.OpRead, "entity/id/"+alice, "")["aliases"].([]any); len(al) != 1 || al[0].(map[string]any)["id"] != aliasID {
		t.Fatalf("entity aliases = %v", al)
	}
	if e := h.login(accUserpass, "alice", nil); e.ID != alice {
		t.Fatalf("login found %s, want %s", e.ID, alice)
	}

	// (mount, name) is unique, and an entity has one alias per mount.
	h.fail(engine.OpUpdate, "entity-alias", `{"name":"alice","canonical_id":"`+bob+`","mount_accessor":"`+accUserpass+`"}`, bad, "already belongs to entity")
	h.fail(engine.OpUpdate, "entity-alias", `{"name":"alice2","canonical_id":"`+alice+`","mount_accessor":"`+accUserpass+`"}`, bad, "already has an alias on mount accessor")
	h.fail(engine.OpUpdate, "entity-alias", `{"name":"x","canonical_id":"nope","mount_accessor":"`+accUserpass+`"}`, bad, "invalid canonical ID")
	h.fail(engine.OpUpdate, "entity-alias", `{"name":"x","canonical_id":"`+bob+`"}`, bad, "mount_accessor")
	h.fail(engine.OpUpdate, "entity-alias", `{"canonical_id":"`+bob+`","mount_accessor":"`+accUserpass+`"}`, bad, "name")
	h.fail(engine.OpUpdate, "entity-alias/id/nope", `{"name":"x"}`, bad, "invalid alias ID")

	// Creating the same alias again for its own entity updates it.
	h.ok(engine.OpUpdate, "entity-alias", `{"name":"alice","canonical_id":"`+alice+`","mount_accessor":"`+accUserpass+`","custom_metadata":{}}`)
	if r := h.ok(engine.OpRead, "entity-alias/id/"+aliasID, ""); r["custom_metadata"] != nil {
		t.Fatalf("custom_metadata not cleared: %v", r)
	}

	// Update: rename, then move to bob.
	h.clock.Advance(time.Second)
	h.ok(engine.OpUpdate, "entity-alias/id/"+aliasID, `{"name":"al"}`)
	d = h.ok(engine.OpUpdate, "entity-alias/id/"+aliasID, `{"canonical_id":"`+bob+`"}`)
	if d["canonical_id"] != bob {
		t.Fatalf("move = %v", d)
	}
	r = h.ok(engine.OpRead, "entity-alias/id/"+aliasID, "")
	if r["name"] != "al" || r["canonical_id"] != bob || r["last_update_time"] != "2025-03-01T12:00:01Z" {
		t.Fatalf("after update: %v", r)
	}
	if al := h.ok(engine.OpRead, "entity/id/"+alice, "")["aliases"].([]any); len(al) != 0 {
		t.Fatalf("alice still has %v", al)
	}
	if e := h.login(accUserpass, "al", nil); e.ID != bob {
		t.Fatalf("login as al found %s, want bob", e.ID)
	}

	// A second alias for bob on another mount; list both.
	d = h.ok(engine.OpUpdate, "entity-alias", `{"name":"bob@example.com","canonical_id":"`+bob+`","mount_accessor":"`+accJWT+`"}`)
	jwtAlias := d["id"].(string)
	l := h.ok(engine.OpList, "entity-alias/id/", "")
	wantKeys := []string{aliasID, jwtAlias}
	slices.Sort(wantKeys)
	if !slices.Equal(keys(l), wantKeys) {
		t.Fatalf("alias list = %v", l)
	}
	if ki := l["key_info"].(map[string]any)[jwtAlias].(map[string]any); ki["canonical_id"] != bob || ki["mount_accessor"] != accJWT || ki["name"] != "bob@example.com" {
		t.Fatalf("key_info = %v", ki)
	}

	h.ok(engine.OpDelete, "entity-alias/id/"+jwtAlias, "")
	h.missing("entity-alias/id/" + jwtAlias)
	if al := h.ok(engine.OpRead, "entity/id/"+bob, "")["aliases"].([]any); len(al) != 1 {
		t.Fatalf("bob's aliases after delete = %v", al)
	}
	// Deleting an entity deletes its aliases.
	h.ok(engine.OpDelete, "entity/id/"+bob, "")
	h.missing("entity-alias/id/" + aliasID)
	if d := h.ok(engine.OpList, "entity-alias/id", ""); d != nil {
		t.Fatalf("aliases left: %v", d)
	}
	if e := h.login(accUserpass, "al", nil); e.ID == bob {
		t.Fatal("login found the deleted entity")
	}
}

func TestEntityAliasWithoutCanonicalIDCreatesEntity(t *testing.T) {
	h := newHarness(t)
	d := h.ok(engine.OpUpdate, "entity-alias", `{"name":"carol","mount_accessor":"`+accUserpass+`"}`)
	e := h.s.Entity(d["canonical_id"].(string))
	if e == nil || len(e.Aliases) != 1 || e.Aliases[0].ID != d["id"] || e.Aliases[0].Name != "carol" {
		t.Fatalf("entity = %+v", e)
	}
}

func TestMountInfo(t *testing.T) {
	mounts := map[string][2]string{accUserpass: {"userpass", "auth/userpass/"}}
	h := newHarnessOpts(t, Options{MountInfo: func(acc string) (string, string, bool) {
		m, ok := mounts[acc]
		return m[0], m[1], ok
	}})
	h.fail(engine.OpUpdate, "entity-alias", `{"name":"a","mount_accessor":"auth_nope_00000000"}`, engine.ErrInvalidRequest, "invalid mount accessor")
	id := h.ok(engine.OpUpdate, "entity-alias", `{"name":"a","mount_accessor":"`+accUserpass+`"}`)["id"].(string)
	r := h.ok(engine.OpRead, "entity-alias/id/"+id, "")
	if r["mount_type"] != "userpass" || r["mount_path"] != "auth/userpass/" {
		t.Fatalf("alias = %v", r)
	}
	// A remount shows up in reads without rewriting the alias.
	mounts[accUserpass] = [2]string{"userpass", "auth/people/"}
	if r := h.ok(engine.OpRead, "entity-alias/id/"+id, ""); r["mount_path"] != "auth/people/" {
		t.Fatalf("alias after remount = %v", r)
	}
}
