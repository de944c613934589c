package engine

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/storage"
)

// Backend is a mounted engine.
//
// Handle answers one request. It returns (nil, nil) when there is nothing to
// answer with: core turns that into 404 for reads and lists and 204 for
// writes and deletes. Errors should be made with Errorf or the sentinels so
// that they reach the client with the right status; any other error is a 500.
// Handle must be safe for concurrent use.
type Backend interface {
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// ExistenceChecker is implemented by engines that tell create from update.
// Exists reports supported=false when the path has no existence check, in
// which case every write is an update.
type ExistenceChecker interface {
	Exists(ctx context.Context, req *Request) (found, supported bool, err error)
}

// SpecialPaths is implemented by engines that have root-protected paths
// (the caller needs sudo as well as the operation's capability) or paths
// that need no token (logins). path is relative to the mount; op is the
// operation as the request arrived (update for every write).
type SpecialPaths interface {
	Special(path string, op Operation) (sudo, unauthenticated bool)
}

// TokenCleaner is implemented by engines that keep state per token
// (cubbyhole). Core calls TokenRevoked for every revoked token, with the
// token's Caller.TokenID, so that state goes with the token.
type TokenCleaner interface {
	TokenRevoked(ctx context.Context, tokenID string) error
}

// Env is what a mount is given when it is created. It holds no pointer back
// to core: engines reach storage, time and randomness only through it.
type Env struct {
	// MountPath is the mount's path with a trailing slash ("secret/").
	MountPath string
	// Type is the engine type ("kv", "cubbyhole").
	Type string
	// UUID identifies the mount; Accessor is its public name ("kv_1a2b3c4d").
	UUID     string
	Accessor string
	// Options are the mount's options ({"version": "2"} for KV v2).
	Options map[string]string
	// Storage is the mount's own encrypted view; keys are relative to it.
	Storage storage.Backend
	Logger  *slog.Logger
	// Now returns the current time; Rand is the source of randomness.
	Now  func() time.Time
	Rand io.Reader
	// LeaseTTLs returns the mount's effective default and maximum lease
	// TTLs. Read it when needed, not once: tuning changes it live.
	LeaseTTLs func() (def, max time.Duration)
}

// Factory creates an engine for a mount. Core calls it when a mount is
// enabled and again at every unseal.
type Factory func(ctx context.Context, env Env) (Backend, error)
