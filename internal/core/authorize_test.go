package core_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/engine"
)

// auditEntriesFor decodes the audit lines about path.
func auditEntriesFor(t *testing.T, dev *memDevice, path string) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for _, line := range strings.Split(dev.all(), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line is not JSON: %v\n%s", err, line)
		}
		if e.Request != nil && e.Request.Path == path {
			out = append(out, e)
		}
	}
	return out
}

func TestAuthorizeChecksTokenACLAndAudits(t *testing.T) {
	c, dev := auditedCore(t)
	const path = "sys/storage/raft/snapshot"
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/snap-read", map[string]any{
		"policy": `path "sys/storage/raft/snapshot" { capabilities = ["read"] }`,
	})
	reader := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": []any{"snap-read"}}).Auth.ClientToken
	req := func(tok string, op engine.Operation) *engine.Request {
		return &engine.Request{ID: "req-" + string(op), Path: path, Operation: op, ClientToken: tok, RemoteAddr: "127.0.0.1:5000"}
	}

	for _, tc := range []struct {
		name, tok string
		op        engine.Operation
	}{
		{"no token", "", engine.OpRead},
		{"unknown token", "hvs.nosuchtoken", engine.OpRead},
		{"read-only token writing", reader, engine.OpUpdate},
	} {
		done, err := c.Authorize(ctx, req(tc.tok, tc.op))
		if !errors.Is(err, engine.ErrPermissionDenied) || done != nil {
			t.Errorf("%s: Authorize = %v, want permission denied and no done", tc.name, err)
		}
	}
	refused := auditEntriesFor(t, dev, path)
	if len(refused) != 3 {
		t.Fatalf("%d audit entries for the refused requests, want 3 (one request entry each)", len(refused))
	}
	for _, e := range refused {
		if e.Type != audit.TypeRequest || e.Error == "" {
			t.Errorf("refused request audited as %s with error %q", e.Type, e.Error)
		}
	}

	done, err := c.Authorize(ctx, req(reader, engine.OpRead))
	if err != nil {
		t.Fatalf("read with read capability: %v", err)
	}
	if n := len(auditEntriesFor(t, dev, path)); n != 4 {
		t.Fatalf("%d entries after an allowed request, want its request entry (4)", n)
	}
	if err := done(errors.New("stream broke")); err != nil {
		t.Fatal(err)
	}
	all := auditEntriesFor(t, dev, path)
	last := all[len(all)-1]
	if len(all) != 5 || last.Type != audit.TypeResponse || last.Request.Operation != "read" || last.Error == "" {
		t.Errorf("response entry = %+v (of %d), want a read response with the error", last, len(all))
	}
	if strings.Contains(dev.all(), reader) {
		t.Error("the audit log holds the client token in the clear")
	}
}

func TestAuthorizeSpendsTokenUses(t *testing.T) {
	c := devCore(t)
	tok := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"num_uses": 1}).Auth.ClientToken
	done, err := c.Authorize(ctx, &engine.Request{ID: "x", Path: "sys/storage/raft/snapshot", Operation: engine.OpRead, ClientToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	// Authorize takes the last use; done revokes the token.
	if err := done(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Errorf("a one-use token still works after Authorize: %v", err)
	}
}

func TestAuthorizeRefusesUnauthenticatedPathsAndSealed(t *testing.T) {
	c := devCore(t)
	// sys/wrapping/lookup is unauthenticated in the sys engine: Authorize
	// is only for requests that need a token, so it refuses even root.
	if _, err := c.Authorize(ctx, &engine.Request{ID: "x", Path: "sys/wrapping/lookup", Operation: engine.OpUpdate, ClientToken: "root"}); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Errorf("unauthenticated path: %v, want permission denied", err)
	}
	if _, err := c.Authorize(ctx, &engine.Request{ID: "x", Path: "sys/../secret", Operation: engine.OpRead, ClientToken: "root"}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("parent reference: %v, want invalid request", err)
	}
	c.Seal()
	if _, err := c.Authorize(ctx, &engine.Request{ID: "x", Path: "sys/storage/raft/snapshot", Operation: engine.OpRead, ClientToken: "root"}); !errors.Is(err, engine.ErrSealed) {
		t.Errorf("sealed: %v, want ErrSealed", err)
	}
}
