package approle

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// Storage keys and folders, relative to the mount.
const (
	saltKey        = "salt"
	rolePrefix     = "role/"      // role/<name> → role
	roleIDPrefix   = "role-id/"   // role-id/<hmac(role_id)> → role name
	secretIDPrefix = "secret-id/" // secret-id/<role uid>/<hmac(secret_id)> → secretID
	accessorPrefix = "accessor/"  // accessor/<role uid>/<accessor> → hmac(secret_id)
)

var _ engine.Factory = Factory

// Factory creates the AppRole auth method for a mount. It does no I/O: the
// mount's HMAC key is read, or made, on first use.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create approle method: no storage")
	}
	b := &backend{store: env.Storage, now: env.Now, rand: env.Rand, log: env.Logger}
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
		engine.Path{Pattern: "login", Summary: "Log in with a role ID and a secret ID.", Write: b.login, Unauthenticated: true},
		engine.Path{Pattern: "role", Summary: "List the roles.", List: b.listRoles},
		engine.Path{Pattern: "role/{role_name}", Summary: "Create, read, update and delete a role.",
			Read: b.readRole, Write: b.writeRole, Delete: b.deleteRole, Exists: b.roleExists},
		engine.Path{Pattern: "role/{role_name}/role-id", Summary: "Read or set the role's role ID.",
			Read: b.readRoleID, Write: b.writeRoleID},
		engine.Path{Pattern: "role/{role_name}/secret-id", Summary: "Generate a secret ID, or list secret ID accessors.",
			Write: b.generateSecretID, List: b.listSecretIDs},
		engine.Path{Pattern: "role/{role_name}/custom-secret-id", Summary: "Register a secret ID chosen by the caller.",
			Write: b.customSecretID},
		engine.Path{Pattern: "role/{role_name}/secret-id/lookup", Summary: "Read a secret ID's properties.",
			Write: b.lookupSecretID},
		engine.Path{Pattern: "role/{role_name}/secret-id/destroy", Summary: "Destroy a secret ID.",
			Write: b.destroySecretID, Delete: b.destroySecretID},
		engine.Path{Pattern: "role/{role_name}/secret-id-accessor/lookup", Summary: "Read a secret ID's properties by its accessor.",
			Write: b.lookupAccessor},
		engine.Path{Pattern: "role/{role_name}/secret-id-accessor/destroy", Summary: "Destroy a secret ID by its accessor.",
			Write: b.destroyAccessor, Delete: b.destroyAccessor},
		engine.Path{Pattern: "tidy/secret-id", Summary: "Remove expired secret IDs and dangling accessors.",
			Write: b.tidy},
	)
	return b, nil
}

type backend struct {
	*engine.Mux
	store storage.Backend
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger

	// roles serialises changes to roles and the role ID index (writers),
	// against secret ID creation (readers), so that a role deleted while
	// one of its secret IDs is made leaves nothing behind.
	roles sync.RWMutex
	// secrets serialises the uses and removals of one secret ID.
	secrets stripes

	saltMu sync.Mutex
	salt   []byte
}

// stripes spread locks over 256 mutexes by key.
type stripes [256]sync.Mutex

func (s *stripes) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &s[h.Sum32()%uint32(len(s))]
	m.Lock()
	return m.Unlock
}

// secret is a credential as received. It never prints itself.
type secret string

func (secret) String() string                 { return "[redacted]" }
func (secret) GoString() string               { return "[redacted]" }
func (secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// key returns the mount's HMAC key, creating it on first use.
func (b *backend) key(ctx context.Context) ([]byte, error) {
	b.saltMu.Lock()
	defer b.saltMu.Unlock()
	if b.salt != nil {
		return b.salt, nil
	}
	v, err := b.store.Get(ctx, saltKey)
	switch {
	case err == nil && len(v) == 32:
		b.salt = v
	case err == nil:
		return nil, fmt.Errorf("read approle salt: stored salt has %d bytes, want 32", len(v))
	case errors.Is(err, storage.ErrNotFound):
		v = make([]byte, 32)
		if _, err := io.ReadFull(b.rand, v); err != nil {
			return nil, fmt.Errorf("create approle salt: %w", err)
		}
		if err := b.store.Put(ctx, saltKey, v); err != nil {
			return nil, fmt.Errorf("store approle salt: %w", err)
		}
		b.salt = v
	default:
		return nil, fmt.Errorf("read approle salt: %w", err)
	}
	return b.salt, nil
}

// hash is the hex HMAC-SHA256 of value in a domain ("role_id",
// "secret_id") under the mount's key: what credentials are stored under.
func (b *backend) hash(ctx context.Context, domain, value string) (string, error) {
	k, err := b.key(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// uuid returns a random version 4 UUID, the shape of Vault's role IDs,
// secret IDs and accessors.
func (b *backend) uuid() (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(b.rand, u[:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// getJSON reads key into v; found is false when nothing is stored there.
func getJSON(ctx context.Context, s storage.Backend, key string, v any) (found bool, err error) {
	raw, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", strings.SplitN(key, "/", 2)[0], err)
	}
	return true, nil
}

func putJSON(ctx context.Context, s storage.Backend, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Put(ctx, key, raw)
}

// tokenFields are the request keys auth.TokenInput decodes.
var tokenFields = func() map[string]bool {
	t := reflect.TypeOf(auth.TokenInput{})
	out := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}()

// splitToken separates the token_* (and legacy policies/period) keys of a
// write from the rest, so that each half decodes into its own struct and
// only keys known to neither are reported as ignored.
func splitToken(data map[string]any) (token, rest map[string]any) {
	token, rest = map[string]any{}, map[string]any{}
	for k, v := range data {
		if tokenFields[k] {
			token[k] = v
		} else {
			rest[k] = v
		}
	}
	return token, rest
}

// seconds renders a duration as whole seconds, as Vault's reads do.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }
