package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wardsec/ward/api"
)

// Read sends GET /v1/path. It returns (nil, nil) when nothing is at path
// (a 404 whose body is {"errors":[]}); a 404 with error messages, such as
// an unknown route, is a *ResponseError. A 404 that carries data or
// warnings — a deleted KV v2 version, for example — returns that secret
// and no error.
func (c *Client) Read(ctx context.Context, path string) (*api.Secret, error) {
	return c.ReadWithData(ctx, path, nil)
}

// ReadWithData is Read with query parameters (for example version=3).
func (c *Client) ReadWithData(ctx context.Context, path string, query url.Values) (*api.Secret, error) {
	return c.logical(ctx, &request{method: http.MethodGet, path: path, query: query}, true)
}

// List sends GET /v1/path?list=true. The keys are in data.keys (see Keys);
// an empty or missing listing gives (nil, nil).
func (c *Client) List(ctx context.Context, path string) (*api.Secret, error) {
	return c.logical(ctx, &request{method: http.MethodGet, path: path, query: url.Values{"list": {"true"}}}, true)
}

// Write sends PUT /v1/path with data as the JSON body (nil data sends an
// empty body). A 204 answer gives a nil secret. Unlike Read, a 404 is an
// error unless it carries data or warnings.
func (c *Client) Write(ctx context.Context, path string, data map[string]any) (*api.Secret, error) {
	r := &request{method: http.MethodPut, path: path}
	if data != nil {
		r.body = data
	}
	return c.logical(ctx, r, false)
}

// WriteBytes is Write with a body that is already JSON.
func (c *Client) WriteBytes(ctx context.Context, path string, body []byte) (*api.Secret, error) {
	return c.logical(ctx, &request{
		method: http.MethodPut, path: path, body: body,
		header: http.Header{"Content-Type": {"application/json"}},
	}, false)
}

// Delete sends DELETE /v1/path. A 204 answer gives a nil secret; a 404 is
// an error, as for Write.
func (c *Client) Delete(ctx context.Context, path string) (*api.Secret, error) {
	return c.DeleteWithData(ctx, path, nil)
}

// DeleteWithData is Delete with query parameters.
func (c *Client) DeleteWithData(ctx context.Context, path string, query url.Values) (*api.Secret, error) {
	return c.logical(ctx, &request{method: http.MethodDelete, path: path, query: query}, false)
}

// Patch sends PATCH /v1/path with data as a JSON merge patch
// (Content-Type application/merge-patch+json). A server without patch
// support on the path answers 405, which surfaces as a *ResponseError.
func (c *Client) Patch(ctx context.Context, path string, data map[string]any) (*api.Secret, error) {
	return c.logical(ctx, &request{
		method: http.MethodPatch, path: path, body: data,
		header: http.Header{"Content-Type": {"application/merge-patch+json"}},
	}, false)
}

// logical sends r and parses the envelope. A 404 that carries data or
// warnings returns the secret. A plain not-found 404 ({"errors":[]})
// gives (nil, nil) when notFoundNil is set (reads and lists); a 404 with
// error messages ("no handler for route …") is always an error.
func (c *Client) logical(ctx context.Context, r *request, notFoundNil bool) (*api.Secret, error) {
	resp, hreq, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusNotFound {
		s, perr := ParseSecret(resp.body)
		if perr == nil && s != nil && (s.Data != nil || len(s.Warnings) > 0) {
			return s, nil
		}
		re := c.responseError(hreq, resp.status, resp.body)
		if notFoundNil && perr == nil && len(re.Errors) == 0 {
			return nil, nil
		}
		return nil, re
	}
	if resp.status >= 400 {
		return nil, c.responseError(hreq, resp.status, resp.body)
	}
	s, err := ParseSecret(resp.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	return s, nil
}

// call sends r for a typed helper: unlike the raw methods, every status
// of 400 or more, 404 included, is an error.
func (c *Client) call(ctx context.Context, r *request) (*api.Secret, error) {
	resp, err := c.doOK(ctx, r)
	if err != nil {
		return nil, err
	}
	s, err := ParseSecret(resp.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	return s, nil
}

// Unwrap exchanges a response-wrapping token for the response it wraps.
// With token empty, the client's own token is the wrapping token. Otherwise
// token travels in the body when the client has a token of its own, and in
// the header when it has none. A 204 (an empty wrapped response) gives nil.
// Servers that keep wrapped responses in the legacy cubbyhole/response
// location are handled too.
func (c *Client) Unwrap(ctx context.Context, token string) (*api.Secret, error) {
	cc := c.WithWrapTTL("")
	var body any
	switch {
	case token == "":
		token = c.token
	case c.token != "":
		body = map[string]any{"token": token}
	default:
		cc = cc.WithToken(token)
	}
	s, err := cc.logical(ctx, &request{method: http.MethodPut, path: "sys/wrapping/unwrap", body: body}, true)
	if err != nil || s != nil {
		return s, err
	}
	if token == "" {
		return nil, nil
	}
	// Legacy layout: the wrapped response is a JSON string at
	// cubbyhole/response, readable only with the wrapping token.
	old, err := cc.WithToken(token).Read(ctx, "cubbyhole/response")
	if err != nil || old == nil {
		return nil, err
	}
	var d struct {
		Response string `json:"response"`
	}
	if err := DecodeData(old, &d); err != nil {
		return nil, fmt.Errorf("unwrap: %w", err)
	}
	if d.Response == "" {
		return nil, nil
	}
	return ParseSecret([]byte(d.Response))
}
