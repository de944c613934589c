package userpass

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
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

// fastConfig is the config every harness starts with: the smallest work
// factors, so that tests hash in microseconds.
var fastConfig = map[string]any{"bcrypt_cost": 4, "argon2_time": 1, "argon2_memory": 64}

// harness drives one userpass mount through engine.Backend.Handle, as core does.
type harness struct {
	t     testing.TB
	b     engine.Backend
	store *inmem.Backend
	clock *clock
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, store: inmem.New(), clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	h.restart()
	h.mustDo(engine.OpUpdate, "config", fastConfig)
	return h
}

// restart makes a new backend over the same storage, as an unseal does.
func (h *harness) restart() {
	h.t.Helper()
	b, err := Factory(context.Background(), engine.Env{
		MountPath: "auth/userpass/",
		Type:      "userpass",
		Accessor:  "auth_userpass_1234abcd",
		Storage:   h.store,
		Now:       h.clock.Now,
	})
	if err != nil {
		h.t.Fatalf("Factory: %v", err)
	}
	h.b = b
}

func (h *harness) backend() *backend { return h.b.(*backend) }

func (h *harness) do(op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	h.t.Helper()
	req := &engine.Request{Operation: op, Path: path, MountPath: "auth/userpass/", Data: data, RemoteAddr: "127.0.0.1:40000"}
	return h.b.Handle(context.Background(), req)
}

func (h *harness) mustDo(op engine.Operation, path string, data map[string]any) *engine.Response {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// create creates a user with a password and extra fields.
func (h *harness) create(name, password string, extra map[string]any) {
	h.t.Helper()
	data := map[string]any{"password": password}
	for k, v := range extra {
		data[k] = v
	}
	h.mustDo(engine.OpCreate, "users/"+name, data)
}

func (h *harness) login(name, password string) (*engine.Response, error) {
	h.t.Helper()
	return h.do(engine.OpUpdate, "login/"+name, map[string]any{"password": password})
}

// mustLogin fails unless the login succeeds, and returns its Login.
func (h *harness) mustLogin(name, password string) *engine.Login {
	h.t.Helper()
	resp, err := h.login(name, password)
	if err != nil {
		h.t.Fatalf("login %s: %v", name, err)
	}
	if resp == nil || resp.Login == nil {
		h.t.Fatalf("login %s: no Login in %+v", name, resp)
	}
	return resp.Login
}

// wantErr fails unless err is of kind and its message contains substr.
func wantErr(t testing.TB, err error, kind error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %v error containing %q, got success", kind, substr)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("want a %v error, got %T: %v", kind, err, err)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("want an error containing %q, got %q", substr, err.Error())
	}
}

// wantBadLogin fails unless a login was refused as invalid credentials.
func wantBadLogin(t testing.TB, resp *engine.Response, err error) {
	t.Helper()
	if resp != nil {
		t.Fatalf("refused login answered %+v", resp)
	}
	wantErr(t, err, engine.ErrInvalidRequest, "invalid username or password")
	if err.Error() != "invalid username or password" {
		t.Fatalf("bad login message = %q", err.Error())
	}
}

// wantLocked fails unless a login was refused as locked out.
func wantLocked(t testing.TB, resp *engine.Response, err error) {
	t.Helper()
	if resp != nil {
		t.Fatalf("locked login answered %+v", resp)
	}
	wantErr(t, err, engine.ErrPermissionDenied, "permission denied")
}
