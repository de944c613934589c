package engine

import (
	"errors"
	"fmt"
)

// Sentinels for the failures engines report. httpapi maps them to HTTP
// statuses (in brackets); any other error is a 500 whose text is logged, not
// shown. Wrap them with Errorf so the client sees a message naming the field
// and the rule.
var (
	ErrPermissionDenied     = errors.New("permission denied")      // 403
	ErrInvalidRequest       = errors.New("invalid request")        // 400
	ErrNotFound             = errors.New("not found")              // 404
	ErrUnsupportedPath      = errors.New("unsupported path")       // 404
	ErrUnsupportedOperation = errors.New("unsupported operation")  // 405
	ErrTooLarge             = errors.New("request body too large") // 413
	ErrUnsupportedMedia     = errors.New("unsupported media type") // 415
	ErrRateLimited          = errors.New("rate limit exceeded")    // 429
	//lint:ignore ST1005 clients look for this exact text
	ErrSealed      = errors.New("Vault is sealed")                 // 503 (text kept for clients)
	ErrUnavailable = errors.New("service temporarily unavailable") // 503
)

// ErrCreateOnly refuses a CreateOnly write whose target exists (403).
var ErrCreateOnly = Errorf(ErrPermissionDenied, "permission denied: the target exists and this token may create but not update it")

// Error is an error with a message for the client and a kind (one of the
// sentinels above) that decides its status.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an error of the given kind whose text, shown to the client,
// is the formatted message. The message must never contain a secret.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// BadRequest is Errorf(ErrInvalidRequest, ...).
func BadRequest(format string, args ...any) error {
	return Errorf(ErrInvalidRequest, format, args...)
}

// InputError reports a request field that broke a rule. It is a 400.
type InputError struct {
	Field string
	Rule  string
}

func (e *InputError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Rule) }
func (e *InputError) Unwrap() error { return ErrInvalidRequest }
