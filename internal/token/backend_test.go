package token

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
)

// wire marshals resp as httpapi would and decodes it the way the Vault Go
// client does (UseNumber).
func wire(t *testing.T, resp *engine.Response) map[string]any {
	t.Helper()
	raw, err := json.Marshal(resp.Secret("req-1"))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	// The typed decode must work too.
	var s api.Secret
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("typed decode: %v", err)
	}
	return out
}

// isInt reports whether v is a JSON integer.
func isInt(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil && !strings.ContainsAny(n.String(), ".eE")
}

func mustCall(t *testing.T, f *fixture, op engine.Operation, path, tok string, data map[string]any) *engine.Response {
	t.Helper()
	resp, err := f.call(t, op, path, tok, data)
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

func TestCreateEndpointDefaults(t *testing.T) {
	f := newFixture(t, Options{PolicyExists: func(_ context.Context, name string) (bool, error) {
		return name != "ghost", nil
	}})
	rootTok, root := f.root(t)
	resp := mustCall(t, f, engine.OpUpdate, "create", rootTok, map[string]any{
		"policies": "dev,ghost", "display_name": "My App!", "meta": map[string]any{"team": "x"},
	})
	a := resp.Auth
	if a == nil || data(resp) != nil {
		t.Fatalf("create answer: auth %v data %v", a, resp.Data)
	}
	if !strings.HasPrefix(a.ClientToken, "ws.") || a.Accessor == "" || a.Orphan || !a.Renewable ||
		a.LeaseDuration != int64(DefaultTTL/time.Second) || a.TokenType != "service" || a.NumUses != 0 ||
		!slices.Equal(a.Policies, []string{"default", "dev", "ghost"}) || !slices.Equal(a.TokenPolicies, a.Policies) ||
		a.Metadata["team"] != "x" {
		t.Fatalf("auth = %+v", a)
	}
	if len(resp.Warnings) != 1 || resp.Warnings[0] != `Policy "ghost" does not exist` {
		t.Fatalf("warnings = %q", resp.Warnings)
	}
	e, err := f.s.Lookup(ctx, a.ClientToken)
	if err != nil || e.Parent != root.ID || e.DisplayName != "token-My-App" || e.Path != "auth/token/create" {
		t.Fatalf("entry = %+v, %v", e, err)
	}

	w := wire(t, resp)["auth"].(map[string]any)
	for _, k := range []string{"lease_duration", "num_uses"} {
		if !isInt(w[k]) {
			t.Errorf("auth.%s = %#v, want an integer", k, w[k])
		}
	}
	if _, ok := w["mfa_requirement"]; !ok || w["mfa_requirement"] != nil {
		t.Errorf("auth.mfa_requirement = %#v, want null", w["mfa_requirement"])
	}

	// Inheriting the root policy: a root token that never expires and is
	// not renewable, with no metadata.
	resp = mustCall(t, f, engine.OpUpdate, "create", rootTok, nil)
	if a := resp.Auth; !slices.Equal(a.Policies, []string{"root"}) || a.LeaseDuration != 0 || a.Renewable || a.Metadata != nil {
		t.Fatalf("root child auth = %+v", a)
	}
	if w := wire(t, resp)["auth"].(map[string]any); w["metadata"] != nil {
		t.Fatalf("metadata = %#v, want null", w["metadata"])
	}
}

func data(r *engine.Response) map[string]any { return r.Data }

func TestCreateEndpointPolicyRules(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	userTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default", "dev", "ops"}})
	nodefTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"dev"}})

	tests := []struct {
		name   string
		tok    string
		sudo   bool
		body   map[string]any
		want   []string
		errMsg string
	}{
		{"inherit", userTok, false, nil, []string{"default", "dev", "ops"}, ""},
		{"subset", userTok, false, map[string]any{"policies": []any{"dev"}}, []string{"default", "dev"}, ""},
		{"default always allowed", nodefTok, false, map[string]any{"policies": "dev,default"}, []string{"default", "dev"}, ""},
		{"no default from parent without it", nodefTok, false, map[string]any{"policies": "dev"}, []string{"dev"}, ""},
		{"no_default_policy", userTok, false, map[string]any{"policies": "dev", "no_default_policy": true}, []string{"dev"}, ""},
		{"not a subset", userTok, false, map[string]any{"policies": "dev,admin"}, nil, "child policies must be subset of parent"},
		{"sudo may exceed", userTok, true, map[string]any{"policies": "admin"}, []string{"admin", "default"}, ""},
		{"root needs root parent", userTok, true, map[string]any{"policies": "root"}, nil, "root tokens may not be created without parent token being root"},
		{"wrapping policy", rootTok, false, map[string]any{"policies": "response-wrapping"}, nil, `cannot assign policy "response-wrapping"`},
		{"root may grant anything", rootTok, false, map[string]any{"policies": "admin"}, []string{"admin", "default"}, ""},
	}
	for _, tt := range tests {
		resp, err := f.callSudo(t, engine.OpUpdate, "create", tt.tok, tt.sudo, tt.body)
		if tt.errMsg != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errMsg) || !isBadRequest(err) {
				t.Errorf("%s: err = %v, want 400 %q", tt.name, err, tt.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(resp.Auth.Policies, tt.want) {
			t.Errorf("%s: policies %v, want %v", tt.name, resp.Auth.Policies, tt.want)
		}
	}
}

func isBadRequest(err error) bool { return errors.Is(err, engine.ErrInvalidRequest) }

func TestCreateEndpointSudoFields(t *testing.T) {
	f := newFixture(t, Options{})
	_, root := f.root(t)
	userTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default", "dev"}})
	for _, body := range []map[string]any{
		{"id": "custom-id"},
		{"no_parent": true},
		{"period": "1h"},
	} {
		_, err := f.call(t, engine.OpUpdate, "create", userTok, body)
		if err == nil || !strings.Contains(err.Error(), "root or sudo privileges required") || !isBadRequest(err) {
			t.Errorf("non-sudo %v: err = %v", body, err)
		}
	}
	resp, err := f.callSudo(t, engine.OpUpdate, "create", userTok, true, map[string]any{"id": "custom-id", "no_parent": "true", "period": 3600})
	if err != nil {
		t.Fatal(err)
	}
	if a := resp.Auth; a.ClientToken != "custom-id" || !a.Orphan || a.LeaseDuration != 3600 {
		t.Fatalf("sudo create auth = %+v", a)
	}
	e, _ := f.s.Lookup(ctx, "custom-id")
	if e.Period != time.Hour || e.EntityID != "" || e.Parent != "" {
		t.Fatalf("entry %+v", e)
	}

	// create-orphan needs no sudo.
	resp = mustCall(t, f, engine.OpUpdate, "create-orphan", userTok, map[string]any{"policies": "dev"})
	if !resp.Auth.Orphan {
		t.Fatal("create-orphan made a child")
	}
	e, _ = f.s.Lookup(ctx, resp.Auth.ClientToken)
	if e.Path != "auth/token/create-orphan" || e.Parent != "" {
		t.Fatalf("orphan entry %+v", e)
	}

	// A token with limited uses cannot make children.
	limTok, _ := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"dev"}, NumUses: 5})
	if _, err := f.call(t, engine.OpUpdate, "create", limTok, nil); err == nil || !strings.Contains(err.Error(), "restricted use token") {
		t.Fatalf("limited token created a child: %v", err)
	}

	for _, body := range []map[string]any{{"num_uses": -1}, {"type": "batch"}, {"type": "x"}, {"ttl": "soon"}} {
		if _, err := f.call(t, engine.OpUpdate, "create", userTok, body); !isBadRequest(err) {
			t.Errorf("%v: err = %v, want 400", body, err)
		}
	}
}

func TestCreateEndpointTTLs(t *testing.T) {
	f := newFixture(t, Options{MaxTTL: 10 * time.Hour})
	rootTok, _ := f.root(t)
	resp := mustCall(t, f, engine.OpUpdate, "create", rootTok, map[string]any{"policies": "p", "ttl": "20h"})
	if resp.Auth.LeaseDuration != 36000 || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "capped") {
		t.Fatalf("capped ttl: lease %d warnings %q", resp.Auth.LeaseDuration, resp.Warnings)
	}
	resp = mustCall(t, f, engine.OpUpdate, "create", rootTok, map[string]any{"policies": "p", "ttl": "2h", "explicit_max_ttl": "1h", "renewable": false})
	if resp.Auth.LeaseDuration != 3600 || resp.Auth.Renewable {
		t.Fatalf("explicit max: %+v", resp.Auth)
	}
	resp = mustCall(t, f, engine.OpUpdate, "create", rootTok, map[string]any{"policies": "p", "lease": "90s", "num_uses": "3"})
	if resp.Auth.LeaseDuration != 90 || resp.Auth.NumUses != 3 {
		t.Fatalf("lease: %+v", resp.Auth)
	}
	// An expiring root token cannot make a root token that never expires.
	expRoot, _ := f.create(t, CreateParams{Policies: []string{"root"}, TTL: time.Hour})
	if _, err := f.call(t, engine.OpUpdate, "create", expRoot, nil); err == nil || !strings.Contains(err.Error(), "expiring root tokens") {
		t.Fatalf("err = %v", err)
	}
}

func TestLookupEndpoints(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)

	// Root token: no renewable or issue_time, ttl 0, expire_time null.
	w := wire(t, mustCall(t, f, engine.OpRead, "lookup-self", rootTok, nil))["data"].(map[string]any)
	if w["id"] != rootTok || w["path"] != "auth/token/root" || w["display_name"] != "root" ||
		w["expire_time"] != nil || w["meta"] != nil || w["orphan"] != true || w["type"] != "service" {
		t.Fatalf("root lookup = %v", w)
	}
	for _, k := range []string{"renewable", "issue_time", "period"} {
		if _, ok := w[k]; ok {
			t.Errorf("root lookup has %q", k)
		}
	}
	for _, k := range []string{"ttl", "creation_ttl", "creation_time", "explicit_max_ttl", "num_uses"} {
		if !isInt(w[k]) {
			t.Errorf("root lookup %s = %#v, want an integer", k, w[k])
		}
	}
	if w["ttl"].(json.Number) != "0" {
		t.Errorf("root ttl = %v", w["ttl"])
	}

	tok, e := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default", "dev"}, TTL: time.Hour, Renewable: true,
		Meta: map[string]string{"a": "b"}, Period: 30 * time.Minute, Path: "auth/token/create", DisplayName: "token"})
	f.clock.Advance(10 * time.Minute)
	for _, tt := range []struct {
		op   engine.Operation
		path string
		as   string
		body map[string]any
		id   string
	}{
		{engine.OpRead, "lookup-self", tok, nil, tok},
		{engine.OpUpdate, "lookup-self", tok, nil, tok},
		{engine.OpUpdate, "lookup", rootTok, map[string]any{"token": tok}, tok},
		{engine.OpRead, "lookup", rootTok, map[string]any{"token": tok}, tok},
		{engine.OpRead, "lookup", tok, nil, tok},
		{engine.OpUpdate, "lookup-accessor", rootTok, map[string]any{"accessor": e.Accessor}, ""},
	} {
		w := wire(t, mustCall(t, f, tt.op, tt.path, tt.as, tt.body))["data"].(map[string]any)
		if w["id"] != tt.id || w["accessor"] != e.Accessor {
			t.Fatalf("%s %s: id %v accessor %v", tt.op, tt.path, w["id"], w["accessor"])
		}
		if w["ttl"].(json.Number) != "1200" || w["creation_ttl"].(json.Number) != "1800" || w["period"].(json.Number) != "1800" {
			t.Fatalf("%s: ttl %v creation_ttl %v period %v", tt.path, w["ttl"], w["creation_ttl"], w["period"])
		}
		if w["renewable"] != true || w["orphan"] != false || w["meta"].(map[string]any)["a"] != "b" {
			t.Fatalf("%s: %v", tt.path, w)
		}
		exp, err := time.Parse(time.RFC3339Nano, w["expire_time"].(string))
		if err != nil || !exp.Equal(e.ExpireTime) {
			t.Fatalf("expire_time %v: %v", w["expire_time"], err)
		}
		if _, err := time.Parse(time.RFC3339Nano, w["issue_time"].(string)); err != nil {
			t.Fatalf("issue_time: %v", err)
		}
		if p := w["policies"].([]any); len(p) != 2 || p[0] != "default" || p[1] != "dev" {
			t.Fatalf("policies %v", p)
		}
	}

	_, err := f.call(t, engine.OpUpdate, "lookup", rootTok, map[string]any{"token": "ws.unknown"})
	errorIs(t, err, engine.ErrPermissionDenied, "bad token")
	_, err = f.call(t, engine.OpUpdate, "lookup-accessor", rootTok, map[string]any{"accessor": "unknown"})
	errorIs(t, err, engine.ErrInvalidRequest, "invalid accessor")
	_, err = f.call(t, engine.OpUpdate, "lookup-accessor", rootTok, nil)
	errorIs(t, err, engine.ErrInvalidRequest, "missing accessor")
	_, err = f.call(t, engine.OpRead, "lookup-self", "ws.nobody", nil)
	errorIs(t, err, engine.ErrPermissionDenied, "permission denied")
}

func TestRenewEndpoints(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	tok, e := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default"}, TTL: time.Hour, Renewable: true})

	f.clock.Advance(time.Minute)
	resp := mustCall(t, f, engine.OpUpdate, "renew-self", tok, map[string]any{"increment": "2h"})
	if a := resp.Auth; a == nil || a.ClientToken != tok || a.LeaseDuration != 7200 || !a.Renewable || a.Accessor != e.Accessor {
		t.Fatalf("renew-self auth = %+v", resp.Auth)
	}
	if !isInt(wire(t, resp)["auth"].(map[string]any)["lease_duration"]) {
		t.Fatal("lease_duration not an integer")
	}
	resp = mustCall(t, f, engine.OpUpdate, "renew", rootTok, map[string]any{"token": tok, "increment": 60})
	if a := resp.Auth; a.ClientToken != tok || a.LeaseDuration != 60 {
		t.Fatalf("renew auth = %+v", a)
	}
	resp = mustCall(t, f, engine.OpUpdate, "renew-accessor", rootTok, map[string]any{"accessor": e.Accessor})
	if a := resp.Auth; a.ClientToken != "" || a.LeaseDuration != 3600 {
		t.Fatalf("renew-accessor auth = %+v", a)
	}
	// Root: lease 0, no error.
	resp = mustCall(t, f, engine.OpUpdate, "renew-self", rootTok, nil)
	if a := resp.Auth; a.ClientToken != rootTok || a.LeaseDuration != 0 || a.Renewable {
		t.Fatalf("root renew-self = %+v", a)
	}

	fixed, _ := f.create(t, CreateParams{Policies: []string{"default"}, TTL: time.Hour})
	_, err := f.call(t, engine.OpUpdate, "renew-self", fixed, nil)
	errorIs(t, err, engine.ErrInvalidRequest, "not renewable")
	_, err = f.call(t, engine.OpUpdate, "renew", rootTok, map[string]any{"token": "ws.unknown"})
	errorIs(t, err, engine.ErrInvalidRequest, "token not found")
}

func TestRevokeEndpoints(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	userTok, user := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default"}})
	childTok, _ := f.create(t, CreateParams{Parent: user.ID, Policies: []string{"default"}})

	if resp := mustCall(t, f, engine.OpUpdate, "revoke-self", userTok, nil); resp != nil {
		t.Fatalf("revoke-self answered %+v, want nothing (204)", resp)
	}
	if f.valid(t, userTok) || f.valid(t, childTok) {
		t.Fatal("revoke-self left tokens valid")
	}
	if resp := mustCall(t, f, engine.OpUpdate, "revoke", rootTok, map[string]any{"token": "ws.unknown"}); resp != nil {
		t.Fatal("revoke of unknown token answered")
	}

	aTok, a := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"default"}})
	bTok, _ := f.create(t, CreateParams{Parent: a.ID, Policies: []string{"default"}})
	_, err := f.call(t, engine.OpUpdate, "revoke-orphan", bTok, map[string]any{"token": aTok})
	errorIs(t, err, engine.ErrInvalidRequest, "root or sudo")
	mustCall(t, f, engine.OpUpdate, "revoke-orphan", rootTok, map[string]any{"token": aTok})
	if f.valid(t, aTok) || !f.valid(t, bTok) {
		t.Fatal("revoke-orphan: want a revoked and b kept")
	}
	_, err = f.call(t, engine.OpUpdate, "revoke-orphan", rootTok, map[string]any{"token": aTok})
	errorIs(t, err, engine.ErrInvalidRequest, "token to revoke not found")

	eb, _ := f.s.Lookup(ctx, bTok)
	mustCall(t, f, engine.OpUpdate, "revoke-accessor", rootTok, map[string]any{"accessor": eb.Accessor})
	if f.valid(t, bTok) {
		t.Fatal("revoke-accessor left the token valid")
	}
	_, err = f.call(t, engine.OpUpdate, "revoke-accessor", rootTok, map[string]any{"accessor": eb.Accessor})
	errorIs(t, err, engine.ErrInvalidRequest, "invalid accessor")
	_, err = f.call(t, engine.OpUpdate, "revoke", rootTok, nil)
	errorIs(t, err, engine.ErrInvalidRequest, "missing token")
}

func TestAccessorsEndpointAndSpecialPaths(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, root := f.root(t)
	_, e := f.create(t, CreateParams{Parent: root.ID, Policies: []string{"p"}})
	for _, path := range []string{"accessors", "accessors/"} {
		resp := mustCall(t, f, engine.OpList, path, rootTok, nil)
		keys := resp.Data["keys"].([]string)
		if len(keys) != 2 || !slices.Contains(keys, e.Accessor) || !slices.Contains(keys, root.Accessor) {
			t.Fatalf("LIST %s = %v", path, keys)
		}
	}
	sp := f.s.Backend().(engine.SpecialPaths)
	for path, want := range map[string]bool{"accessors": true, "accessors/": true, "revoke-orphan": true, "create": false, "lookup-self": false} {
		if sudo, unauth := sp.Special(path, engine.OpList); sudo != want || unauth {
			t.Errorf("Special(%q) = %v, %v", path, sudo, unauth)
		}
	}
}

func TestNumUsesThroughEndpoints(t *testing.T) {
	f := newFixture(t, Options{})
	tok, e := f.create(t, CreateParams{Policies: []string{"default"}, NumUses: 1, TTL: time.Hour})
	// Core spends the use, then lets the request run, then revokes.
	if exhausted, err := f.s.Use(ctx, e); !exhausted || err != nil {
		t.Fatal(exhausted, err)
	}
	resp := mustCall(t, f, engine.OpRead, "lookup-self", tok, nil)
	if resp.Data["num_uses"] != 0 {
		t.Fatalf("num_uses after the last use = %v", resp.Data["num_uses"])
	}
	if _, err := f.call(t, engine.OpUpdate, "create", tok, nil); err == nil {
		t.Fatal("exhausted token created a child")
	}
	mustCall(t, f, engine.OpUpdate, "revoke-self", tok, nil)
	if keys := f.keys(t, "id/"); len(keys) != 0 {
		t.Fatalf("entry left: %v", keys)
	}
}

func TestTidyEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	rootTok, _ := f.root(t)
	tok, _ := f.create(t, CreateParams{Policies: []string{"p"}, TTL: time.Minute})
	f.clock.Advance(time.Hour)
	resp := mustCall(t, f, engine.OpUpdate, "tidy", rootTok, nil)
	if resp == nil || resp.Status != 0 || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "1 expired") {
		t.Fatalf("tidy = %+v", resp)
	}
	if keys := f.keys(t, "id/"); len(keys) != 1 || f.valid(t, tok) {
		t.Fatalf("tidy left %v", keys)
	}
}
