package core

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/token"
)

// auditCall describes one API call for its audit entries. Core fills it
// as the pipeline learns things; the broker HMACs what is secret.
type auditCall struct {
	req   *engine.Request
	path  string
	mount *mount // nil if the path has no mount
	token *token.Entry
}

func (a *auditCall) auth(now time.Time) *audit.Auth {
	e := a.token
	if e == nil {
		return nil
	}
	au := &audit.Auth{
		ClientToken:   a.req.ClientToken,
		Accessor:      e.Accessor,
		DisplayName:   e.DisplayName,
		Policies:      e.Policies,
		TokenPolicies: e.Policies,
		Metadata:      e.Meta,
		EntityID:      e.EntityID,
		TokenType:     e.Type,
		TokenTTL:      int64(e.TTL(now) / time.Second),
	}
	if !e.CreationTime.IsZero() {
		au.TokenIssueTime = e.CreationTime.UTC().Format(time.RFC3339)
	}
	return au
}

func (a *auditCall) request(op engine.Operation) *audit.Request {
	r := &audit.Request{
		ID:          a.req.ID,
		Operation:   string(op),
		ClientToken: a.req.ClientToken,
		Namespace:   audit.Namespace{ID: "root"},
		Path:        a.path,
		Data:        a.req.Data,
		WrapTTL:     int64(a.req.WrapTTL / time.Second),
	}
	if a.token != nil {
		r.ClientTokenAccessor = a.token.Accessor
	}
	if a.mount != nil {
		r.MountPoint = a.mount.entry.RoutePath()
		r.MountType = a.mount.entry.Type
		r.MountAccessor = a.mount.entry.Accessor
	}
	if host, port, err := net.SplitHostPort(a.req.RemoteAddr); err == nil {
		r.RemoteAddress = host
		r.RemotePort, _ = strconv.Atoi(port)
	} else {
		r.RemoteAddress = a.req.RemoteAddr
	}
	return r
}

// auditRequest records the request, with the error that ended it if any.
// It returns errAuditFailed if no device recorded it.
func (c *Core) auditRequest(ctx context.Context, s *unsealed, a *auditCall, op engine.Operation, failure error) error {
	if s.audit.Len() == 0 {
		return nil
	}
	now := c.opts.Now()
	e := &audit.Entry{
		Time:    now.UTC().Format(time.RFC3339Nano),
		Type:    audit.TypeRequest,
		Auth:    a.auth(now),
		Request: a.request(op),
	}
	if failure != nil {
		e.Error = auditErrorText(failure)
	}
	if err := s.audit.Log(ctx, e); err != nil {
		c.log.Error("core: audit request", "request_id", a.req.ID, "error", err)
		return errAuditFailed
	}
	return nil
}

// auditResponse records the answer (or the error) of a request already
// recorded. It returns errAuditFailed if no device recorded it: the caller
// then gets no data.
func (c *Core) auditResponse(ctx context.Context, s *unsealed, a *auditCall, op engine.Operation, resp *engine.Response, failure error) error {
	if s.audit.Len() == 0 {
		return nil
	}
	now := c.opts.Now()
	e := &audit.Entry{
		Time:     now.UTC().Format(time.RFC3339Nano),
		Type:     audit.TypeResponse,
		Auth:     a.auth(now),
		Request:  a.request(op),
		Response: &audit.Response{},
	}
	if a.mount != nil {
		e.Response.MountPoint = a.mount.entry.RoutePath()
		e.Response.MountType = a.mount.entry.Type
		e.Response.MountAccessor = a.mount.entry.Accessor
	}
	if failure != nil {
		e.Error = auditErrorText(failure)
	}
	if resp != nil {
		e.Response.Data = resp.Data
		e.Response.Warnings = resp.Warnings
		e.Response.StatusCode = resp.Status
		e.Response.Auth = auditAuth(resp.Auth)
		if w := resp.WrapInfo; w != nil {
			e.Response.WrapInfo = &audit.WrapInfo{
				TTL: w.TTL, Token: w.Token, Accessor: w.Accessor, CreationTime: w.CreationTime,
				CreationPath: w.CreationPath, WrappedAccessor: w.WrappedAccessor,
			}
		}
		if resp.Raw != nil {
			// A raw body (an unwrapped response) is recorded whole, as one
			// string, so it is HMAC'd like any other value.
			e.Response.StatusCode = resp.Raw.Status
			e.Response.Data = map[string]any{"raw": string(resp.Raw.Body)}
		}
	}
	if err := s.audit.Log(ctx, e); err != nil {
		c.log.Error("core: audit response", "request_id", a.req.ID, "error", err)
		return errAuditFailed
	}
	return nil
}

func auditAuth(a *api.Auth) *audit.Auth {
	if a == nil {
		return nil
	}
	return &audit.Auth{
		ClientToken:   a.ClientToken,
		Accessor:      a.Accessor,
		Policies:      a.Policies,
		TokenPolicies: a.TokenPolicies,
		Metadata:      a.Metadata,
		EntityID:      a.EntityID,
		TokenType:     a.TokenType,
		TokenTTL:      a.LeaseDuration,
	}
}

// auditErrorText is the error as the client sees it; internal errors are
// recorded as such (their text is in the server log, under the request ID).
func auditErrorText(err error) string {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee.Msg
	}
	var ie *engine.InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	for _, kind := range []error{
		engine.ErrPermissionDenied, engine.ErrInvalidRequest, engine.ErrNotFound, engine.ErrUnsupportedPath,
		engine.ErrUnsupportedOperation, engine.ErrTooLarge, engine.ErrSealed, engine.ErrUnavailable,
	} {
		if errors.Is(err, kind) {
			return kind.Error()
		}
	}
	return "internal error"
}
