package token

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// FuzzCreateBody feeds arbitrary bodies to the create endpoint as root: it
// must never panic, and must answer either an error or a usable token.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{
		`{"policies":["dev"],"ttl":"1h","meta":{"a":"b"}}`,
		`{"policies":"a,b","num_uses":"3","renewable":"false","display_name":"x y"}`,
		`{"id":"custom","no_parent":true,"period":60,"explicit_max_ttl":"2h"}`,
		`{"id":"bad.id","type":"batch","lease":"-1s"}`,
		`{"policies":["root"],"no_default_policy":1,"role_name":"nope"}`,
	} {
		f.Add(seed)
	}
	fx := newFixture(f, Options{})
	rootTok, _ := fx.root(f)
	f.Fuzz(func(t *testing.T, body string) {
		var in map[string]any
		d := json.NewDecoder(strings.NewReader(body))
		d.UseNumber()
		if d.Decode(&in) != nil {
			return
		}
		resp, err := fx.callSudo(t, engine.OpUpdate, "create", rootTok, true, in)
		if err != nil {
			return
		}
		if resp == nil || resp.Auth == nil || resp.Auth.ClientToken == "" {
			t.Fatalf("no error and no token for %s", body)
		}
		if _, err := fx.s.Lookup(ctx, resp.Auth.ClientToken); err != nil {
			t.Fatalf("created token not valid: %v", err)
		}
	})
}
