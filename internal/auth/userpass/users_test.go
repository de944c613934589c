package userpass

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/wardsec/ward/internal/engine"
)

func TestUserLifecycle(t *testing.T) {
	h := newHarness(t)
	resp := h.mustDo(engine.OpCreate, "users/alice", map[string]any{
		"password":       "s3cret-pw",
		"token_policies": "dev,ops",
		"token_ttl":      "1h",
	})
	if resp != nil {
		t.Fatalf("create answered %+v, want nothing (204)", resp)
	}

	resp = h.mustDo(engine.OpRead, "users/alice", nil)
	if resp == nil {
		t.Fatal("read: no user")
	}
	if got := resp.Data["token_policies"]; !reflect.DeepEqual(got, []string{"dev", "ops"}) {
		t.Errorf("token_policies = %v", got)
	}
	if got := resp.Data["token_ttl"]; got != int64(3600) {
		t.Errorf("token_ttl = %v", got)
	}
	if got := resp.Data["hash_algorithm"]; got != Bcrypt {
		t.Errorf("hash_algorithm = %v", got)
	}
	for k, v := range resp.Data {
		s := fmt.Sprint(v)
		if k == "password" || k == "password_hash" || strings.Contains(s, "$2a$") || strings.Contains(s, "s3cret") {
			t.Errorf("read shows password material: %s = %v", k, v)
		}
	}

	// An update without a password keeps it.
	h.mustDo(engine.OpUpdate, "users/alice", map[string]any{"token_ttl": "2h"})
	l := h.mustLogin("alice", "s3cret-pw")
	if l.TTL.Hours() != 2 {
		t.Errorf("login TTL = %v, want 2h", l.TTL)
	}

	h.create("bob", "pw2", nil)
	resp = h.mustDo(engine.OpList, "users/", nil)
	if got := resp.Data["keys"]; !reflect.DeepEqual(got, []string{"alice", "bob"}) {
		t.Errorf("list = %v", got)
	}

	if resp := h.mustDo(engine.OpDelete, "users/alice", nil); resp != nil {
		t.Errorf("delete answered %+v", resp)
	}
	if resp := h.mustDo(engine.OpRead, "users/alice", nil); resp != nil {
		t.Errorf("read after delete = %+v", resp)
	}
	resp, err := h.login("alice", "s3cret-pw")
	wantBadLogin(t, resp, err)
}

func TestListEmpty(t *testing.T) {
	h := newHarness(t)
	if resp := h.mustDo(engine.OpList, "users", nil); resp != nil {
		t.Fatalf("empty list = %+v, want nothing (404)", resp)
	}
}

func TestStorageHoldsOnlyTheHash(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "correct horse battery", nil)
	raw, err := h.store.Get(context.Background(), "user/alice")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "correct horse") {
		t.Fatalf("stored user holds the password: %s", raw)
	}
	if !strings.Contains(string(raw), `"password_hash":"$2a$04$`) {
		t.Fatalf("stored user lacks a bcrypt hash: %s", raw)
	}
	if s := fmt.Sprint(&user{PasswordHash: "$2a$04$secret"}); strings.Contains(s, "secret") {
		t.Fatalf("user prints its hash: %s", s)
	}
	pw := secret("hunter2")
	for _, s := range []string{fmt.Sprint(pw), fmt.Sprintf("%s %v %q %x %#v %+v", pw, pw, pw, pw, pw, pw), fmt.Sprint(passwordInput{Password: &pw})} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, fmt.Sprintf("%x", "hunter2")) {
			t.Fatalf("secret prints itself: %s", s)
		}
	}
}

func TestCreateNeedsPassword(t *testing.T) {
	h := newHarness(t)
	_, err := h.do(engine.OpCreate, "users/alice", map[string]any{"token_policies": "dev"})
	wantErr(t, err, engine.ErrInvalidRequest, "missing password")
	_, err = h.do(engine.OpCreate, "users/alice", map[string]any{"password": ""})
	wantErr(t, err, engine.ErrInvalidRequest, "invalid password: must not be empty")
	// An update of a user that does not exist is a create.
	_, err = h.do(engine.OpUpdate, "users/alice", map[string]any{"token_ttl": 60})
	wantErr(t, err, engine.ErrInvalidRequest, "missing password")
	if resp := h.mustDo(engine.OpRead, "users/alice", nil); resp != nil {
		t.Fatalf("failed creates left a user: %+v", resp)
	}
}

func TestCreateOnly(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)
	req := &engine.Request{Operation: engine.OpCreate, Path: "users/alice", Data: map[string]any{"password": "other"}, CreateOnly: true}
	_, err := h.b.Handle(context.Background(), req)
	if err != engine.ErrCreateOnly {
		t.Fatalf("create-only write over a user = %v", err)
	}
	h.mustLogin("alice", "pw")
}

func TestExists(t *testing.T) {
	h := newHarness(t)
	ec := h.b.(engine.ExistenceChecker)
	req := &engine.Request{Operation: engine.OpCreate, Path: "users/Alice"}
	if found, supported, err := ec.Exists(context.Background(), req); found || !supported || err != nil {
		t.Fatalf("Exists before create = %v, %v, %v", found, supported, err)
	}
	h.create("alice", "pw", nil)
	if found, _, err := ec.Exists(context.Background(), req); !found || err != nil {
		t.Fatalf("Exists after create = %v, %v", found, err)
	}
}

func TestUsernames(t *testing.T) {
	h := newHarness(t)
	h.create("Mary.Jane-1_x", "pw", nil)
	resp := h.mustDo(engine.OpList, "users", nil)
	if got := resp.Data["keys"]; !reflect.DeepEqual(got, []string{"mary.jane-1_x"}) {
		t.Fatalf("list = %v, want the lower-cased name", got)
	}
	l := h.mustLogin("MARY.JANE-1_X", "pw")
	if l.Alias.Name != "mary.jane-1_x" || l.DisplayName != "mary.jane-1_x" || l.Metadata["username"] != "mary.jane-1_x" {
		t.Fatalf("login names = %q %q %v", l.Alias.Name, l.DisplayName, l.Metadata)
	}

	for _, bad := range []string{"-a", "a-", ".a", "a.", "a b", "ü", "\u212a", "a@b", strings.Repeat("a", MaxUsernameLen+1)} {
		_, err := h.do(engine.OpCreate, "users/"+bad, map[string]any{"password": "pw"})
		wantErr(t, err, engine.ErrInvalidRequest, "invalid username")
		resp, err := h.login(bad, "pw")
		wantBadLogin(t, resp, err)
	}
	h.create(strings.Repeat("a", MaxUsernameLen), "pw", nil)
}

func TestPasswordPath(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "old-pw", nil)
	if resp := h.mustDo(engine.OpUpdate, "users/Alice/password", map[string]any{"password": "new-pw"}); resp != nil {
		t.Fatalf("password write answered %+v", resp)
	}
	resp, err := h.login("alice", "old-pw")
	wantBadLogin(t, resp, err)
	h.mustLogin("alice", "new-pw")

	_, err = h.do(engine.OpUpdate, "users/alice/password", nil)
	wantErr(t, err, engine.ErrInvalidRequest, "missing password")
	_, err = h.do(engine.OpUpdate, "users/nobody/password", map[string]any{"password": "x"})
	wantErr(t, err, engine.ErrInvalidRequest, `user "nobody" does not exist`)
}

func TestPoliciesPath(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", map[string]any{"token_policies": "a", "token_ttl": 60})
	h.mustDo(engine.OpUpdate, "users/alice/policies", map[string]any{"policies": []any{"b", "c"}})
	l := h.mustLogin("alice", "pw")
	if !reflect.DeepEqual(l.Policies, []string{"b", "c"}) || l.TTL.Seconds() != 60 {
		t.Fatalf("login policies %v ttl %v", l.Policies, l.TTL)
	}
	h.mustDo(engine.OpUpdate, "users/alice/policies", map[string]any{"token_policies": "d"})
	if l := h.mustLogin("alice", "pw"); !reflect.DeepEqual(l.Policies, []string{"d"}) {
		t.Fatalf("login policies %v", l.Policies)
	}
	_, err := h.do(engine.OpUpdate, "users/alice/policies", map[string]any{})
	wantErr(t, err, engine.ErrInvalidRequest, "missing token_policies")
	_, err = h.do(engine.OpUpdate, "users/bob/policies", map[string]any{"token_policies": "d"})
	wantErr(t, err, engine.ErrInvalidRequest, "does not exist")
}

func TestPasswordHashImport(t *testing.T) {
	h := newHarness(t)
	bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	h.mustDo(engine.OpCreate, "users/b", map[string]any{"password_hash": string(bc)})
	h.mustLogin("b", "bcrypt-pw")

	a, err := hashPassword(Config{HashAlgorithm: Argon2id, Argon2Time: 1, Argon2Memory: 64, Argon2Threads: 1}, []byte("argon-pw"), strings.NewReader(strings.Repeat("s", 16)))
	if err != nil {
		t.Fatal(err)
	}
	h.mustDo(engine.OpCreate, "users/a", map[string]any{"password_hash": a})
	h.mustLogin("a", "argon-pw")

	for _, bad := range []string{"plain-text", "$2a$03$" + string(bc[7:]), string(bc) + "x", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"} {
		_, err := h.do(engine.OpCreate, "users/c", map[string]any{"password_hash": bad})
		wantErr(t, err, engine.ErrInvalidRequest, "invalid password_hash")
		if strings.Contains(err.Error(), bad) {
			t.Fatalf("error quotes the hash: %v", err)
		}
	}
	_, err = h.do(engine.OpCreate, "users/c", map[string]any{"password": "x", "password_hash": string(bc)})
	wantErr(t, err, engine.ErrInvalidRequest, "must not be set together with password")
	h.mustDo(engine.OpUpdate, "users/a/password", map[string]any{"password_hash": string(bc)})
	h.mustLogin("a", "bcrypt-pw")
}

// TestPasswordHashImportWorkFactors checks that an imported hash costs no
// more to check than the mount's own: a user allowed to set their own
// password_hash must not make every login for their name take 1 GiB.
func TestPasswordHashImportWorkFactors(t *testing.T) {
	h := newHarness(t) // bcrypt_cost 4; argon2id t=1, m=64 KiB, p=1
	salt := b64.EncodeToString([]byte("salt-salt-salt-s"))
	argon := func(m, t uint32, p uint8) string {
		return formatArgon2(argon2Params{Time: t, Memory: m, Threads: p}, []byte("salt-salt-salt-s"), make([]byte, 32))
	}
	bc5, err := bcrypt.GenerateFromPassword([]byte("bcrypt-pw"), 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ hash, rule string }{
		{string(bc5), "bcrypt cost must be between 4 and the mount's bcrypt_cost (4)"},
		{argon(MaxArgon2Memory, MaxArgon2Time, 1), "must not exceed the mount's argon2_time (1), argon2_memory (64 KiB) and argon2_threads (1)"},
		{argon(128, 1, 1), "argon2_memory (64 KiB)"},
		{argon(64, 2, 1), "argon2_time (1)"},
		{argon(64, 1, 2), "argon2_threads (1)"},
	} {
		for _, path := range []string{"users/alice", "users/alice/password"} {
			if path == "users/alice/password" {
				h.create("alice", "pw", nil)
			}
			_, err := h.do(engine.OpUpdate, path, map[string]any{"password_hash": c.hash})
			wantErr(t, err, engine.ErrInvalidRequest, "invalid password_hash: ")
			wantErr(t, err, engine.ErrInvalidRequest, c.rule)
			if strings.Contains(err.Error(), c.hash) || strings.Contains(err.Error(), salt) {
				t.Fatalf("error quotes the hash: %v", err)
			}
		}
		h.mustLogin("alice", "pw") // the refused writes changed nothing
		h.mustDo(engine.OpDelete, "users/alice", nil)
	}
	// At or under the mount's settings, whatever its algorithm, is fine.
	h.mustDo(engine.OpUpdate, "config", map[string]any{"hash_algorithm": Argon2id, "bcrypt_cost": 5, "argon2_memory": 256, "argon2_time": 2, "argon2_threads": 2})
	h.mustDo(engine.OpCreate, "users/bob", map[string]any{"password_hash": string(bc5)})
	h.mustLogin("bob", "bcrypt-pw")
	h.mustDo(engine.OpCreate, "users/carol", map[string]any{"password_hash": argon(128, 2, 2)})
	h.mustDo(engine.OpCreate, "users/dave", map[string]any{"password_hash": argon(64, 1, 1)})
}

func TestBcryptLengthLimit(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("p", 73)
	_, err := h.do(engine.OpCreate, "users/alice", map[string]any{"password": long})
	wantErr(t, err, engine.ErrInvalidRequest, "at most 72 bytes with bcrypt")
	if strings.Contains(err.Error(), long) {
		t.Fatalf("error quotes the password: %v", err)
	}

	// bcrypt reads 72 bytes; a login must not match on them alone.
	h.create("alice", long[:72], nil)
	resp, err := h.login("alice", long)
	wantBadLogin(t, resp, err)
	h.mustLogin("alice", long[:72])

	h.mustDo(engine.OpUpdate, "config", map[string]any{"hash_algorithm": Argon2id})
	h.create("bob", long, nil)
	h.mustLogin("bob", long)
	resp, err = h.login("bob", long[:72])
	wantBadLogin(t, resp, err)

	_, err = h.do(engine.OpCreate, "users/carol", map[string]any{"password": strings.Repeat("p", MaxPasswordLen+1)})
	wantErr(t, err, engine.ErrInvalidRequest, "at most 1024 bytes")
}

func TestUserWriteChecks(t *testing.T) {
	h := newHarness(t)
	_, err := h.do(engine.OpCreate, "users/alice", map[string]any{"password": "pw", "token_ttl": "2h", "token_max_ttl": "1h"})
	wantErr(t, err, engine.ErrInvalidRequest, "token_ttl")
	_, err = h.do(engine.OpCreate, "users/alice", map[string]any{"password": "pw", "token_bound_cidrs": "nonsense"})
	wantErr(t, err, engine.ErrInvalidRequest, "token_bound_cidrs")
	_, err = h.do(engine.OpCreate, "users/alice", map[string]any{"password": []any{"x"}})
	wantErr(t, err, engine.ErrInvalidRequest, "invalid password")

	resp := h.mustDo(engine.OpCreate, "users/alice", map[string]any{"password": "pw", "colour": "blue"})
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "colour") {
		t.Fatalf("unknown key answered %+v, want a warning naming it", resp)
	}
}
