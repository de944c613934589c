package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// forwardedHeader marks a request a standby forwarded. A node that gets
// one while it is itself a standby (the sender's view of the active node
// was stale) refuses it with notActiveHeader set instead of forwarding
// again, so requests never loop, and the sender knows the request was not
// executed and may send it elsewhere.
const (
	forwardedHeader = "X-Ward-Forwarded"
	notActiveHeader = "X-Ward-Not-Active"
)

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

// hopHeaders are connection-level headers a proxy must not pass on.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends a standby's request to the active node and copies the
// answer back unchanged: status, headers and body. While the cluster has
// no reachable active node (an election after the active node died), it
// waits up to activeWait and tries again, but only when the request
// certainly was not executed: the connection to the old active node was
// refused, or the node answered that it is not active. A body too large
// to keep for a second attempt (a snapshot restore) streams through once;
// snapshot bodies have no size limit, as on the active node.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, path string) {
	if r.Header.Get(forwardedHeader) != "" {
		w.Header().Set(notActiveHeader, "1")
		writeErrors(w, http.StatusServiceUnavailable, "this node is a standby and the request was already forwarded once; retry")
		return
	}
	var stream io.Reader
	if !isSnapshotPath(path) {
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxRequestSize)
	}
	var body []byte
	if r.ContentLength < 0 || r.ContentLength > maxRetryBody {
		stream = r.Body
	} else {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			h.writeError(w, "", err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	ctx := r.Context()
	deadline := time.Now().Add(activeWait)
	for {
		if !h.core.Standby() {
			// This node became active (or was sealed) meanwhile: serve it.
			if stream == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			h.serveLocal(w, r, path)
			return
		}
		addr, err := h.activeAddr(ctx)
		if err != nil {
			if !h.core.Standby() {
				continue
			}
			h.writeError(w, "", err)
			return
		}
		in := stream
		if in == nil {
			in = bytes.NewReader(body)
		}
		resp, err := h.sendForward(ctx, r, addr, in)
		retry := stream == nil && (notExecuted(err) || (resp != nil && resp.Header.Get(notActiveHeader) != ""))
		if retry && time.Now().Before(deadline) {
			if resp != nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
				h.writeError(w, "", ctx.Err())
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			h.log.Warn("httpapi: forwarding to the active node failed", "active", addr, "error", err)
			writeErrors(w, http.StatusServiceUnavailable, "the active node could not be reached; retry")
			return
		}
		h.copyResponse(w, resp, addr)
		return
	}
}

// maxRetryBody is the largest body a standby keeps in memory so that it
// can send it again after a failover; larger or unsized bodies (snapshot
// restores) stream through once.
const maxRetryBody = 4 << 20

// sendForward makes one attempt at the active node at addr.
func (h *Handler) sendForward(ctx context.Context, r *http.Request, addr string, body io.Reader) (*http.Response, error) {
	out, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimRight(addr, "/")+r.URL.RequestURI(), body)
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
	out.Header.Set(forwardedHeader, "1")
	out.ContentLength = r.ContentLength
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header.Set("X-Forwarded-For", host)
	}
	tr := h.opts.ForwardTransport
	if tr == nil {
		tr = http.DefaultTransport
	}
	return tr.RoundTrip(out)
}

// notExecuted reports whether a failed attempt certainly never reached
// the active node's handler: the connection itself could not be made.
func notExecuted(err error) bool {
	var op *net.OpError
	return err != nil && errors.As(err, &op) && op.Op == "dial"
}

// copyResponse writes resp to w and closes it. An answer the active node
// cut short is cut short here too (the connection is aborted), so a client
// never takes a truncated body, a snapshot say, for a whole one.
func (h *Handler) copyResponse(w http.ResponseWriter, resp *http.Response, addr string) {
	defer resp.Body.Close()
	for _, k := range hopHeaders {
		resp.Header.Del(k)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if n, err := io.Copy(w, resp.Body); err != nil {
		h.log.Warn("httpapi: a forwarded answer was cut short", "active", addr, "bytes", n, "error", err)
		panic(http.ErrAbortHandler)
	}
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
