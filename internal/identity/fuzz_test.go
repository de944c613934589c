package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// decodeBody decodes a fuzzed body as httpapi would, or reports false.
func decodeBody(raw []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// checkWriteError fails unless err is nil or a client error: bodies are
// user input, so nothing in them may cause a 500.
func checkWriteError(t *testing.T, body []byte, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("body %s: error %v is not a 400", body, err)
	}
}

// FuzzEntityWrite writes fuzzed bodies to identity/entity and checks that
// every accepted write reads back as the rules say: a valid name, sorted
// policies without root, metadata within limits, and what was sent.
func FuzzEntityWrite(f *testing.F) {
	for _, s := range []string{
		`{"name":"alice","metadata":{"team":"infra"},"policies":["a","b"]}`,
		`{"name":"bob","policies":"a, b,,c","disabled":"true"}`,
		`{"policies":["root"]}`,
		`{"name":"x","metadata":"{\"k\":\"v\"}"}`,
		`{"name":"x","metadata":{"k":1,"j":true}}`,
		`{"id":"nope"}`,
		`{"name":""}`,
		`{"name":"a/b/../c","disabled":1}`,
		`{"name":"\u0000"}`,
		`{"metadata":{"":"v"}}`,
		`{"name":"alice","policies":[" Root "]}`,
		`{"name":7,"policies":[1,2],"disabled":"0"}`,
		`{"name":{"nested":1}}`,
		`{"name":"x","unknown":[1,{"a":null}]}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		data, ok := decodeBody(raw)
		if !ok {
			return
		}
		if len(h.s.entities) > 1000 { // keep long fuzzing runs small
			h = newHarness(t)
		}
		resp, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpUpdate, Path: "entity", Data: data})
		checkWriteError(t, raw, err)
		if err != nil {
			return
		}
		in, _, derr := engine.Decode[entityInput](data)
		if derr != nil {
			t.Fatalf("body %s accepted but does not decode: %v", raw, derr)
		}
		var id string
		switch {
		case resp != nil && resp.Data != nil:
			id = resp.Data["id"].(string)
		case in.ID != nil && *in.ID != "":
			id = *in.ID
		default:
			id = h.s.entityByName[*in.Name]
		}
		e := h.s.Entity(id)
		if e == nil {
			t.Fatalf("body %s accepted but no entity %q", raw, id)
		}
		if checkName("name", e.Name) != nil || h.s.entityByName[e.Name] != e.ID {
			t.Fatalf("entity name %q broken", e.Name)
		}
		if in.Name != nil && *in.Name != "" && e.Name != *in.Name {
			t.Fatalf("name %q, sent %q", e.Name, *in.Name)
		}
		if slices.ContainsFunc(e.Policies, func(p string) bool { return p == "" || p == "root" }) ||
			!slices.IsSorted(e.Policies) || len(slices.Compact(slices.Clone(e.Policies))) != len(e.Policies) {
			t.Fatalf("policies %q", e.Policies)
		}
		if checkMetadata("metadata", e.Metadata) != nil {
			t.Fatalf("metadata %v breaks the limits", e.Metadata)
		}
		if in.Metadata != nil && !maps.Equal(e.Metadata, *in.Metadata) {
			t.Fatalf("metadata %v, sent %v", e.Metadata, *in.Metadata)
		}
		if in.Disabled != nil && e.Disabled != *in.Disabled {
			t.Fatalf("disabled %v, sent %v", e.Disabled, *in.Disabled)
		}
		// The read answer is well formed.
		r, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpRead, Path: "entity/id/" + id})
		if err != nil || r == nil || r.Data["id"] != id {
			t.Fatalf("read back %s: %v, %v", id, r, err)
		}
		if _, err := json.Marshal(r.Data); err != nil {
			t.Fatalf("read answer does not encode: %v", err)
		}
	})
}

// FuzzGroupWrite writes fuzzed bodies to identity/group and checks every
// accepted group: a known type, members that exist and only in internal
// groups, policies without root.
func FuzzGroupWrite(f *testing.F) {
	for _, s := range []string{
		`{"name":"devs","policies":["dev"],"metadata":{"team":"dev"},"member_entity_ids":["MEMBER"]}`,
		`{"name":"ext","type":"external","policies":"a,b"}`,
		`{"name":"ext","type":"internal"}`,
		`{"name":"ext","type":"external","member_entity_ids":["MEMBER"]}`,
		`{"type":"EXTERNAL","member_entity_ids":[]}`,
		`{"type":"other"}`,
		`{"name":"g","member_entity_ids":"nope"}`,
		`{"name":"g","member_group_ids":["x"]}`,
		`{"name":"g","policies":["root"]}`,
		`{"id":"nope","name":"g"}`,
		`{"name":"devs","member_entity_ids":"MEMBER, MEMBER"}`,
		`{"name":["a"]}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f)
	ctx := context.Background()
	member := h.login(accUserpass, "member", nil).ID
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(h.s.groups) > 1000 { // keep long fuzzing runs small
			h = newHarness(t)
			member = h.login(accUserpass, "member", nil).ID
		}
		raw = bytes.ReplaceAll(raw, []byte("MEMBER"), []byte(member))
		data, ok := decodeBody(raw)
		if !ok {
			return
		}
		resp, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpUpdate, Path: "group", Data: data})
		checkWriteError(t, raw, err)
		if err != nil {
			return
		}
		in, _, derr := engine.Decode[groupInput](data)
		if derr != nil {
			t.Fatalf("body %s accepted but does not decode: %v", raw, derr)
		}
		var id string
		switch {
		case resp != nil && resp.Data != nil:
			id = resp.Data["id"].(string)
		case in.ID != nil && *in.ID != "":
			id = *in.ID
		default:
			id = h.s.groupByName[*in.Name]
		}
		h.s.mu.RLock()
		g := h.s.groups[id].clone()
		memberOf := h.s.memberOf[member][id]
		h.s.mu.RUnlock()
		if g.Type != GroupInternal && g.Type != GroupExternal {
			t.Fatalf("group type %q", g.Type)
		}
		if g.Type == GroupExternal && len(g.MemberEntityIDs) > 0 {
			t.Fatalf("external group has members %v", g.MemberEntityIDs)
		}
		for _, m := range g.MemberEntityIDs {
			if m != member {
				t.Fatalf("group has unknown member %q", m)
			}
		}
		if memberOf != slices.Contains(g.MemberEntityIDs, member) {
			t.Fatalf("member index %v disagrees with members %v", memberOf, g.MemberEntityIDs)
		}
		if slices.Contains(g.Policies, "root") || checkMetadata("metadata", g.Metadata) != nil || checkName("name", g.Name) != nil {
			t.Fatalf("group %+v breaks the rules", g)
		}
		if r, err := h.b.Handle(ctx, &engine.Request{Operation: engine.OpRead, Path: "group/id/" + id}); err != nil || r == nil {
			t.Fatalf("read back %s: %v, %v", id, r, err)
		}
	})
}
