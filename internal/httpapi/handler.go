package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
)

// Options configures the handler; zero values take the defaults noted.
type Options struct {
	// MaxRequestSize limits request bodies (default 32 MiB); larger is 413.
	MaxRequestSize int64
	// MaxRequestDuration bounds one request (default 90s).
	MaxRequestDuration time.Duration
	Logger             *slog.Logger
	// ForwardTransport carries a standby's requests to the active node
	// (default http.DefaultTransport).
	ForwardTransport http.RoundTripper
}

// DefaultMaxRequestSize is Vault's default body limit.
const DefaultMaxRequestSize = 32 << 20

// Handler serves the Vault HTTP API over c.
type Handler struct {
	core *core.Core
	opts Options
	log  *slog.Logger
}

// New returns the API handler.
func New(c *core.Core, opts Options) *Handler {
	if opts.MaxRequestSize <= 0 {
		opts.MaxRequestSize = DefaultMaxRequestSize
	}
	if opts.MaxRequestDuration <= 0 {
		opts.MaxRequestDuration = 90 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{core: c, opts: opts, log: opts.Logger}
}

// noStore keeps every answer out of caches; shared, net/http only reads it.
var noStore = []string{"no-store"}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = noStore
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErrors(w, http.StatusNotFound)
		return
	}
	path = cleanPath(path)
	if ns := strings.Trim(headerValue(r.Header, api.HeaderNamespace), "/"); ns != "" && ns != "root" {
		writeErrors(w, http.StatusBadRequest, "namespaces are not supported by this server")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.MaxRequestDuration)
	defer cancel()
	r = r.WithContext(ctx)
	if !nodeLocal[path] && h.core.Standby() {
		h.forward(w, r, path)
		return
	}
	h.serveLocal(w, r, path)
}

// serveLocal answers a request on this node.
func (h *Handler) serveLocal(w http.ResponseWriter, r *http.Request, path string) {
	if isSnapshotPath(path) {
		h.serveSnapshot(w, r, path) // streams both ways
		return
	}
	if handled := h.serveLifecycle(w, r, path); handled {
		return
	}
	h.serveLogical(w, r, path)
}

// cleanPath collapses repeated slashes without redirecting, keeping a
// trailing slash (it matters for mount paths and lists).
func cleanPath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return strings.TrimPrefix(p, "/")
}

func (h *Handler) serveLogical(w http.ResponseWriter, r *http.Request, path string) {
	req, err := h.buildRequest(r, path)
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	resp, err := h.core.Handle(r.Context(), req)
	if err != nil {
		h.writeError(w, req.ID, err)
		return
	}
	h.writeResponse(w, req, path, resp)
}

// buildRequest turns the HTTP request into an engine request: operation
// from the method, data from the body or query, token and wrap TTL from
// headers.
func (h *Handler) buildRequest(r *http.Request, path string) (*engine.Request, error) {
	req := &engine.Request{
		ID:          newRequestID(),
		Path:        path,
		ClientToken: clientToken(r),
		RemoteAddr:  r.RemoteAddr,
	}
	if r.TLS != nil {
		req.PeerCertificates = r.TLS.PeerCertificates
	}
	var query url.Values
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		req.Operation = engine.OpRead
		if v := query.Get("list"); v != "" {
			list, err := strconv.ParseBool(v)
			if err != nil {
				return nil, &engine.InputError{Field: "list", Rule: "must be a boolean"}
			}
			if list {
				req.Operation = engine.OpList
			}
		}
	case "LIST":
		req.Operation = engine.OpList
	case http.MethodPost, http.MethodPut:
		req.Operation = engine.OpUpdate
	case http.MethodPatch:
		req.Operation = engine.OpPatch
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/merge-patch+json" {
			return nil, engine.Errorf(engine.ErrUnsupportedMedia, "PATCH requires Content-Type application/merge-patch+json")
		}
	case http.MethodDelete:
		req.Operation = engine.OpDelete
	default:
		return nil, engine.Errorf(engine.ErrUnsupportedOperation, "unsupported method %s", r.Method)
	}
	if v := query.Get("help"); v != "" {
		if help, _ := strconv.ParseBool(v); help {
			req.Operation = engine.OpHelp
		}
	}

	switch req.Operation {
	case engine.OpUpdate, engine.OpPatch:
		data, err := h.readBody(r)
		if err != nil {
			return nil, err
		}
		req.Data = data
	default:
		req.Data = queryData(query)
	}

	if v := headerValue(r.Header, wrapTTLHeader); v != "" {
		ttl, err := engine.ParseDuration(v)
		if err != nil {
			return nil, &engine.InputError{Field: api.HeaderWrapTTL, Rule: err.Error()}
		}
		req.WrapTTL = ttl
	}
	return req, nil
}

// wrapTTLHeader is X-Vault-Wrap-TTL as net/http stores it.
var wrapTTLHeader = http.CanonicalHeaderKey(api.HeaderWrapTTL)

// headerValue is h.Get(name) for a name already canonical, which h.Get
// would canonicalize again on every call.
func headerValue(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// clientToken reads X-Vault-Token, or else an Authorization bearer token.
func clientToken(r *http.Request) string {
	if t := headerValue(r.Header, api.HeaderToken); t != "" {
		return t
	}
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(t)
	}
	return ""
}

// queryData makes query parameters request data; "list" and "help" are
// the transport's own.
func queryData(q url.Values) map[string]any {
	if len(q) == 0 {
		return nil
	}
	data := make(map[string]any, len(q))
	for k, vs := range q {
		if k == "list" || k == "help" || len(vs) == 0 {
			continue
		}
		if len(vs) == 1 {
			data[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		data[k] = list
	}
	return data
}

// readBody decodes a JSON object body (or a form body, as Vault accepts).
// An empty body is no data; anything but an object is a 400.
func (h *Handler) readBody(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.opts.MaxRequestSize))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, engine.Errorf(engine.ErrTooLarge, "request body larger than %d bytes", h.opts.MaxRequestSize)
		}
		return nil, engine.BadRequest("failed to read request body")
	}
	return decodeBody(r.Header.Get("Content-Type"), body)
}

// decodeBody is the request decoder, split out for fuzzing.
func decodeBody(contentType string, body []byte) (map[string]any, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil
	}
	ct, _, _ := strings.Cut(contentType, ";")
	if strings.TrimSpace(ct) == "application/x-www-form-urlencoded" && trimmed[0] != '{' && trimmed[0] != '[' {
		form, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, engine.BadRequest("failed to parse form body")
		}
		return queryData(form), nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, engine.BadRequest("failed to parse JSON input: %s", jsonErrorText(err))
	}
	if dec.More() {
		return nil, engine.BadRequest("failed to parse JSON input: unexpected data after the JSON object")
	}
	return data, nil
}

// jsonErrorText describes a JSON syntax error by position only, never by
// echoing the input (which may hold a secret).
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "invalid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "the body must be a JSON object"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed JSON"
}

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var id [36]byte
	hex.Encode(id[0:8], b[0:4])
	id[8] = '-'
	hex.Encode(id[9:13], b[4:6])
	id[13] = '-'
	hex.Encode(id[14:18], b[6:8])
	id[18] = '-'
	hex.Encode(id[19:23], b[8:10])
	id[23] = '-'
	hex.Encode(id[24:], b[10:])
	return string(id[:])
}
