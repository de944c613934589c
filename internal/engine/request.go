package engine

import (
	"crypto/x509"
	"time"
)

// Operation is what a request asks an engine to do. HTTP methods map to
// operations in httpapi; core decides Create versus Update with the engine's
// existence check.
type Operation string

const (
	OpRead   Operation = "read"
	OpCreate Operation = "create"
	OpUpdate Operation = "update"
	OpPatch  Operation = "patch"
	OpDelete Operation = "delete"
	OpList   Operation = "list"
	OpHelp   Operation = "help"
)

// Request is one call to an engine. Core fills it; engines treat it as
// read-only except for Vars, which the Mux sets.
type Request struct {
	// ID is the request's unique ID, echoed as request_id.
	ID        string
	Operation Operation
	// Path is relative to the mount ("data/app/db" for secret/data/app/db).
	Path string
	// MountPath is the mount the request was routed to, with a trailing
	// slash ("secret/", "auth/token/").
	MountPath string
	// Data is the decoded JSON body, or the query for reads, lists and deletes.
	Data map[string]any
	// ClientToken is the caller's token as sent. Only the token store and
	// the wrapping endpoints may read it; it must never be logged.
	ClientToken string
	// Caller is who is asking, as resolved by core; nil on unauthenticated paths.
	Caller *Caller
	// Unauthenticated is set when the path needs no token (the engine
	// marked it so); Caller is then set only if a valid token came along.
	Unauthenticated bool
	// CreateOnly is set on a create whose caller may create but not update
	// the path. The existence check that made this write a create ran
	// before the write, so the target may exist by now: the engine must
	// then refuse the write (ErrCreateOnly) rather than overwrite it.
	CreateOnly bool
	// WrapTTL is the requested response-wrapping TTL, zero if none.
	WrapTTL time.Duration
	// RemoteAddr is the client's address ("ip:port").
	RemoteAddr string
	// PeerCertificates are the TLS client certificates the client
	// presented (verified by nobody yet: the cert auth method checks them).
	PeerCertificates []*x509.Certificate
	// Vars holds the pattern variables the Mux matched ("path" for "data/{path...}").
	Vars map[string]string
}

// Var returns the pattern variable name, or "".
func (r *Request) Var(name string) string { return r.Vars[name] }

// Caller describes the token behind a request.
type Caller struct {
	// TokenID is a stable, non-secret identifier of the token (the salted
	// HMAC it is stored under). Cubbyhole keys its storage by it.
	TokenID     string
	Accessor    string
	Policies    []string
	EntityID    string
	DisplayName string
	Meta        map[string]string
	// Root is true for tokens carrying the root policy.
	Root bool
	// Sudo is true when the caller's policies grant sudo on the request's
	// path (always for root). Engines use it for the few fields only an
	// operator may set, such as a token's custom ID.
	Sudo bool
}
