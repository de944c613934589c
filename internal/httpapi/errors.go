package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// statusFor maps an error to its HTTP status and the message the client
// sees. Anything not recognised is a 500 whose text stays in the log.
func statusFor(err error) (int, string) {
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, engine.ErrPermissionDenied):
		return http.StatusForbidden, message(err, "permission denied")
	case errors.Is(err, engine.ErrInvalidRequest):
		return http.StatusBadRequest, message(err, "invalid request")
	case errors.Is(err, engine.ErrUnsupportedPath), errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound, message(err, "")
	case errors.Is(err, engine.ErrUnsupportedOperation):
		return http.StatusMethodNotAllowed, message(err, "unsupported operation")
	case errors.As(err, &maxErr), errors.Is(err, engine.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, engine.ErrUnsupportedMedia):
		return http.StatusUnsupportedMediaType, message(err, "unsupported media type")
	case errors.Is(err, engine.ErrRateLimited):
		return http.StatusTooManyRequests, message(err, "rate limit exceeded")
	case errors.Is(err, engine.ErrSealed), errors.Is(err, barrier.ErrSealed):
		return http.StatusServiceUnavailable, "Vault is sealed"
	case errors.Is(err, engine.ErrUnavailable):
		return http.StatusServiceUnavailable, message(err, "service temporarily unavailable")
	case errors.Is(err, storage.ErrNotLeader):
		// The active node lost its raft leadership mid-request; a write
		// may or may not have been applied.
		return http.StatusServiceUnavailable, "this node lost the cluster leadership during the request; retry"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "request timed out"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return http.StatusBadRequest, "request canceled"
	}
	return http.StatusInternalServerError, ""
}

// message is the client-facing text of a typed error: the text made with
// engine.Errorf or InputError, or the fallback for a bare sentinel.
func message(err error, fallback string) string {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee.Msg
	}
	var ie *engine.InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	if fallback != "" {
		return fallback
	}
	return err.Error()
}
