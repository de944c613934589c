package jwt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// clock is a settable time source.
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
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	b     *backend
	clock *clock
	idp   *jwttest.Provider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	c := &clock{t: time.Now().Truncate(time.Second)}
	be, err := Factory(context.Background(), fuzzEnv(c))
	if err != nil {
		t.Fatal(err)
	}
	idp := jwttest.NewProvider(t)
	idp.SetNow(c.Now)
	return &harness{t: t, b: be.(*backend), clock: c, idp: idp}
}

// fuzzEnv is a mount environment on fresh in-memory storage.
func fuzzEnv(c *clock) engine.Env {
	return engine.Env{
		MountPath: "auth/jwt/", Type: "jwt", Accessor: "auth_jwt_1234",
		Storage: inmem.New(), Now: c.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func (h *harness) do(op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	req := &engine.Request{
		Operation: op, Path: path, MountPath: "auth/jwt/", Data: data,
		RemoteAddr: "127.0.0.1:40000",
	}
	_, unauth := h.b.Special(path, op)
	req.Unauthenticated = unauth
	return h.b.Handle(context.Background(), req)
}

func (h *harness) write(path string, data map[string]any) (*engine.Response, error) {
	return h.do(engine.OpUpdate, path, data)
}

// mustWrite writes and fails the test on error.
func (h *harness) mustWrite(path string, data map[string]any) *engine.Response {
	h.t.Helper()
	resp, err := h.write(path, data)
	if err != nil {
		h.t.Fatalf("write %s: %v", path, err)
	}
	return resp
}

func (h *harness) read(path string) *engine.Response {
	h.t.Helper()
	resp, err := h.do(engine.OpRead, path, nil)
	if err != nil {
		h.t.Fatalf("read %s: %v", path, err)
	}
	return resp
}

// configStatic configures the provider's RSA and EC keys as static PEM keys.
func (h *harness) configStatic(extra map[string]any) {
	h.t.Helper()
	data := map[string]any{
		"jwt_validation_pubkeys": []string{jwttest.PublicKeyPEM(h.idp.RSAKey.Public()), jwttest.PublicKeyPEM(h.idp.ECKey.Public())},
		"jwt_supported_algs":     []string{"RS256", "ES256"},
		"bound_issuer":           "https://issuer.test",
	}
	for k, v := range extra {
		data[k] = v
	}
	h.mustWrite("config", data)
}

// ciRole is a jwt role that binds the org claim to "acme".
func (h *harness) ciRole(extra map[string]any) {
	h.t.Helper()
	data := map[string]any{
		"role_type":       "jwt",
		"user_claim":      "sub",
		"bound_audiences": []string{"ward"},
		"bound_claims":    map[string]any{"org": "acme"},
		"claim_mappings":  map[string]any{"org": "organization", "/ctx/env": "environment"},
		"groups_claim":    "groups",
		"token_policies":  []string{"ci"},
		"token_ttl":       "1h",
	}
	for k, v := range extra {
		data[k] = v
	}
	h.mustWrite("role/ci", data)
}

// claims returns a valid claim set for ciRole at the harness's time.
func (h *harness) claims() map[string]any {
	now := h.clock.Now()
	return map[string]any{
		"iss":    "https://issuer.test",
		"sub":    "pipeline-42",
		"aud":    "ward",
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(10 * time.Minute).Unix(),
		"org":    "acme",
		"groups": []any{"builders", "eng"},
		"ctx":    map[string]any{"env": "prod"},
	}
}

func (h *harness) login(role, token string) (*engine.Response, error) {
	return h.write("login", map[string]any{"role": role, "jwt": token})
}

// wantBadRequest checks that a login failed with a 400 whose message holds
// want, that no login came back and that the token is not quoted.
func wantBadRequest(t *testing.T, resp *engine.Response, err error, want, token string) {
	t.Helper()
	if err == nil {
		t.Fatalf("login succeeded (%+v); want error %q", resp, want)
	}
	if resp != nil {
		t.Errorf("failed login returned a response: %+v", resp)
	}
	if !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("error %q is not a 400", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if token != "" && len(token) > 20 && strings.Contains(err.Error(), token[len(token)-20:]) {
		t.Errorf("error quotes the token: %q", err)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
