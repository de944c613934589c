package userpass

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// loginMessages are every message a refused login may carry. None of
// them can echo what the client sent.
var loginMessages = map[string]bool{
	"invalid username or password":                 true,
	"permission denied":                            true,
	"login: missing password":                      true,
	"invalid password: expected a string":          true,
	"invalid password: must be at most 1024 bytes": true,
}

// FuzzLogin sends arbitrary login bodies and usernames. Nothing may
// panic; a login succeeds exactly when the body's password is the user's
// and the username names the user in any case; every refusal is a 400 or
// 403 with one of the known messages, so no refusal echoes a password.
func FuzzLogin(f *testing.F) {
	for _, seed := range []struct{ name, body string }{
		{"alice", `{"password":"Pa55 w0rd!"}`},
		{"ALICE", `{"password":"Pa55 w0rd!"}`},
		{"alice", `{"password":"Pa55 w0rd! "}`},
		{"alice", `{"password":"pa55 w0rd!"}`},
		{"alice", `{"password":""}`},
		{"alice", `{}`},
		{"alice", `{"password":null}`},
		{"alice", `{"password":12345}`},
		{"alice", `{"password":["Pa55 w0rd!"]}`},
		{"alice", `{"password":{"x":"y"}}`},
		{"alice", `{"password":true}`},
		{"alice", `{"password":"Pa55 w0rd!","username":"bob"}`},
		{"alice", `{"password":"Pa55 w0rd!\u0000"}`},
		{"bob", `{"password":"Pa55 w0rd!"}`},
		{"al ice", `{"password":"Pa55 w0rd!"}`},
		{"", `{"password":"Pa55 w0rd!"}`},
		{"alice/x", `{"password":"Pa55 w0rd!"}`},
		{"\u212alice", `{"password":"Pa55 w0rd!"}`},
		{"alice", `{"password":"` + strings.Repeat("x", 2000) + `"}`},
		{"alice", `[1,2]`},
		{"alice", `not json`},
	} {
		f.Add(seed.name, seed.body)
	}
	const password = "Pa55 w0rd!"
	h := newHarness(f)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"disable_lockout": true})
	h.create("alice", password, map[string]any{"token_policies": "dev"})
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, name, body string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			data = nil // httpapi refuses such a body; the engine must still cope
		}
		req := &engine.Request{Operation: engine.OpUpdate, Path: "login/" + name, Data: data, RemoteAddr: "127.0.0.1:1"}
		resp, err := h.b.Handle(ctx, req)

		pw, isString := data["password"].(string)
		wantOK := isString && pw == password && strings.ToLower(name) == "alice" && usernameRule.MatchString(name)
		if err == nil {
			if !wantOK || resp == nil || resp.Login == nil {
				t.Fatalf("login %q %s = %+v, want a refusal", name, body, resp)
			}
			if resp.Login.Alias.Name != "alice" || resp.Login.Metadata["username"] != "alice" {
				t.Fatalf("login %q answered for %+v", name, resp.Login)
			}
			return
		}
		if wantOK {
			t.Fatalf("login %q with the right password refused: %v", name, err)
		}
		if resp != nil {
			t.Fatalf("refusal with an answer: %+v", resp)
		}
		if (name == "" || strings.Contains(name, "/")) && errors.Is(err, engine.ErrUnsupportedPath) {
			return // the route does not exist
		}
		if !errors.Is(err, engine.ErrInvalidRequest) && !errors.Is(err, engine.ErrPermissionDenied) {
			t.Fatalf("login %q %s: %v is neither 400 nor 403", name, body, err)
		}
		if !loginMessages[err.Error()] {
			t.Fatalf("login %q %s: unexpected message %q", name, body, err.Error())
		}
	})
}
