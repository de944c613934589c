package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// forwardedHeader marks a request a standby forwarded. A node that gets
// one while it is itself a standby (its view of the active node was
// stale) answers 503 instead of forwarding again, so requests never loop.
const forwardedHeader = "X-Ward-Forwarded"

// nodeLocal are the endpoints every node answers itself, standby or not.
var nodeLocal = map[string]bool{
	"sys/init":              true,
	"sys/seal-status":       true,
	"sys/unseal":            true,
	"sys/health":            true,
	"sys/leader":            true,
	"sys/storage/raft/join": true,
}

// activeWait bounds how long a standby waits for an active node to
// appear (an election, a step up) before answering 503.
const activeWait = 5 * time.Second

// forward sends a standby's request to the active node and copies the
// answer back unchanged: status, headers and body.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(forwardedHeader) != "" {
		writeErrors(w, http.StatusServiceUnavailable, "this node is a standby and the request was already forwarded once; retry")
		return
	}
	addr, err := h.activeAddr(r.Context())
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	target, err := url.Parse(addr)
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxRequestSize)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(forwardedHeader, "1")
		},
		Transport: h.opts.ForwardTransport,
		ErrorLog:  nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeErrors(w, http.StatusRequestEntityTooLarge, "request body too large")
				return
			}
			h.log.Warn("httpapi: forwarding to the active node failed", "active", addr, "error", err)
			writeErrors(w, http.StatusServiceUnavailable, "the active node could not be reached; retry")
		},
	}
	proxy.ServeHTTP(w, r)
}

// activeAddr waits (up to activeWait, or the request's deadline) for the
// cluster to have an active node and returns its API address.
func (h *Handler) activeAddr(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, activeWait)
	defer cancel()
	for {
		addr, err := h.core.ActiveAddr(ctx)
		if err == nil || !errors.Is(err, engine.ErrUnavailable) {
			return addr, err
		}
		if !h.core.Standby() {
			return "", err // this node became active (or sealed) meanwhile
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(25 * time.Millisecond):
		}
	}
}
