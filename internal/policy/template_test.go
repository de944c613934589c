package policy

import "testing"

func TestTemplates(t *testing.T) {
	text := readTestdata(t, "templated.hcl")
	ident := TemplateData{
		EntityID:       "e-123",
		EntityName:     "alice",
		EntityMetadata: map[string]string{"team": "payments"},
		Aliases: map[string]Alias{
			"auth_userpass_1234": {ID: "al-1", Name: "alice-up"},
		},
		Groups: []Group{{ID: "g-9", Name: "ops"}},
	}
	acl := compileTexts(t, ident, text)
	tests := []struct {
		path string
		want Capability
	}{
		{"secret/data/e-123/x", Create | Read | Update | Delete | List},
		{"secret/data/e-999/x", 0},
		{"secret/data/users/alice", Read},
		{"secret/data/users/bob", 0},
		{"secret/data/groups/g-9/doc", Read | List},
		{"kv/alice-up/x", Read},
		{"kv/team/payments/q", Read},
		{"kv/team/other/q", 0},
	}
	for _, tt := range tests {
		if got := acl.Capabilities(tt.path); got != tt.want {
			t.Errorf("Capabilities(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestPolicyTemplated(t *testing.T) {
	if !mustParse(t, "t", readTestdata(t, "templated.hcl")).Templated() {
		t.Error("templated.hcl: Templated() = false")
	}
	if mustParse(t, "t", readTestdata(t, "team.hcl")).Templated() {
		t.Error("team.hcl: Templated() = true")
	}
}

func TestTemplateSelectors(t *testing.T) {
	ident := TemplateData{
		EntityID:       "e1",
		EntityName:     "n1",
		EntityMetadata: map[string]string{"k.with.dots": "m1"},
		Aliases: map[string]Alias{"acc": {
			ID: "a1", Name: "an", Metadata: map[string]string{"k": "am"}, CustomMetadata: map[string]string{"k": "ac"},
		}},
		Groups: []Group{
			{ID: "g1", Name: "gn1", Metadata: map[string]string{"k": "gm1"}},
			{ID: "g2", Name: "gn2", Metadata: map[string]string{"k": "gm2"}},
		},
	}
	tests := []struct {
		tmpl, want string // want "" means unresolvable
	}{
		{"{{identity.entity.id}}", "e1"},
		{"{{identity.entity.name}}", "n1"},
		{"{{identity.entity.metadata.k.with.dots}}", "m1"},
		{"{{identity.entity.metadata.missing}}", ""},
		{"{{identity.entity.aliases.acc.id}}", "a1"},
		{"{{identity.entity.aliases.acc.name}}", "an"},
		{"{{identity.entity.aliases.acc.metadata.k}}", "am"},
		{"{{identity.entity.aliases.acc.custom_metadata.k}}", "ac"},
		{"{{identity.entity.aliases.other.id}}", ""},
		{"{{identity.groups.ids.g2.name}}", "gn2"},
		{"{{identity.groups.ids.g2.metadata.k}}", "gm2"},
		{"{{identity.groups.ids.g3.name}}", ""},
		{"{{identity.groups.names.gn1.id}}", "g1"},
		{"{{identity.groups.names.gn1.metadata.k}}", "gm1"},
		{"{{identity.groups.names.gn1.metadata.none}}", ""},
		{"a/{{identity.entity.id}}/b/{{identity.entity.name}}", "a/e1/b/n1"},
	}
	for _, tt := range tests {
		if _, err := parseTemplate(tt.tmpl); err != nil {
			t.Errorf("parseTemplate(%q): %v", tt.tmpl, err)
			continue
		}
		got, ok := resolvePattern(tt.tmpl, &ident)
		if (tt.want == "") == ok || got != tt.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.tmpl, got, ok, tt.want)
		}
	}
}

func TestTemplateWithoutEntity(t *testing.T) {
	acl := compileTexts(t, TemplateData{}, `
path "secret/data/{{identity.entity.id}}/*" { capabilities = ["read"] }
path "secret/data/shared/*" { capabilities = ["read"] }`)
	if got := acl.Capabilities("secret/data/shared/x"); got != Read {
		t.Errorf("plain rule lost: %s", got)
	}
	// The unresolved block is skipped, not kept with its placeholder.
	if got := acl.Capabilities("secret/data/{{identity.entity.id}}/x"); got != 0 {
		t.Errorf("unresolved template matched literally: %s", got)
	}
	if got := acl.Capabilities("secret/data//x"); got != 0 {
		t.Errorf("unresolved template matched an empty value: %s", got)
	}
}

// TestTemplateInjection: identity values are partly user-controlled and must
// never widen the pattern they are substituted into.
func TestTemplateInjection(t *testing.T) {
	policy := `
path "secret/data/users/{{identity.entity.name}}" { capabilities = ["read", "update"] }
path "secret/data/home/{{identity.entity.name}}/*" { capabilities = ["read"] }
path "kv/{{identity.entity.aliases.acc.name}}/config" { capabilities = ["read"] }
`
	tests := []struct {
		name   string
		alias  string
		probes []string // none may be readable
	}{
		{"a/*", "x", []string{"secret/data/users/a/b", "secret/data/users/a/*", "secret/data/home/a/b/c"}},
		{"*", "x", []string{"secret/data/users/bob", "secret/data/users/*"}},
		{"+", "x", []string{"secret/data/users/bob", "secret/data/home/bob/x"}},
		{"..", "x", []string{"secret/data/users/..", "secret/data/home/../x"}},
		{"", "x", []string{"secret/data/users/", "secret/data/home//x"}},
		{"{{identity.entity.id}}", "x", []string{"secret/data/users/e1", "secret/data/users/{{identity.entity.id}}"}},
		{"ok", "../*", []string{"kv/../*/config", "kv/x/config"}},
		{"ok", "a/+", []string{"kv/a/b/config", "kv/a/+/config"}},
	}
	for _, tt := range tests {
		ident := TemplateData{EntityID: "e1", EntityName: tt.name, Aliases: map[string]Alias{"acc": {Name: tt.alias}}}
		acl := compileTexts(t, ident, policy)
		for _, p := range tt.probes {
			if got := acl.Capabilities(p); got != 0 {
				t.Errorf("entity %q alias %q: Capabilities(%q) = %s, want none", tt.name, tt.alias, p, got)
			}
		}
		if !acl.AnyCapabilityUnder("secret/") && tt.name == "ok" {
			t.Errorf("entity %q: safe name lost its access", tt.name)
		}
	}
	// A safe value still works.
	acl := compileTexts(t, TemplateData{EntityID: "e1", EntityName: "bob.smith-2"}, policy)
	if got := acl.Capabilities("secret/data/users/bob.smith-2"); got != Read|Update {
		t.Errorf("safe name: %s", got)
	}
}

func TestTemplateMergesWithPlainRule(t *testing.T) {
	acl := compileTexts(t, TemplateData{EntityID: "e1"},
		`path "secret/e1" { capabilities = ["read"] }`,
		`path "secret/{{identity.entity.id}}" { capabilities = ["update"] }`,
	)
	if got := acl.Capabilities("secret/e1"); got != Read|Update {
		t.Errorf("Capabilities = %s, want read,update", got)
	}
}
