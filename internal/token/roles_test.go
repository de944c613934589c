package token

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestRoles(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	userTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default", "dev"}})

	if resp := mustCall(t, f, engine.OpUpdate, "roles/ci", rootTok, map[string]any{
		"allowed_policies": "deploy,read", "orphan": true, "token_period": "1h", "path_suffix": "v1",
	}); resp != nil {
		t.Fatalf("role write answered %+v", resp)
	}
	w := wire(t, mustCall(t, f, engine.OpRead, "roles/ci", rootTok, nil))["data"].(map[string]any)
	if w["name"] != "ci" || w["orphan"] != true || w["renewable"] != true || w["period"].(json.Number) != "3600" || w["path_suffix"] != "v1" {
		t.Fatalf("role read = %v", w)
	}
	if keys := mustCall(t, f, engine.OpList, "roles/", rootTok, nil).Data["keys"].([]string); !slices.Equal(keys, []string{"ci"}) {
		t.Fatalf("role list = %v", keys)
	}
	if found, supported, err := f.s.Backend().(engine.ExistenceChecker).Exists(ctx, &engine.Request{Path: "roles/ci"}); !found || !supported || err != nil {
		t.Fatalf("exists = %v %v %v", found, supported, err)
	}

	// The role lets a caller get policies it does not hold.
	resp := mustCall(t, f, engine.OpUpdate, "create/ci", userTok, nil)
	a := resp.Auth
	if !slices.Equal(a.Policies, []string{"default", "deploy", "read"}) || !a.Orphan || a.LeaseDuration != 3600 {
		t.Fatalf("role token auth = %+v", a)
	}
	e, _ := f.s.Lookup(ctx, a.ClientToken)
	if e.Role != "ci" || e.Path != "auth/token/create/ci/v1" || e.Period != time.Hour {
		t.Fatalf("role token entry = %+v", e)
	}
	if lw := mustCall(t, f, engine.OpRead, "lookup-self", a.ClientToken, nil).Data; lw["role"] != "ci" {
		t.Fatalf("lookup role = %v", lw["role"])
	}
	_, err := f.call(t, engine.OpUpdate, "create/ci", userTok, map[string]any{"policies": "admin"})
	errorIs(t, err, engine.ErrInvalidRequest, "must be subset of the role's allowed policies")
	_, err = f.call(t, engine.OpUpdate, "create/nope", userTok, nil)
	errorIs(t, err, engine.ErrInvalidRequest, "unknown role")

	mustCall(t, f, engine.OpUpdate, "roles/ci", rootTok, map[string]any{"disallowed_policies": "read"})
	_, err = f.call(t, engine.OpUpdate, "create/ci", userTok, nil)
	errorIs(t, err, engine.ErrInvalidRequest, `token policy "read" is disallowed`)

	mustCall(t, f, engine.OpDelete, "roles/ci", rootTok, nil)
	if resp, err := f.call(t, engine.OpRead, "roles/ci", rootTok, nil); resp != nil || err != nil {
		t.Fatalf("read deleted role = %v, %v", resp, err)
	}
	_, err = f.call(t, engine.OpUpdate, "roles/ci", rootTok, map[string]any{"token_type": "batch"})
	errorIs(t, err, engine.ErrInvalidRequest, "token_type")
}
