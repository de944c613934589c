package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load engine. A run starts one goroutine per unit of concurrency; each
// owns a benchOp (its request templates and buffers) and a latencyHist, so
// the hot path shares nothing but the HTTP transport. Requests go straight
// to an http.Transport (no http.Client: no redirects, no per-request
// timers) with bodies encoded once at setup.

// benchOp performs one operation of a scenario. A worker calls it from one
// goroutine only, so an implementation may keep buffers between calls. An
// error means the operation failed; its message should not vary with the
// key used, so that equal failures collapse into one distinct message.
type benchOp interface {
	do(ctx context.Context) error
}

// benchTarget is one server as the load sees it: the transport, the
// address and the headers every request carries.
type benchTarget struct {
	tr     http.RoundTripper
	base   *url.URL    // scheme, host and any path prefix before /v1/
	header http.Header // shared by all requests, read-only once built
}

// newBenchTarget returns a target at base sending token (none when empty).
func newBenchTarget(tr http.RoundTripper, base *url.URL, token string) *benchTarget {
	h := http.Header{
		"X-Vault-Request": {"true"},
		"User-Agent":      {"ward-bench"},
	}
	if token != "" {
		h["X-Vault-Token"] = []string{token}
	}
	return &benchTarget{tr: tr, base: base, header: h}
}

// withToken returns a copy of t whose requests carry token instead.
func (t *benchTarget) withToken(token string) *benchTarget {
	cp := *t
	cp.header = t.header.Clone()
	cp.header["X-Vault-Token"] = []string{token}
	return &cp
}

// url returns the URL of API path p ("secret/data/k1").
func (t *benchTarget) url(p string) *url.URL {
	u := *t.base
	u.Path = strings.TrimSuffix(t.base.Path, "/") + "/v1/" + p
	return &u
}

// benchRequest is a request built once and sent many times: each send
// copies the template, so the transport never sees a request twice.
type benchRequest struct {
	tmpl http.Request
	body []byte // nil for none
	what string // the operation, for error messages ("kv read")
}

// newBenchRequest builds a template for method on u with body (may be
// nil) and header (shared, read-only).
func newBenchRequest(ctx context.Context, what, method string, u *url.URL, header http.Header, body []byte) *benchRequest {
	r, _ := http.NewRequestWithContext(ctx, method, u.String(), nil)
	r.URL = u
	r.Header = header
	r.ContentLength = int64(len(body))
	if body != nil {
		r.GetBody = func() (io.ReadCloser, error) { return newBenchBody(body), nil }
	}
	return &benchRequest{tmpl: *r, body: body, what: what}
}

// benchBody is a request body over bytes encoded at setup.
type benchBody struct{ bytes.Reader }

func newBenchBody(b []byte) *benchBody {
	bb := &benchBody{}
	bb.Reset(b)
	return bb
}

func (*benchBody) Close() error { return nil }

// maxBenchResponse caps how much of an answer a worker keeps; the rest is
// read and dropped so that the connection can be reused.
const maxBenchResponse = 1 << 20

// send sends r through t and reads the answer into *buf (reused between
// calls). body, when not nil, replaces the template's body for this call;
// the transport may read it after send returns, so the caller must not
// reuse it. A status of 300 or more is an error naming r.what, the status
// and the server's messages.
func (t *benchTarget) send(r *benchRequest, body []byte, buf *[]byte) error {
	req := new(http.Request)
	*req = r.tmpl
	switch {
	case body != nil:
		req.Body = newBenchBody(body)
		req.ContentLength = int64(len(body))
		req.GetBody = nil
	case r.body != nil:
		req.Body = newBenchBody(r.body)
	}
	resp, err := t.tr.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("%s: %w", r.what, err)
	}
	b, err := readBenchBody(resp.Body, (*buf)[:0])
	resp.Body.Close()
	*buf = b
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", r.what, err)
	}
	if resp.StatusCode >= 300 {
		return benchStatusError(r.what, resp.StatusCode, b)
	}
	return nil
}

// readBenchBody reads body into buf, growing it up to maxBenchResponse and
// discarding anything beyond.
func readBenchBody(body io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxBenchResponse {
				_, err := io.Copy(io.Discard, body)
				return buf, err
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// benchStatusError describes a refused request by the server's messages.
func benchStatusError(what string, status int, body []byte) error {
	var eb struct {
		Errors []string `json:"errors"`
	}
	msg := ""
	if json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		msg = strings.Join(eb.Errors, "; ")
	} else {
		msg = strings.TrimSpace(string(body))
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		return fmt.Errorf("%s: HTTP %d", what, status)
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, status, msg)
}

// maxErrorMessages is how many distinct error messages a result keeps.
const maxErrorMessages = 5

// benchStats is what one worker (and, merged, one run) measured.
type benchStats struct {
	hist   latencyHist
	ops    uint64        // successful operations in the measured window
	errors uint64        // failed operations in the measured window
	msgs   []string      // first distinct error messages, at most maxErrorMessages
	last   time.Duration // when the last counted operation ended, from the window start
}

func (s *benchStats) noteError(err error) {
	s.errors++
	s.addMessage(err.Error())
}

// addMessage keeps m unless it is known or enough are kept.
func (s *benchStats) addMessage(m string) {
	if len(s.msgs) >= maxErrorMessages || slices.Contains(s.msgs, m) {
		return
	}
	s.msgs = append(s.msgs, m)
}

func (s *benchStats) merge(o *benchStats) {
	s.hist.merge(&o.hist)
	s.ops += o.ops
	s.errors += o.errors
	s.last = max(s.last, o.last)
	for _, m := range o.msgs {
		s.addMessage(m)
	}
}

// benchLoad says how long and how hard to run.
type benchLoad struct {
	concurrency int
	warmup      time.Duration // run but not counted
	duration    time.Duration // counted
}

// runLoad runs newOp's operations with l.concurrency workers for l.warmup
// plus l.duration and returns the merged statistics of the operations
// started after the warmup. Cancelling ctx stops the run early; the
// operations it interrupted are not counted. The window's length is from
// the end of the warmup to the end of the last counted operation.
func runLoad(ctx context.Context, l benchLoad, newOp func(worker int) benchOp) *benchStats {
	ops := make([]benchOp, l.concurrency)
	for i := range ops {
		ops[i] = newOp(i)
	}
	stats := make([]benchStats, l.concurrency)
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	base := time.Now()
	start, end := l.warmup, l.warmup+l.duration
	var wg sync.WaitGroup
	for i := range ops {
		wg.Add(1)
		go func(op benchOp, s *benchStats) {
			defer wg.Done()
			for !stop.Load() {
				t0 := time.Since(base)
				if t0 >= end {
					return
				}
				err := op.do(ctx)
				t1 := time.Since(base)
				if t0 < start {
					continue
				}
				if err != nil {
					if ctx.Err() != nil {
						return // interrupted, not failed
					}
					s.noteError(err)
				} else {
					s.hist.record(t1 - t0)
					s.ops++
				}
				s.last = t1 - start
			}
		}(ops[i], &stats[i])
	}
	wg.Wait()
	total := &benchStats{}
	for i := range stats {
		total.merge(&stats[i])
	}
	return total
}
