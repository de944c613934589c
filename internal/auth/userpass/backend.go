package userpass

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

var _ engine.Factory = Factory

// MaxUsernameLen is the longest username accepted, in bytes.
const MaxUsernameLen = 256

const userPrefix = "user/"

// Factory creates the userpass auth method for a mount. It does no I/O.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create userpass auth method: no storage")
	}
	b := &backend{
		store:     env.Storage,
		now:       env.Now,
		rand:      env.Rand,
		log:       env.Logger,
		lockout:   newTracker(defaultMaxTracked),
		hashSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.rand == nil {
		b.rand = rand.Reader
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.Mux = engine.NewMux(
		engine.Path{
			Pattern:         "login/{username}",
			Summary:         "Log in with a username and password.",
			Write:           b.login,
			Unauthenticated: true,
		},
		engine.Path{
			Pattern: "users",
			Summary: "List users.",
			List:    b.listUsers,
		},
		engine.Path{
			Pattern: "users/{username}",
			Summary: "Manage a user: password and token settings.",
			Read:    b.readUser,
			Write:   b.writeUser,
			Delete:  b.deleteUser,
			Exists:  b.userExists,
		},
		engine.Path{
			Pattern: "users/{username}/password",
			Summary: "Set a user's password.",
			Write:   b.writePassword,
		},
		engine.Path{
			Pattern: "users/{username}/policies",
			Summary: "Set a user's token policies.",
			Write:   b.writePolicies,
		},
		engine.Path{
			Pattern: "config",
			Summary: "Configure password hashing and user lockout.",
			Read:    b.readConfig,
			Write:   b.writeConfig,
		},
	)
	return b, nil
}

type backend struct {
	*engine.Mux
	store storage.Backend
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger

	// mu serialises read-modify-write of stored entries (users, config).
	// Password hashing happens outside it.
	mu      sync.Mutex
	lockout *tracker
	// hashSlots bounds concurrent hashing: each hash or check holds a slot.
	hashSlots chan struct{}

	dummyMu   sync.Mutex
	dummyKey  string
	dummyHash hash
}

// user is a stored user.
type user struct {
	// PasswordHash is a bcrypt hash or an argon2id PHC string.
	PasswordHash string           `json:"password_hash"`
	Token        auth.TokenParams `json:"token"`
	// LockedUntil is the end of the user's lockout, zero if none.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// String never shows the hash.
func (u *user) String() string { return "userpass user [hash redacted]" }

// secret is a password or a password hash from a request. It never
// prints.
type secret string

func (secret) String() string               { return "[redacted]" }
func (secret) GoString() string             { return "[redacted]" }
func (secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (s secret) bytes() []byte              { return []byte(s) }
func (s secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// usernameRule is Vault's rule for names: word characters, "-" and ".",
// beginning and ending with a word character.
var usernameRule = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// username checks a username from a path and returns it lower-cased. The
// rule is checked first, so no non-ASCII letter can lower-case into an
// ASCII one.
func username(raw string) (string, error) {
	if len(raw) > MaxUsernameLen {
		return "", &engine.InputError{Field: "username", Rule: fmt.Sprintf("must be at most %d bytes", MaxUsernameLen)}
	}
	if !usernameRule.MatchString(raw) {
		return "", &engine.InputError{Field: "username", Rule: `must be letters, digits, "_", "-" and ".", beginning and ending with a letter, digit or "_"`}
	}
	return strings.ToLower(raw), nil
}

// loadUser returns the stored user name, or nil if there is none.
func (b *backend) loadUser(ctx context.Context, name string) (*user, error) {
	raw, err := b.store.Get(ctx, userPrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	u := &user{}
	if err := json.Unmarshal(raw, u); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// saveUser stores u as name. b.mu must be held.
func (b *backend) saveUser(ctx context.Context, name string, u *user) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("write user: %w", err)
	}
	if err := b.store.Put(ctx, userPrefix+name, raw); err != nil {
		return fmt.Errorf("write user: %w", err)
	}
	return nil
}

// tokenKeys are the request keys auth.TokenInput decodes.
var tokenKeys = func() map[string]bool {
	t := reflect.TypeFor[auth.TokenInput]()
	keys := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// decodeWithToken decodes a write into T and the token settings, each
// from its own keys, so that only keys neither knows become warnings.
func decodeWithToken[T any](data map[string]any) (T, auth.TokenInput, []string, error) {
	own := make(map[string]any, len(data))
	tok := make(map[string]any)
	for k, v := range data {
		if tokenKeys[k] {
			tok[k] = v
		} else {
			own[k] = v
		}
	}
	var zero T
	in, warnings, err := engine.Decode[T](own)
	if err != nil {
		return zero, auth.TokenInput{}, nil, err
	}
	ti, _, err := engine.Decode[auth.TokenInput](tok)
	if err != nil {
		return zero, auth.TokenInput{}, nil, err
	}
	return in, ti, warnings, nil
}
