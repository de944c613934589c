package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAllowedOperations(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, rules(
		"secret/*", "read,list",
		"secret/deny", "deny",
		"sys/audit/*", "create,update,sudo",
		"sys/mounts/*", "update",
	))
	tests := []struct {
		check     Check
		allowed   bool
		rootPrivs bool
		reason    string
	}{
		{Check{Path: "secret/a", Op: Read}, true, false, ""},
		{Check{Path: "secret/a", Op: Update}, false, false, `update capability missing on policy path "secret/*"`},
		{Check{Path: "secret/deny", Op: Read}, false, false, "path is denied"},
		{Check{Path: "sys/audit/file", Op: Update, NeedSudo: true}, true, true, ""},
		{Check{Path: "sys/mounts/x", Op: Update, NeedSudo: true}, false, false, "sudo capability missing"},
		{Check{Path: "other", Op: Read}, false, false, "no policy grants access"},
		{Check{Path: "secret/a", Op: 0}, false, false, "invalid operation"},
		{Check{Path: "secret/a", Op: Deny}, false, false, "invalid operation"},
	}
	for _, tt := range tests {
		res := tt.check.run(acl)
		if res.Allowed != tt.allowed || res.RootPrivs != tt.rootPrivs {
			t.Errorf("%+v: got %+v, want allowed=%v rootPrivs=%v", tt.check, res, tt.allowed, tt.rootPrivs)
		}
		if !tt.allowed && (!strings.HasPrefix(res.Reason, "permission denied") || !strings.Contains(res.Reason, tt.reason)) {
			t.Errorf("%+v: reason %q, want it to mention %q", tt.check, res.Reason, tt.reason)
		}
		if tt.allowed && res.Reason != "" {
			t.Errorf("%+v: allowed with reason %q", tt.check, res.Reason)
		}
	}
	if res := acl.Allowed(Check{Path: "secret/a", Op: Read}); res.Capabilities != Read|List {
		t.Errorf("Result.Capabilities = %s", res.Capabilities)
	}
}

func (c Check) run(a *ACL) Result { return a.Allowed(c) }

func TestAllowedParameters(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, `
path "users/*" {
  capabilities       = ["create", "update", "read", "delete", "list", "patch"]
  allowed_parameters = {
    "password"       = []
    "token_policies" = ["default", "dev-*", "*-ro", "*team*"]
    "ttl"            = [60, "2h"]
    "enabled"        = [true]
    "literal"        = ["*"]
  }
  denied_parameters = {
    "token_policies" = ["dev-admin"]
  }
  required_parameters = ["password"]
}

path "open/*" {
  capabilities       = ["update"]
  allowed_parameters = { "*" = [], "mode" = ["a", "b"] }
  denied_parameters  = { "secret_id" = [] }
}

path "closed/*" {
  capabilities      = ["update"]
  denied_parameters = { "*" = [] }
}

path "star-only/*" {
  capabilities       = ["update"]
  allowed_parameters = { "*" = [] }
}
`)
	tests := []struct {
		name   string
		path   string
		op     Capability
		params map[string]any
		want   bool
	}{
		{"required present", "users/a", Update, map[string]any{"password": "x"}, true},
		{"required missing", "users/a", Update, map[string]any{"ttl": 60}, false},
		{"required missing, no data", "users/a", Update, nil, false},
		{"required name ignores case", "users/a", Update, map[string]any{"PASSWORD": "x"}, true},
		{"unlisted parameter", "users/a", Update, map[string]any{"password": "x", "other": 1}, false},
		{"listed names ignore case", "users/a", Update, map[string]any{"password": "x", "Token_Policies": "default"}, true},
		{"allowed value", "users/a", Update, map[string]any{"password": "x", "token_policies": "default"}, true},
		{"value not allowed", "users/a", Update, map[string]any{"password": "x", "token_policies": "root"}, false},
		{"prefix glob", "users/a", Update, map[string]any{"password": "x", "token_policies": "dev-web"}, true},
		{"suffix glob", "users/a", Update, map[string]any{"password": "x", "token_policies": "billing-ro"}, true},
		{"contains glob", "users/a", Update, map[string]any{"password": "x", "token_policies": "myteamx"}, true},
		{"denied beats allowed glob", "users/a", Update, map[string]any{"password": "x", "token_policies": "dev-admin"}, false},
		{"list all allowed", "users/a", Update, map[string]any{"password": "x", "token_policies": []any{"default", "dev-a"}}, true},
		{"list one not allowed", "users/a", Update, map[string]any{"password": "x", "token_policies": []any{"default", "root"}}, false},
		{"list one denied", "users/a", Update, map[string]any{"password": "x", "token_policies": []string{"dev-a", "dev-admin"}}, false},
		{"empty list", "users/a", Update, map[string]any{"password": "x", "token_policies": []any{}}, true},
		{"comma string allowed", "users/a", Update, map[string]any{"password": "x", "token_policies": "default, dev-a"}, true},
		{"comma string smuggles", "users/a", Update, map[string]any{"password": "x", "token_policies": "dev-a,root"}, false},
		{"comma string denied", "users/a", Update, map[string]any{"password": "x", "token_policies": "dev-x,dev-admin"}, false},
		{"json string denied", "users/a", Update, map[string]any{"password": "x", "token_policies": `["dev-x","dev-admin"]`}, false},
		{"number as int", "users/a", Update, map[string]any{"password": "x", "ttl": 60}, true},
		{"number as json.Number", "users/a", Update, map[string]any{"password": "x", "ttl": json.Number("60")}, true},
		{"number as float", "users/a", Update, map[string]any{"password": "x", "ttl": float64(60)}, true},
		{"number as string", "users/a", Update, map[string]any{"password": "x", "ttl": "60"}, true},
		{"number not allowed", "users/a", Update, map[string]any{"password": "x", "ttl": 61}, false},
		{"bool allowed", "users/a", Update, map[string]any{"password": "x", "enabled": true}, true},
		{"bool not allowed", "users/a", Update, map[string]any{"password": "x", "enabled": false}, false},
		{"lone star is literal", "users/a", Update, map[string]any{"password": "x", "literal": "*"}, true},
		{"lone star is not any", "users/a", Update, map[string]any{"password": "x", "literal": "anything"}, false},
		{"null value", "users/a", Update, map[string]any{"password": nil}, true},
		{"create checks params", "users/a", Create, map[string]any{"other": 1}, false},
		{"read checks params", "users/a", Read, map[string]any{"other": 1}, false},
		{"patch checks params", "users/a", Patch, map[string]any{"other": 1}, false},
		{"delete ignores params", "users/a", Delete, map[string]any{"other": 1}, true},
		{"list ignores params", "users/a/", List, map[string]any{"other": 1}, true},
		{"star allows unlisted", "open/a", Update, map[string]any{"anything": 1}, true},
		{"star still checks listed", "open/a", Update, map[string]any{"mode": "c"}, false},
		{"star listed value ok", "open/a", Update, map[string]any{"mode": "b"}, true},
		{"denied key", "open/a", Update, map[string]any{"secret_id": "x"}, false},
		{"denied star", "closed/a", Update, map[string]any{"x": 1}, false},
		{"denied star, no data", "closed/a", Update, map[string]any{}, true},
		{"allowed star only", "star-only/a", Update, map[string]any{"x": 1, "y": []any{1}}, true},
	}
	for _, tt := range tests {
		res := acl.Allowed(Check{Path: tt.path, Op: tt.op, Params: tt.params})
		if res.Allowed != tt.want {
			t.Errorf("%s: Allowed = %+v, want %v", tt.name, res, tt.want)
		}
		if !res.Allowed && strings.Contains(res.Reason, "dev-admin") {
			t.Errorf("%s: reason leaks a value: %q", tt.name, res.Reason)
		}
	}
}

func TestParameterMergeAcrossPolicies(t *testing.T) {
	acl := compileTexts(t, TemplateData{},
		`path "a" {
  capabilities = ["update"]
  allowed_parameters = { "x" = ["1"], "y" = ["1"] }
}`,
		`path "a" {
  capabilities = ["update"]
  allowed_parameters = { "x" = ["2"], "y" = [] }
  denied_parameters = { "z" = [] }
}`)
	tests := []struct {
		params map[string]any
		want   bool
	}{
		{map[string]any{"x": "1"}, true},
		{map[string]any{"x": "2"}, true}, // lists joined
		{map[string]any{"x": "3"}, false},
		{map[string]any{"y": "anything"}, true}, // empty list wins
		{map[string]any{"z": "1"}, false},
	}
	for _, tt := range tests {
		if got := acl.Allowed(Check{Path: "a", Op: Update, Params: tt.params}).Allowed; got != tt.want {
			t.Errorf("params %v: Allowed = %v, want %v", tt.params, got, tt.want)
		}
	}
}

func TestWrappingTTL(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, `
path "min" {
  capabilities     = ["update"]
  min_wrapping_ttl = "1m"
}
path "max" {
  capabilities     = ["update"]
  max_wrapping_ttl = "1h"
}
path "both" {
  capabilities     = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "1h"
}
path "merged" {
  capabilities     = ["update"]
  min_wrapping_ttl = "30m"
}`, `
path "merged" {
  capabilities     = ["update"]
  max_wrapping_ttl = "10m"
}`)
	tests := []struct {
		path string
		ttl  time.Duration
		want bool
	}{
		{"min", 0, false}, // a minimum makes wrapping mandatory
		{"min", 30 * time.Second, false},
		{"min", time.Minute, true},
		{"min", 24 * time.Hour, true},
		{"max", 0, false}, // so does a maximum, as in Vault
		{"max", time.Hour, true},
		{"max", time.Hour + time.Second, false},
		{"both", 5 * time.Minute, true},
		{"both", 2 * time.Hour, false},
		{"merged", 20 * time.Minute, false}, // min 30m > max 10m: nothing fits
		{"merged", 5 * time.Minute, false},
	}
	for _, tt := range tests {
		res := acl.Allowed(Check{Path: tt.path, Op: Update, WrapTTL: tt.ttl})
		if res.Allowed != tt.want {
			t.Errorf("%s with wrap ttl %v: %+v, want %v", tt.path, tt.ttl, res, tt.want)
		}
	}
}

func TestParamsFileRules(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, readTestdata(t, "params.hcl"))
	ok := acl.Allowed(Check{Path: "auth/userpass/users/bob", Op: Create,
		Params: map[string]any{"password": "pw", "token_policies": "dev-web", "token_ttl": "1h"}})
	if !ok.Allowed {
		t.Errorf("allowed request denied: %s", ok.Reason)
	}
	bad := acl.Allowed(Check{Path: "auth/userpass/users/bob", Op: Create,
		Params: map[string]any{"password": "pw", "token_policies": "dev-superadmin"}})
	if bad.Allowed {
		t.Error("denied glob *admin* not applied")
	}
	wrap := acl.Allowed(Check{Path: "sys/wrapping/wrap", Op: Update, WrapTTL: 2 * time.Hour})
	if wrap.Allowed {
		t.Error("max_wrapping_ttl = 3600 not applied")
	}
}
