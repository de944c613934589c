package approle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// clock is a settable time source for Env.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness drives one AppRole mount through engine.Backend.Handle, as core does.
type harness struct {
	t     testing.TB
	b     engine.Backend
	store *inmem.Backend
	clock *clock
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, store: inmem.New(), clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	b, err := Factory(context.Background(), engine.Env{
		MountPath: "auth/approle/",
		Type:      "approle",
		Accessor:  "auth_approle_1234",
		Storage:   h.store,
		Now:       h.clock.Now,
	})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	h.b = b
	return h
}

// do sends one request from remote address 127.0.0.1.
func (h *harness) do(op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	return h.from("127.0.0.1:5555", op, path, data)
}

func (h *harness) from(remote string, op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	return h.b.Handle(context.Background(), &engine.Request{
		ID:         "req-1",
		Operation:  op,
		Path:       path,
		MountPath:  "auth/approle/",
		Data:       data,
		RemoteAddr: remote,
	})
}

// ok sends a request that must succeed.
func (h *harness) ok(op engine.Operation, path string, data map[string]any) *engine.Response {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// fails sends a request that must fail with an error of kind; it returns
// the error's text.
func (h *harness) fails(kind error, op engine.Operation, path string, data map[string]any) string {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err == nil {
		h.t.Fatalf("%s %s = %+v, want an error", op, path, resp)
	}
	if !errors.Is(err, kind) {
		h.t.Fatalf("%s %s: %v, want a %v", op, path, err, kind)
	}
	return err.Error()
}

// role creates a role and returns its role ID.
func (h *harness) role(name string, data map[string]any) string {
	h.t.Helper()
	h.ok(engine.OpUpdate, "role/"+name, data)
	return h.ok(engine.OpRead, "role/"+name+"/role-id", nil).Data["role_id"].(string)
}

// secretID issues a secret ID and returns it and its accessor.
func (h *harness) secretID(role string, data map[string]any) (id, accessor string) {
	h.t.Helper()
	resp := h.ok(engine.OpUpdate, "role/"+role+"/secret-id", data)
	return resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
}

// login logs in from 127.0.0.1.
func (h *harness) login(roleID, secretID string) (*engine.Login, error) {
	return h.loginFrom("127.0.0.1:5555", roleID, secretID)
}

func (h *harness) loginFrom(remote, roleID, secretID string) (*engine.Login, error) {
	data := map[string]any{"role_id": roleID}
	if secretID != "" {
		data["secret_id"] = secretID
	}
	resp, err := h.from(remote, engine.OpUpdate, "login", data)
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Login == nil {
		h.t.Fatalf("login answered %+v with no Login", resp)
	}
	return resp.Login, nil
}

// refused checks that a login failed with the uniform credentials error,
// which names neither credential.
func (h *harness) refused(l *engine.Login, err error, secrets ...string) {
	h.t.Helper()
	if err == nil {
		h.t.Fatalf("login succeeded (%+v), want refused", l)
	}
	if !errors.Is(err, engine.ErrInvalidRequest) || err.Error() != "invalid role or secret ID" {
		h.t.Fatalf("login error = %v, want 400 invalid role or secret ID", err)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			h.t.Fatalf("login error %q shows a credential", err)
		}
	}
}

// dump returns every stored key and value, to look for secrets in clear.
func (h *harness) dump() string {
	h.t.Helper()
	ctx := context.Background()
	keys, err := storage.List(ctx, h.store, "")
	if err != nil {
		h.t.Fatal(err)
	}
	var sb strings.Builder
	for _, k := range keys {
		v, err := h.store.Get(ctx, k)
		if err != nil {
			h.t.Fatal(err)
		}
		sb.WriteString(k + "=" + string(v) + "\n")
	}
	return sb.String()
}
