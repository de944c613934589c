package approle

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// FuzzLoginBody sends arbitrary JSON bodies to login. Nothing panics; a
// login succeeds only with the role's real credentials; every failure is
// a 400 with one of a few fixed messages, which cannot echo a credential.
func FuzzLoginBody(f *testing.F) {
	h := newHarness(f)
	h.role("web", map[string]any{"role_id": "web-role-id", "secret_id_bound_cidrs": "127.0.0.0/8"})
	h.ok(engine.OpUpdate, "role/web/custom-secret-id", map[string]any{"secret_id": "web-secret-id"})
	h.role("open", map[string]any{"role_id": "open-role-id", "bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.1"})
	for _, s := range []string{
		`{"role_id":"web-role-id","secret_id":"web-secret-id"}`,
		`{"role_id":"web-role-id","secret_id":"web-secret-iD"}`,
		`{"role_id":"WEB-ROLE-ID","secret_id":"web-secret-id"}`,
		`{"role_id":"open-role-id"}`,
		`{"role_id":"open-role-id","secret_id":"anything"}`,
		`{"role_id":"web-role-id"}`,
		`{"secret_id":"web-secret-id"}`,
		`{"role_id":"web-role-id","secret_id":["web-secret-id"]}`,
		`{"role_id":{"a":"b"},"secret_id":"web-secret-id"}`,
		`{"role_id":12345,"secret_id":true}`,
		`{"role_id":"web-role-id","secret_id":"web-secret-id","extra":null}`,
		`{"role_id":"","secret_id":""}`,
		`{"role_id":"web-role-id\u0000","secret_id":"web-secret-id"}`,
		`{}`, `[]`, `null`, `"x"`, ``, `{"role_id":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var data map[string]any
		if len(bytes.TrimSpace(body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&data) != nil {
				return
			}
		}
		resp, err := h.do(engine.OpUpdate, "login", data)
		roleID, _ := data["role_id"].(string)
		secretID, _ := data["secret_id"].(string)
		if err != nil {
			if !errors.Is(err, engine.ErrInvalidRequest) {
				t.Fatalf("login %s: %v, want a 400", body, err)
			}
			// The message is one of a fixed few, so it cannot echo a credential.
			switch err.Error() {
			case "invalid role or secret ID", "invalid role_id: is required",
				"invalid role_id: expected a string", "invalid secret_id: expected a string":
			default:
				t.Fatalf("login %s: unexpected error %q", body, err)
			}
			return
		}
		if resp == nil || resp.Login == nil {
			t.Fatalf("login %s answered %+v without a login", body, resp)
		}
		switch {
		case roleID == "web-role-id" && secretID == "web-secret-id":
		case roleID == "open-role-id":
		default:
			t.Fatalf("login %s succeeded", body)
		}
		if resp.Login.Alias.Name != roleID {
			t.Fatalf("alias %q for role_id %q", resp.Login.Alias.Name, roleID)
		}
	})
}
