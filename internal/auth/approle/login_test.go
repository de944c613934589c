package approle

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func TestLogin(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("Web", map[string]any{
		"token_policies": "web", "token_ttl": "20m", "token_max_ttl": "1h", "token_num_uses": 7,
		"token_bound_cidrs": "127.0.0.0/8",
	})
	id, _ := h.secretID("web", map[string]any{"metadata": map[string]any{"env": "prod", "role_name": "spoof"}})
	l, err := h.login(roleID, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &engine.Login{
		Alias:       engine.Alias{Name: roleID, Metadata: map[string]string{"role_name": "web"}},
		Policies:    []string{"web"},
		Metadata:    map[string]string{"role_name": "web", "env": "prod"},
		DisplayName: "web",
		TTL:         20 * time.Minute,
		MaxTTL:      time.Hour,
		NumUses:     7,
		Renewable:   true,
		BoundCIDRs:  []string{"127.0.0.0/8"},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("login = %+v\nwant %+v", l, want)
	}

	// A secret ID's token_bound_cidrs replace the role's.
	id2, _ := h.secretID("web", map[string]any{"token_bound_cidrs": "127.0.0.1"})
	if l, err := h.login(roleID, id2); err != nil || !reflect.DeepEqual(l.BoundCIDRs, []string{"127.0.0.1"}) {
		t.Errorf("login = %+v, %v", l, err)
	}
	// Missing role_id is named; a non-string is refused without echo.
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "login", map[string]any{"secret_id": id}); !strings.Contains(msg, "role_id") {
		t.Errorf("no role_id: %q", msg)
	}
	if msg := h.fails(engine.ErrInvalidRequest, engine.OpUpdate, "login", map[string]any{"role_id": roleID, "secret_id": map[string]any{"x": id}}); strings.Contains(msg, id) {
		t.Errorf("bad secret_id type echoed: %q", msg)
	}
}

func TestLoginRefusals(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("web", map[string]any{"secret_id_bound_cidrs": "127.0.0.0/8, ::1"})
	good, _ := h.secretID("web", nil)
	otherRole := h.role("api", nil)
	apiSecret, _ := h.secretID("api", nil)
	bound, _ := h.secretID("web", map[string]any{"cidr_list": "127.0.0.2"})
	short, _ := h.secretID("web", map[string]any{"ttl": "90s"})

	cases := []struct {
		name, remote, role, secret string
	}{
		{"unknown role ID", "127.0.0.1:1", "no-such-role", good},
		{"wrong secret ID", "127.0.0.1:1", roleID, good + "x"},
		{"no secret ID", "127.0.0.1:1", roleID, ""},
		{"another role's secret ID", "127.0.0.1:1", roleID, apiSecret},
		{"secret ID for another role ID", "127.0.0.1:1", otherRole, good},
		{"outside the role's CIDRs", "10.0.0.1:1", roleID, good},
		{"garbage remote address", "not-an-address", roleID, good},
		{"outside the secret ID's cidr_list", "127.0.0.1:1", roleID, bound},
	}
	for _, c := range cases {
		l, err := h.loginFrom(c.remote, c.role, c.secret)
		h.refused(l, err, c.secret, c.role)
	}
	if _, err := h.loginFrom("127.0.0.2:9", roleID, bound); err != nil {
		t.Errorf("inside cidr_list: %v", err)
	}
	if _, err := h.loginFrom("[::1]:9", roleID, good); err != nil {
		t.Errorf("from ::1: %v", err)
	}

	// Expiry follows the injected clock, and an expired secret ID is gone.
	h.clock.Advance(89 * time.Second)
	if _, err := h.login(roleID, short); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	h.clock.Advance(time.Second)
	l, err := h.login(roleID, short)
	h.refused(l, err, short)
	if resp := h.ok(engine.OpUpdate, "role/web/secret-id/lookup", map[string]any{"secret_id": short}); resp != nil {
		t.Errorf("expired secret ID still there: %+v", resp.Data)
	}
}

func TestLoginNumUses(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("web", map[string]any{"secret_id_num_uses": 2})
	id, acc := h.secretID("web", nil)
	if _, err := h.login(roleID, id); err != nil {
		t.Fatal(err)
	}
	data := h.ok(engine.OpUpdate, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc}).Data
	if data["secret_id_num_uses"] != 1 {
		t.Errorf("uses left after one login = %v", data["secret_id_num_uses"])
	}
	if _, err := h.login(roleID, id); err != nil {
		t.Fatal(err)
	}
	l, err := h.login(roleID, id)
	h.refused(l, err, id)
	if resp := h.ok(engine.OpList, "role/web/secret-id", nil); resp != nil {
		t.Errorf("used-up secret ID still listed: %v", resp.Data)
	}
	// A refused login (wrong CIDR) spends no use.
	h.ok(engine.OpUpdate, "role/web", map[string]any{"secret_id_bound_cidrs": "127.0.0.1"})
	id, _ = h.secretID("web", map[string]any{"num_uses": 1})
	l, err = h.loginFrom("127.0.0.2:1", roleID, id)
	h.refused(l, err, id)
	if _, err := h.login(roleID, id); err != nil {
		t.Errorf("refused login spent the only use: %v", err)
	}
}

// TestLoginOneUseRace races logins with a one-use secret ID: exactly one wins.
func TestLoginOneUseRace(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("web", nil)
	for round := 0; round < 20; round++ {
		id, _ := h.secretID("web", map[string]any{"num_uses": 1})
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := h.b.Handle(context.Background(), &engine.Request{
					Operation: engine.OpUpdate, Path: "login", RemoteAddr: "127.0.0.1:1",
					Data: map[string]any{"role_id": roleID, "secret_id": id},
				})
				if err == nil && resp != nil && resp.Login != nil {
					wins.Add(1)
				} else if err == nil || err.Error() != "invalid role or secret ID" {
					t.Errorf("losing login: %+v, %v", resp, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d logins won with a one-use secret ID", round, n)
		}
	}
}

func TestLoginWithoutSecretID(t *testing.T) {
	h := newHarness(t)
	roleID := h.role("open", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.1"})
	l, err := h.login(roleID, "")
	if err != nil || l.Alias.Name != roleID || l.Metadata["role_name"] != "open" {
		t.Fatalf("login = %+v, %v", l, err)
	}
	l, err = h.loginFrom("127.0.0.2:1", roleID, "")
	h.refused(l, err)
	// A role held open by token_bound_cidrs alone: a login from outside
	// them is refused (the token would be useless there), one from inside
	// carries them to the token.
	roleID = h.role("tok", map[string]any{"bind_secret_id": false, "token_bound_cidrs": "10.0.0.0/8"})
	l, err = h.loginFrom("192.0.2.1:1", roleID, "")
	h.refused(l, err)
	if l, err := h.loginFrom("10.1.2.3:1", roleID, ""); err != nil || !reflect.DeepEqual(l.BoundCIDRs, []string{"10.0.0.0/8"}) {
		t.Errorf("login = %+v, %v", l, err)
	}
}

// TestLoginLogsNoSecrets checks that refusals are logged with a reason
// and without the credentials.
func TestLoginLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	b, err := Factory(context.Background(), engine.Env{
		Storage: inmem.New(),
		Logger:  slog.New(slog.NewTextHandler(&buf, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	do := func(path string, data map[string]any) *engine.Response {
		resp, err := b.Handle(t.Context(), &engine.Request{Operation: engine.OpUpdate, Path: path, Data: data, RemoteAddr: "127.0.0.1:1"})
		if err != nil && path != "login" {
			t.Fatal(err)
		}
		return resp
	}
	do("role/web", nil)
	do("role/web/role-id", map[string]any{"role_id": "role-id-value"})
	do("role/web/custom-secret-id", map[string]any{"secret_id": "secret-id-value", "num_uses": 1})
	do("login", map[string]any{"role_id": "role-id-value", "secret_id": "secret-id-value"})
	do("login", map[string]any{"role_id": "role-id-value", "secret_id": "secret-id-value"})
	do("login", map[string]any{"role_id": "role-id-valuX", "secret_id": "secret-id-valuX"})
	out := buf.String()
	if !strings.Contains(out, "used-up") || !strings.Contains(out, "unknown role ID") {
		t.Errorf("log lacks the reasons:\n%s", out)
	}
	if strings.Contains(out, "-value") || strings.Contains(out, "-valuX") {
		t.Errorf("log shows a credential:\n%s", out)
	}
}
