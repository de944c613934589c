package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardsec/ward/api"
)

// ResponseError is the error for every answer with a status of 400 or more.
// Errors holds the server's messages from its {"errors":[...]} body, or the
// raw body text when the body was not that shape.
type ResponseError struct {
	Method     string
	URL        string
	StatusCode int
	Errors     []string
}

// Error reads "code 403 from PUT http://…/v1/secret/data/x: permission denied".
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "code %d from %s %s", e.StatusCode, e.Method, e.URL)
	if len(e.Errors) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Errors, "; "))
	}
	return b.String()
}

// Sealed reports whether the server refused the request because it is
// sealed (or not yet initialized).
func (e *ResponseError) Sealed() bool {
	if e.StatusCode != http.StatusServiceUnavailable {
		return false
	}
	for _, m := range e.Errors {
		if strings.Contains(strings.ToLower(m), "sealed") {
			return true
		}
	}
	return false
}

// StatusCode returns the HTTP status carried by err when it is (or wraps) a
// *ResponseError, and 0 otherwise.
func StatusCode(err error) int {
	var re *ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// ErrNotFound is returned (wrapped, naming the path) by typed helpers when
// the server has nothing at the path. Raw Read, List, Write and Delete
// return a nil secret instead.
var ErrNotFound = errors.New("not found")

// request is one call to /v1/<path>.
type request struct {
	method string
	path   string     // relative to /v1/, without a query
	query  url.Values // may be nil
	body   any        // nil, []byte, or a value to encode as JSON
	header http.Header
}

// response is a fully read answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// RawRequest sends method to /v1/path (path may carry a "?query") with body
// encoded as JSON ([]byte and io.Reader bodies are sent as is) and the extra
// headers. A status under 400 returns the response, whose Body the caller
// must close; 400 or more returns a nil response and a *ResponseError.
func (c *Client) RawRequest(ctx context.Context, method, path string, body any, headers http.Header) (*http.Response, error) {
	p, rawQuery, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("raw request %s: parse query: %w", method, err)
	}
	resp, err := c.send(ctx, &request{method: method, path: p, query: q, body: body, header: headers})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return nil, c.responseError(resp.Request, resp.StatusCode, b)
	}
	return resp, nil
}

// send builds and sends r; the caller closes the response body.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, error) {
	if err := checkToken(c.token); err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	u := *c.base
	u.Path = c.base.Path + "/v1/" + cleanPath(r.path)
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}

	var body io.Reader
	isJSON := false
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		body = b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(enc)
		isJSON = true
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if isJSON && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(api.HeaderRequest, "true")
	req.Header.Set("User-Agent", "ward-client/"+api.Version)
	if c.token != "" && req.Header.Get(api.HeaderToken) == "" {
		req.Header.Set(api.HeaderToken, c.token)
	}
	if c.wrapTTL != "" && req.Header.Get(api.HeaderWrapTTL) == "" {
		req.Header.Set(api.HeaderWrapTTL, c.wrapTTL)
	}
	return c.hc.Do(req)
}

// do sends r and reads the whole answer. Transport failures are errors; any
// HTTP status is returned to the caller to judge.
func (c *Client) do(ctx context.Context, r *request) (*response, *http.Request, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read response: %w", r.method, r.path, err)
	}
	if len(b) > maxResponseBytes {
		return nil, nil, fmt.Errorf("%s %s: response larger than %d bytes", r.method, r.path, maxResponseBytes)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, resp.Request, nil
}

// doOK is do for callers that treat every status of 400 or more as an error.
func (c *Client) doOK(ctx context.Context, r *request) (*response, error) {
	resp, hreq, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status >= 400 {
		return nil, c.responseError(hreq, resp.status, resp.body)
	}
	return resp, nil
}

// doJSON sends r and decodes a successful bare JSON answer into out.
func (c *Client) doJSON(ctx context.Context, r *request, out any) error {
	resp, err := c.doOK(ctx, r)
	if err != nil {
		return err
	}
	if err := decodeJSON(resp.body, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", r.method, r.path, err)
	}
	return nil
}

func (c *Client) responseError(hreq *http.Request, status int, body []byte) *ResponseError {
	e := &ResponseError{StatusCode: status}
	if hreq != nil {
		e.Method = hreq.Method
		e.URL = hreq.URL.Redacted()
	}
	var eb api.ErrorBody
	if err := json.Unmarshal(body, &eb); err == nil && eb.Errors != nil {
		e.Errors = eb.Errors
	} else if t := strings.TrimSpace(string(body)); t != "" {
		e.Errors = []string{t}
	}
	return e
}

// cleanPath drops leading slashes and collapses repeated ones, so that the
// server never has to redirect a request with a body.
func cleanPath(p string) string {
	p = strings.TrimLeft(p, "/")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// decodeJSON decodes b into out keeping numbers as json.Number where out
// holds interface values.
func decodeJSON(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(out)
}

// envelopeKeys are the top-level fields of a logical response.
var envelopeKeys = []string{
	"request_id", "lease_id", "renewable", "lease_duration", "data",
	"wrap_info", "warnings", "auth", "mount_type",
}

// ParseSecret decodes a response body into a Secret, numbers in Data as
// json.Number. An empty body (a 204) or a body that holds only "errors"
// gives nil. A JSON object with none of the envelope fields (a bare sys
// endpoint) becomes the Secret's Data.
func ParseSecret(body []byte) (*api.Secret, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("parse secret: %w", err)
	}
	envelope := false
	for _, k := range envelopeKeys {
		if _, ok := top[k]; ok {
			envelope = true
			break
		}
	}
	if !envelope {
		if _, ok := top["errors"]; ok && len(top) == 1 {
			return nil, nil
		}
		var data map[string]any
		if err := decodeJSON(body, &data); err != nil {
			return nil, fmt.Errorf("parse secret: %w", err)
		}
		return &api.Secret{Data: data}, nil
	}
	var s api.Secret
	if err := decodeJSON(body, &s); err != nil {
		return nil, fmt.Errorf("parse secret: %w", err)
	}
	return &s, nil
}

// DecodeData decodes s.Data into out (a pointer to a struct or map), so
// that typed fields need no type assertions. A nil secret or null data
// leaves out unchanged.
func DecodeData(s *api.Secret, out any) error {
	if s == nil || s.Data == nil {
		return nil
	}
	b, err := json.Marshal(s.Data)
	if err != nil {
		return fmt.Errorf("decode secret data: %w", err)
	}
	if err := decodeJSON(b, out); err != nil {
		return fmt.Errorf("decode secret data: %w", err)
	}
	return nil
}

// Keys returns data.keys of a list response, or nil when s is nil.
func Keys(s *api.Secret) ([]string, error) {
	var d struct {
		Keys []string `json:"keys"`
	}
	if err := DecodeData(s, &d); err != nil {
		return nil, err
	}
	return d.Keys, nil
}
