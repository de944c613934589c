package userpass

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestLoginAnswer(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", map[string]any{
		"token_policies":          "dev",
		"token_ttl":               "1h",
		"token_max_ttl":           "2h",
		"token_num_uses":          3,
		"token_no_default_policy": true,
		"token_period":            "30m",
	})
	l := h.mustLogin("Alice", "pw")
	want := &engine.Login{
		Alias:           engine.Alias{Name: "alice"},
		Policies:        []string{"dev"},
		NoDefaultPolicy: true,
		Metadata:        map[string]string{"username": "alice"},
		DisplayName:     "alice",
		TTL:             time.Hour,
		MaxTTL:          2 * time.Hour,
		Period:          30 * time.Minute,
		NumUses:         3,
		Renewable:       true,
	}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("login =\n%+v\nwant\n%+v", l, want)
	}
	if _, unauth := h.b.(engine.SpecialPaths).Special("login/alice", engine.OpUpdate); !unauth {
		t.Fatal("login path needs a token")
	}
	if _, unauth := h.b.(engine.SpecialPaths).Special("users/alice", engine.OpUpdate); unauth {
		t.Fatal("users path needs no token")
	}
}

func TestLoginRefusals(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)

	wrong, errWrong := h.login("alice", "not-pw")
	wantBadLogin(t, wrong, errWrong)
	unknown, errUnknown := h.login("nobody", "pw")
	wantBadLogin(t, unknown, errUnknown)
	if errWrong.Error() != errUnknown.Error() {
		t.Fatalf("wrong password %q and unknown user %q answer differently", errWrong, errUnknown)
	}
	// The unknown user's password was checked against a dummy hash made
	// with the mount's settings.
	if b := h.backend(); !strings.HasPrefix(b.dummyKey, Bcrypt+"/4/") || b.dummyHash.alg != Bcrypt || b.dummyHash.cost != 4 {
		t.Fatalf("no dummy check: key %q hash %v cost %d", b.dummyKey, b.dummyHash, b.dummyHash.cost)
	}

	resp, err := h.do(engine.OpUpdate, "login/alice", nil)
	wantErr(t, err, engine.ErrInvalidRequest, "missing password")
	if resp != nil {
		t.Fatalf("missing password answered %+v", resp)
	}
	_, err = h.do(engine.OpUpdate, "login/alice", map[string]any{"password": map[string]any{"x": 1}})
	wantErr(t, err, engine.ErrInvalidRequest, "invalid password")
	_, err = h.login("alice", strings.Repeat("p", MaxPasswordLen+1))
	wantErr(t, err, engine.ErrInvalidRequest, "invalid password: must be at most")
	_, err = h.do(engine.OpRead, "login/alice", nil)
	wantErr(t, err, engine.ErrUnsupportedOperation, "unsupported operation")
}

func TestLoginBoundCIDRs(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
	login := func(addr, pw string) (*engine.Response, error) {
		req := &engine.Request{Operation: engine.OpUpdate, Path: "login/alice", Data: map[string]any{"password": pw}, RemoteAddr: addr}
		return h.b.Handle(context.Background(), req)
	}
	resp, err := login("127.0.0.1:5000", "pw")
	if resp != nil {
		t.Fatalf("login from outside the CIDRs answered %+v", resp)
	}
	wantErr(t, err, engine.ErrPermissionDenied, "token_bound_cidrs")
	// A wrong password from outside is still just a bad login.
	resp, err = login("127.0.0.1:5000", "nope")
	wantBadLogin(t, resp, err)

	resp, err = login("10.1.2.3:5000", "pw")
	if err != nil || resp.Login == nil {
		t.Fatalf("login from inside the CIDRs = %+v, %v", resp, err)
	}
	if !reflect.DeepEqual(resp.Login.BoundCIDRs, []string{"10.0.0.0/8"}) {
		t.Fatalf("login BoundCIDRs = %v", resp.Login.BoundCIDRs)
	}
}

func storedHash(t *testing.T, h *harness, name string) string {
	t.Helper()
	u, err := h.backend().loadUser(context.Background(), name)
	if err != nil || u == nil {
		t.Fatalf("load %s: %v, %v", name, u, err)
	}
	return u.PasswordHash
}

func TestRehashOnLogin(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)
	first := storedHash(t, h, "alice")
	if !strings.HasPrefix(first, "$2a$04$") {
		t.Fatalf("hash = %.7s..., want bcrypt cost 4", first)
	}
	// A failed login does not rehash; a login with current settings neither.
	h.login("alice", "wrong")
	h.mustLogin("alice", "pw")
	if got := storedHash(t, h, "alice"); got != first {
		t.Fatal("hash changed without a settings change")
	}

	h.mustDo(engine.OpUpdate, "config", map[string]any{"bcrypt_cost": 5})
	h.login("alice", "wrong")
	if got := storedHash(t, h, "alice"); got != first {
		t.Fatal("failed login rehashed")
	}
	h.mustLogin("alice", "pw")
	if got := storedHash(t, h, "alice"); !strings.HasPrefix(got, "$2a$05$") {
		t.Fatalf("after cost change hash = %.7s...", got)
	}

	h.mustDo(engine.OpUpdate, "config", map[string]any{"hash_algorithm": Argon2id})
	h.mustLogin("alice", "pw")
	got := storedHash(t, h, "alice")
	if !strings.HasPrefix(got, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("after algorithm change hash = %.30s...", got)
	}
	h.mustLogin("alice", "pw")
	if again := storedHash(t, h, "alice"); again != got {
		t.Fatal("current argon2id hash was rehashed")
	}
	resp, err := h.login("alice", "wrong")
	wantBadLogin(t, resp, err)

	h.mustDo(engine.OpUpdate, "config", map[string]any{"argon2_time": 2})
	h.mustLogin("alice", "pw")
	if got := storedHash(t, h, "alice"); !strings.Contains(got, "m=64,t=2,p=1$") {
		t.Fatalf("after argon2_time change hash = %.30s...", got)
	}
}

func TestHashingIsBounded(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)
	b := h.backend()
	// Take every slot: a login must wait, and give up with its context.
	for range cap(b.hashSlots) {
		b.hashSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req := &engine.Request{Operation: engine.OpUpdate, Path: "login/alice", Data: map[string]any{"password": "pw"}, RemoteAddr: "127.0.0.1:1"}
	if resp, err := b.Handle(ctx, req); err == nil || resp != nil {
		t.Fatalf("login with no free slot = %+v, %v", resp, err)
	}
	for range cap(b.hashSlots) {
		<-b.hashSlots
	}
	h.mustLogin("alice", "pw")
}

func TestConcurrentLogins(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"disable_lockout": true})
	h.create("alice", "pw", nil)
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 8 {
				pw := "pw"
				if (i+j)%2 == 1 {
					pw = "wrong"
				}
				resp, err := h.login("alice", pw)
				if ok := err == nil && resp != nil && resp.Login != nil; ok != (pw == "pw") {
					errs <- fmt.Errorf("login with %q = %+v, %v", pw, resp, err)
				}
			}
		}()
	}
	// Meanwhile the settings change, so that logins rehash concurrently.
	for _, alg := range []string{Argon2id, Bcrypt, Argon2id} {
		h.mustDo(engine.OpUpdate, "config", map[string]any{"hash_algorithm": alg})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.mustLogin("alice", "pw")
}
