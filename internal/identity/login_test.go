package identity

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
)

func TestLoginAliasCreatesThenFinds(t *testing.T) {
	h := newHarness(t)
	g0 := h.s.Generation()
	meta := map[string]string{"service_account_name": "a", "service_account_namespace": "default"}
	e := h.login(accUserpass, "alice", meta)
	if !uuidRE.MatchString(e.ID) || !regexp.MustCompile(`^entity_[0-9a-f]{8}$`).MatchString(e.Name) {
		t.Fatalf("new entity %q %q", e.ID, e.Name)
	}
	if len(e.Aliases) != 1 {
		t.Fatalf("aliases = %+v", e.Aliases)
	}
	a := e.Aliases[0]
	if a.CanonicalID != e.ID || a.MountAccessor != accUserpass || a.MountType != "userpass" ||
		a.MountPath != "auth/userpass/" || a.Name != "alice" || !reflect.DeepEqual(a.Metadata, meta) {
		t.Fatalf("alias = %+v", a)
	}
	g1 := h.s.Generation()
	if g1 <= g0 {
		t.Fatalf("generation %d after creating, was %d", g1, g0)
	}

	// The same login again finds the same entity and writes nothing.
	h.clock.Advance(time.Hour)
	again := h.login(accUserpass, "alice", meta)
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("second login =\n%+v\nwant\n%+v", again, e)
	}
	if h.s.Generation() != g1 {
		t.Fatalf("an unchanged login bumped the generation")
	}
	// The copy returned is the caller's own.
	again.Aliases[0].Metadata["service_account_name"] = "evil"
	again.Name = "x"
	if got := h.s.Entity(e.ID); got.Name != e.Name || got.Aliases[0].Metadata["service_account_name"] != "a" {
		t.Fatalf("changing a copy changed the store: %+v", got)
	}

	// Another principal, or the same name on another mount, is another entity.
	if other := h.login(accUserpass, "bob", nil); other.ID == e.ID {
		t.Fatal("bob got alice's entity")
	}
	if other := h.login(accJWT, "alice", nil); other.ID == e.ID {
		t.Fatal("alice on another mount got the same entity")
	}
}

func TestLoginAliasUpdatesMetadata(t *testing.T) {
	h := newHarness(t)
	e := h.login(accUserpass, "svc", map[string]string{"role": "a"})
	g := h.s.Generation()
	h.clock.Advance(time.Minute)
	e2 := h.login(accUserpass, "svc", map[string]string{"role": "b", "extra": "x"})
	if e2.ID != e.ID {
		t.Fatal("metadata change made a new entity")
	}
	if !reflect.DeepEqual(e2.Aliases[0].Metadata, map[string]string{"role": "b", "extra": "x"}) {
		t.Fatalf("metadata = %v", e2.Aliases[0].Metadata)
	}
	if !e2.Aliases[0].LastUpdateTime.Equal(h.clock.Now()) || !e2.Aliases[0].CreationTime.Equal(e.Aliases[0].CreationTime) {
		t.Fatalf("alias times = %+v", e2.Aliases[0])
	}
	if h.s.Generation() <= g {
		t.Fatal("a metadata change did not bump the generation")
	}
	if got := h.s.TemplateData(e.ID).Aliases[accUserpass].Metadata["role"]; got != "b" {
		t.Fatalf("template sees role %q", got)
	}
	// Reported metadata replaces, it does not merge.
	if e3 := h.login(accUserpass, "svc", nil); e3.Aliases[0].Metadata != nil {
		t.Fatalf("metadata after empty login = %v", e3.Aliases[0].Metadata)
	}
}

func TestLoginAliasConcurrent(t *testing.T) {
	h := newHarness(t)
	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			e, err := h.s.LoginAlias(context.Background(), accUserpass, "userpass", "auth/userpass/",
				engine.Alias{Name: "same", Metadata: map[string]string{"n": fmt.Sprint(i % 3)}}, nil)
			if err == nil {
				ids[i] = e.ID
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("login %d: %q, %v; login 0: %q", i, ids[i], errs[i], ids[0])
		}
	}
	if l := keys(h.ok(engine.OpList, "entity/id/", "")); len(l) != 1 {
		t.Fatalf("entities = %v, want one", l)
	}
	h.reopen()
	if l := keys(h.ok(engine.OpList, "entity/id/", "")); len(l) != 1 || l[0] != ids[0] {
		t.Fatalf("stored entities = %v, want [%s]", l, ids[0])
	}
}

func TestLoginAliasDisabledEntity(t *testing.T) {
	h := newHarness(t)
	e := h.login(accUserpass, "alice", map[string]string{"v": "1"})
	h.ok(engine.OpUpdate, "entity/id/"+e.ID, `{"disabled":true}`)
	got := h.login(accUserpass, "alice", map[string]string{"v": "2"})
	if got.ID != e.ID || !got.Disabled || got.Aliases[0].Metadata["v"] != "1" {
		t.Fatalf("login of disabled entity = %+v", got)
	}
}

func TestLoginAliasErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.s.LoginAlias(ctx, "", "userpass", "auth/userpass/", engine.Alias{Name: "a"}, nil); err == nil {
		t.Fatal("empty accessor accepted")
	}
	if _, err := h.s.LoginAlias(ctx, accUserpass, "userpass", "auth/userpass/", engine.Alias{}, nil); err == nil {
		t.Fatal("empty alias name accepted")
	}
	h.st.setFail(true)
	if _, err := h.s.LoginAlias(ctx, accUserpass, "userpass", "auth/userpass/", engine.Alias{Name: "a"}, nil); !errors.Is(err, errInjected) {
		t.Fatalf("login with failing storage: %v", err)
	}
	h.st.setFail(false)
	if l := h.ok(engine.OpList, "entity/id/", ""); l != nil {
		t.Fatalf("a failed login left %v", l)
	}
}

func TestExternalGroups(t *testing.T) {
	h := newHarness(t)
	bad := engine.ErrInvalidRequest
	eng := h.ok(engine.OpUpdate, "group", `{"name":"eng","type":"external","policies":["eng"],"metadata":{"org":"acme"}}`)["id"].(string)
	ops := h.ok(engine.OpUpdate, "group", `{"name":"ops","type":"external","policies":["ops"]}`)["id"].(string)
	internal := h.ok(engine.OpUpdate, "group", `{"name":"int"}`)["id"].(string)

	d := h.ok(engine.OpUpdate, "group-alias", `{"name":"engineering","mount_accessor":"`+accJWT+`","canonical_id":"`+eng+`"}`)
	engAlias := d["id"].(string)
	if !uuidRE.MatchString(engAlias) || d["canonical_id"] != eng {
		t.Fatalf("group alias = %v", d)
	}
	opsAlias := h.ok(engine.OpUpdate, "group-alias", `{"name":"operations","mount_accessor":"`+accJWT+`","canonical_id":"`+ops+`"}`)["id"].(string)
	h.fail(engine.OpUpdate, "group-alias", `{"name":"x","mount_accessor":"`+accJWT+`","canonical_id":"`+internal+`"}`, bad, "only external groups")
	h.fail(engine.OpUpdate, "group-alias", `{"name":"x","mount_accessor":"`+accJWT+`","canonical_id":"`+eng+`"}`, bad, "already has an alias")
	h.fail(engine.OpUpdate, "group-alias", `{"name":"engineering","mount_accessor":"`+accJWT+`","canonical_id":"`+ops+`"}`, bad, "already belongs to group")
	h.fail(engine.OpUpdate, "group-alias", `{"name":"x","mount_accessor":"`+accJWT+`"}`, bad, "canonical_id")
	h.fail(engine.OpUpdate, "group-alias", `{"name":"x","canonical_id":"`+eng+`"}`, bad, "mount_accessor")

	r := h.ok(engine.OpRead, "group-alias/id/"+engAlias, "")
	if r["name"] != "engineering" || r["canonical_id"] != eng || r["mount_accessor"] != accJWT {
		t.Fatalf("read group alias = %v", r)
	}
	if a := h.ok(engine.OpRead, "group/id/"+eng, "")["alias"].(map[string]any); a["id"] != engAlias {
		t.Fatalf("group's alias = %v", a)
	}

	// A login reporting "engineering" joins eng; the policies follow.
	e := h.login(accJWT, "carol", nil, "engineering", "unknown-group")
	if !slices.Equal(e.GroupIDs, []string{eng}) {
		t.Fatalf("GroupIDs = %v, want [%s]", e.GroupIDs, eng)
	}
	if p := h.s.Policies(e.ID); !slices.Equal(p, []string{"eng"}) {
		t.Fatalf("Policies = %v", p)
	}
	td := h.s.TemplateData(e.ID)
	if !reflect.DeepEqual(td.Groups, []policy.Group{{ID: eng, Name: "eng", Metadata: map[string]string{"org": "acme"}}}) {
		t.Fatalf("template groups = %+v", td.Groups)
	}
	// Group names reported through another mount do not count.
	if e := h.login(accUserpass, "carol", nil, "operations"); len(e.GroupIDs) != 0 {
		t.Fatalf("userpass login joined %v", e.GroupIDs)
	}
	// The next login reports other groups: membership follows.
	gen := h.s.Generation()
	e = h.login(accJWT, "carol", nil, "operations")
	if !slices.Equal(e.GroupIDs, []string{ops}) || h.s.Generation() == gen {
		t.Fatalf("GroupIDs = %v", e.GroupIDs)
	}
	if p := h.s.Policies(e.ID); !slices.Equal(p, []string{"ops"}) {
		t.Fatalf("Policies = %v", p)
	}
	if r := h.ok(engine.OpRead, "group/id/"+ops, ""); !reflect.DeepEqual(r["member_entity_ids"], []string{e.ID}) {
		t.Fatalf("ops members = %v", r["member_entity_ids"])
	}
	// Members of external groups cannot be set by hand, but an empty list is fine.
	h.fail(engine.OpUpdate, "group/id/"+ops, `{"member_entity_ids":["`+e.ID+`"]}`, bad, "external groups")
	h.ok(engine.OpUpdate, "group/id/"+ops, `{"member_entity_ids":[],"policies":["ops","ops2"]}`)
	if p := h.s.Policies(e.ID); !slices.Equal(p, []string{"ops", "ops2"}) {
		t.Fatalf("Policies after group update = %v", p)
	}
	e = h.login(accJWT, "carol", nil)
	if len(e.GroupIDs) != 0 || h.s.Policies(e.ID) != nil {
		t.Fatalf("after a login with no groups: %v, %v", e.GroupIDs, h.s.Policies(e.ID))
	}

	// Group alias update, list, lookup, delete.
	h.ok(engine.OpUpdate, "group-alias/id/"+opsAlias, `{"name":"ops-team"}`)
	if e := h.login(accJWT, "carol", nil, "ops-team"); !slices.Equal(e.GroupIDs, []string{ops}) {
		t.Fatalf("after alias rename: %v", e.GroupIDs)
	}
	l := h.ok(engine.OpList, "group-alias/id/", "")
	want := []string{engAlias, opsAlias}
	slices.Sort(want)
	if !slices.Equal(keys(l), want) {
		t.Fatalf("group alias list = %v", l)
	}
	if g := h.ok(engine.OpUpdate, "lookup/group", `{"alias_name":"ops-team","alias_mount_accessor":"`+accJWT+`"}`); g["id"] != ops {
		t.Fatalf("lookup group by alias = %v", g)
	}
	h.ok(engine.OpDelete, "group-alias/id/"+opsAlias, "")
	h.missing("group-alias/id/" + opsAlias)
	if a := h.ok(engine.OpRead, "group/id/"+ops, "")["alias"].(map[string]any); len(a) != 0 {
		t.Fatalf("alias after delete = %v", a)
	}
	// Deleting a group deletes its alias.
	h.ok(engine.OpDelete, "group/id/"+eng, "")
	h.missing("group-alias/id/" + engAlias)
}

func TestGroupAliasMove(t *testing.T) {
	h := newHarness(t)
	a := h.ok(engine.OpUpdate, "group", `{"name":"a","type":"external"}`)["id"].(string)
	b := h.ok(engine.OpUpdate, "group", `{"name":"b","type":"external"}`)["id"].(string)
	id := h.ok(engine.OpUpdate, "group-alias", `{"name":"x","mount_accessor":"`+accJWT+`","canonical_id":"`+a+`"}`)["id"].(string)
	if d := h.ok(engine.OpUpdate, "group-alias/id/"+id, `{"canonical_id":"`+b+`"}`); d["canonical_id"] != b {
		t.Fatalf("move = %v", d)
	}
	if e := h.login(accJWT, "u", nil, "x"); !slices.Equal(e.GroupIDs, []string{b}) {
		t.Fatalf("GroupIDs = %v, want [%s]", e.GroupIDs, b)
	}
	if al := h.ok(engine.OpRead, "group/id/"+a, "")["alias"].(map[string]any); len(al) != 0 {
		t.Fatalf("a still has alias %v", al)
	}
}

func TestTemplateData(t *testing.T) {
	h := newHarness(t)
	e := h.login(accUserpass, "alice", map[string]string{"team": "x"})
	h.ok(engine.OpUpdate, "entity/id/"+e.ID, `{"metadata":{"region":"eu"}}`)
	h.ok(engine.OpUpdate, "entity-alias/id/"+e.Aliases[0].ID, `{"custom_metadata":{"email":"a@x"}}`)
	g := h.ok(engine.OpUpdate, "group", `{"name":"g","member_entity_ids":"`+e.ID+`","metadata":{"k":"v"}}`)["id"].(string)
	got := h.s.TemplateData(e.ID)
	want := policy.TemplateData{
		EntityID: e.ID, EntityName: e.Name, EntityMetadata: map[string]string{"region": "eu"},
		Aliases: map[string]policy.Alias{accUserpass: {
			ID: e.Aliases[0].ID, Name: "alice", Metadata: map[string]string{"team": "x"},
			CustomMetadata: map[string]string{"email": "a@x"},
		}},
		Groups: []policy.Group{{ID: g, Name: "g", Metadata: map[string]string{"k": "v"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TemplateData =\n%+v\nwant\n%+v", got, want)
	}
	if td := h.s.TemplateData("nope"); !reflect.DeepEqual(td, policy.TemplateData{}) {
		t.Fatalf("TemplateData(unknown) = %+v", td)
	}
	// The data is a copy.
	got.Aliases[accUserpass].Metadata["team"] = "evil"
	if h.s.TemplateData(e.ID).Aliases[accUserpass].Metadata["team"] != "x" {
		t.Fatal("changing template data changed the store")
	}
}
