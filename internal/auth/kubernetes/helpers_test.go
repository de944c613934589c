package kubernetes

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/auth/kubernetes/kubetest"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

const reviewerJWT = "reviewer.jwt.for-tests"

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type harness struct {
	t    *testing.T
	b    *backend
	logs *logBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	logs := &logBuffer{}
	env := engine.Env{
		MountPath: "auth/kubernetes/",
		Type:      "kubernetes",
		Accessor:  "auth_kubernetes_0123abcd",
		Storage:   inmem.New(),
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		Rand:      rand.Reader,
	}
	be, err := Factory(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*backend)
	b.timeout = 2 * time.Second
	t.Cleanup(func() { _ = b.Close() })
	return &harness{t: t, b: b, logs: logs}
}

// call runs one request through Handle.
func (h *harness) call(op engine.Operation, path string, data map[string]any) (*engine.Response, error) {
	h.t.Helper()
	req := &engine.Request{
		Operation:  op,
		Path:       path,
		MountPath:  "auth/kubernetes/",
		Data:       data,
		RemoteAddr: "127.0.0.1:50000",
	}
	if path == "login" {
		req.Unauthenticated = true
	} else {
		req.Caller = &engine.Caller{Root: true, Policies: []string{"root"}}
	}
	return h.b.Handle(context.Background(), req)
}

// must runs a request that must succeed.
func (h *harness) must(op engine.Operation, path string, data map[string]any) *engine.Response {
	h.t.Helper()
	resp, err := h.call(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// configure points the mount at srv with the reviewer JWT (none if "").
func (h *harness) configure(srv *kubetest.Server, reviewer string) {
	h.t.Helper()
	data := map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": srv.CACert()}
	if reviewer != "" {
		data["token_reviewer_jwt"] = reviewer
	}
	h.must(engine.OpUpdate, "config", data)
}

// login logs in and returns the engine's answer.
func (h *harness) login(roleName, jwt string) (*engine.Response, error) {
	h.t.Helper()
	return h.call(engine.OpUpdate, "login", map[string]any{"role": roleName, "jwt": jwt})
}

// wantKind fails unless err is of the given kind and its message is msg
// (when msg is not "").
func wantKind(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q is not %v", err, kind)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("error = %q, want %q", err, msg)
	}
}

// isTyped reports whether err carries a status kind (anything else is a 500).
func isTyped(err error) bool {
	for _, k := range []error{engine.ErrPermissionDenied, engine.ErrInvalidRequest, engine.ErrUnavailable, engine.ErrNotFound} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
