package httpapi

import (
	"context"
	"net/http"

	"github.com/wardsec/ward/internal/engine"
)

// The raft snapshot endpoints stream their bodies both ways, so they do
// not fit the engine Response: httpapi serves them itself, after core has
// run the pipeline's token, ACL and audit steps (core.Authorize).
//
//	GET       sys/storage/raft/snapshot        the snapshot, application/octet-stream (read)
//	POST|PUT  sys/storage/raft/snapshot        restore one of this cluster (update)
//	POST|PUT  sys/storage/raft/snapshot-force  restore one of any cluster (update)
//
// A snapshot is not held in memory here, and a restore's body has no size
// limit other than the listener's max_request_duration: only a caller the
// ACL allows gets to send one.
const (
	snapshotPath      = "sys/storage/raft/snapshot"
	snapshotForcePath = "sys/storage/raft/snapshot-force"
)

// isSnapshotPath reports whether path is one of the snapshot endpoints.
func isSnapshotPath(path string) bool {
	return path == snapshotPath || path == snapshotForcePath
}

// serveSnapshot answers the snapshot endpoints on the active node. A
// standby forwards them like any request (Vault redirects instead), with
// the body streaming through and no limit on its size.
func (h *Handler) serveSnapshot(w http.ResponseWriter, r *http.Request, path string) {
	var op engine.Operation
	switch {
	case r.Method == http.MethodGet && path == snapshotPath:
		op = engine.OpRead
	case r.Method == http.MethodPost || r.Method == http.MethodPut:
		op = engine.OpUpdate
	default:
		methods := []string{http.MethodPost, http.MethodPut}
		if path == snapshotPath {
			methods = append(methods, http.MethodGet)
		}
		allowMethods(w, r, methods...)
		return
	}
	req := &engine.Request{
		ID:          newRequestID(),
		Path:        path,
		Operation:   op,
		ClientToken: clientToken(r),
		RemoteAddr:  r.RemoteAddr,
	}
	if r.TLS != nil {
		req.PeerCertificates = r.TLS.PeerCertificates
	}
	ctx := r.Context()
	done, err := h.core.Authorize(ctx, req)
	if err != nil {
		h.writeError(w, req.ID, err)
		return
	}
	if op == engine.OpRead {
		h.saveSnapshot(ctx, w, req.ID, done)
		return
	}
	err = h.core.RaftRestore(ctx, r.Body, path == snapshotForcePath)
	h.finish(req.ID, done, err)
	if err != nil {
		h.writeError(w, req.ID, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// saveSnapshot streams the snapshot. An error before its first byte is a
// normal error answer; after it, the status is sent already, so the
// connection is cut and the client sees a truncated body (and a snapshot
// carries a checksum, so a truncated file is never restored).
func (h *Handler) saveSnapshot(ctx context.Context, w http.ResponseWriter, requestID string, done func(error) error) {
	sw := &snapshotWriter{w: w}
	err := h.core.RaftSnapshot(ctx, sw)
	h.finish(requestID, done, err)
	switch {
	case err == nil && !sw.started:
		sw.start() // an empty snapshot; the storage layer never writes one
	case err != nil && !sw.started:
		h.writeError(w, requestID, err)
	case err != nil:
		h.log.Error("httpapi: raft snapshot failed while streaming; the client gets a truncated body", "request_id", requestID, "bytes_sent", sw.n, "error", err)
		panic(http.ErrAbortHandler)
	}
}

// finish records the outcome in the audit log. The work is done by now,
// so a failure to record it can only be logged.
func (h *Handler) finish(requestID string, done func(error) error, outcome error) {
	if err := done(outcome); err != nil {
		h.log.Error("httpapi: the response of a raft snapshot request could not be audited", "request_id", requestID, "error", err)
	}
}

// snapshotWriter sends the response's status and headers with the first
// byte of the snapshot, so that a failure before it can still be answered
// with a status and an error body.
type snapshotWriter struct {
	w       http.ResponseWriter
	started bool
	n       int64
}

func (s *snapshotWriter) start() {
	s.started = true
	s.w.Header().Set("Content-Type", "application/octet-stream")
	s.w.WriteHeader(http.StatusOK)
}

func (s *snapshotWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.start()
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}
