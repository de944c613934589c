package core

import (
	"context"
	"errors"
	"strings"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/token"
)

// Handle runs one API request through the pipeline: seal check, routing,
// token, existence check, ACL, use count, engine, response wrapping.
//
// req.Path is the full path without "/v1/" ("secret/data/app"). POST and
// PUT arrive as OpUpdate; Handle turns them into OpCreate when the engine's
// existence check says the target is missing. Handle returns (nil, nil) when
// the engine had nothing to answer.
func (c *Core) Handle(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	ad, err := c.admit(ctx, s, req)
	if err != nil {
		return nil, err
	}
	call := ad.call
	resp, err := call.mount.backend.Handle(ctx, ad.req)
	c.spend(ctx, s, ad)
	if err == nil && resp != nil && resp.Login != nil {
		err = c.completeLogin(ctx, s, call, resp)
	}
	if err == nil && resp != nil {
		if resp.MountType == "" {
			resp.MountType = call.mount.entry.Type
		}
		if req.WrapTTL > 0 && resp.Raw == nil && resp.WrapInfo == nil {
			resp, err = c.wrap(ctx, s, req.ID, call.path, req.WrapTTL, resp)
		}
	}
	if aerr := c.auditResponse(ctx, s, call, ad.op, resp, err); aerr != nil {
		return nil, aerr
	}
	return resp, err
}

// admitted is a request that passed every check before its engine.
type admitted struct {
	call *auditCall
	// req is the request as the engine sees it: path relative to the
	// mount, create or update decided, caller filled in.
	req *engine.Request
	// op is the operation the audit entries record.
	op engine.Operation
	// exhausted: the request took the token's last use; spend revokes it.
	exhausted bool
}

// admit runs the steps every request takes before its engine: path
// canonicalization, routing, token, existence check and ACL (prepare),
// the request's audit entry, and the use of a limited token. A request
// refused on the way is recorded with its error; if no audit device can
// record it, it is refused with errAuditFailed.
func (c *Core) admit(ctx context.Context, s *unsealed, req *engine.Request) (*admitted, error) {
	path, err := canonicalPath(req.Path, req.Operation)
	if err != nil {
		return nil, err
	}
	call := &auditCall{req: req, path: path}
	ereq, err := c.prepare(ctx, s, call)
	op := req.Operation
	if ereq != nil {
		op = ereq.Operation
	}
	// Every request that got this far is recorded, refused ones with
	// their error; if no audit device can record it, it is refused.
	if aerr := c.auditRequest(ctx, s, call, op, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	ad := &admitted{call: call, req: ereq, op: op}
	entry := call.token
	// Unauthenticated paths charge no use; wrapping tokens presented to the
	// wrapping endpoints are spent by those endpoints.
	if entry != nil && entry.NumUses > 0 && !ereq.Unauthenticated && !presentsOwnWrapping(entry, path) {
		if ad.exhausted, err = s.tokens.Use(ctx, entry); err != nil {
			return nil, err
		}
	}
	return ad, nil
}

// spend revokes the token of an admitted request that took its last use,
// once the request is done with it.
func (c *Core) spend(ctx context.Context, s *unsealed, ad *admitted) {
	if !ad.exhausted {
		return
	}
	if err := s.tokens.Revoke(ctx, ad.call.token.ID); err != nil {
		c.log.Warn("core: revoke used-up token", "accessor", ad.call.token.Accessor, "error", err)
	}
}

// prepare routes the request, resolves its token, decides create versus
// update and checks the caller's policies. It returns the request the
// engine will get, and fills call's mount and token as it learns them.
func (c *Core) prepare(ctx context.Context, s *unsealed, call *auditCall) (*engine.Request, error) {
	req, path := call.req, call.path
	m, mountPath, routed := s.router.Match(path)
	rel := ""
	sudoPath, unauth := false, false
	if routed {
		call.mount = m
		rel = strings.TrimPrefix(path, mountPath)
		if mountPath == path+"/" {
			rel = ""
		}
		if m.special != nil {
			sudoPath, unauth = m.special.Special(rel, req.Operation)
		}
	}

	entry, err := c.authenticate(ctx, s, req.ClientToken)
	if err == nil && !auth.RemoteIn(req.RemoteAddr, entry.BoundCIDRs) {
		// A token bound to addresses is worth nothing elsewhere.
		entry, err = nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied")
	}
	if err == nil && entry.EntityID != "" && s.identity.Disabled(entry.EntityID) {
		// A disabled entity's tokens are refused until it is enabled again.
		entry, err = nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied: the token's entity is disabled")
	}
	call.token = entry
	if err != nil && !unauth {
		if wrappingSelfPaths[path] && req.Data["token"] == nil {
			// The client token is the wrapping token: say that it is not
			// valid, as Vault's clients expect, rather than forbidden.
			return nil, errBadWrappingToken
		}
		return nil, err
	}
	if !routed {
		if entry != nil && entry.IsRoot() {
			return nil, engine.Errorf(engine.ErrUnsupportedPath, "no handler for route %q. route entry not found.", path)
		}
		return nil, engine.ErrPermissionDenied
	}

	ereq := *req
	ereq.Path = rel
	ereq.MountPath = mountPath
	ereq.Unauthenticated = unauth
	if entry != nil {
		// Engines may need the caller for their existence check (cubbyhole).
		ereq.Caller = newCaller(entry)
	}
	if ereq.Operation == engine.OpUpdate && m.exists != nil {
		found, supported, err := m.exists.Exists(ctx, &ereq)
		if err != nil {
			return nil, err
		}
		if supported && !found {
			ereq.Operation = engine.OpCreate
		}
	}
	if entry != nil {
		if err := c.authorize(s, entry, &ereq, path, sudoPath, unauth); err != nil {
			return &ereq, err
		}
	}
	return &ereq, nil
}

// canonicalPath is the one spelling of a request path that routing, the
// ACL and the engine all see: no "." or ".." segments, and a trailing
// slash on lists (so policies on "secret/metadata/" govern listing it).
func canonicalPath(p string, op engine.Operation) (string, error) {
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "..":
			return "", engine.BadRequest("path cannot contain parent references")
		case ".":
			return "", engine.BadRequest("path cannot contain \".\" segments")
		}
	}
	if op == engine.OpList && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// authenticate looks up the client token. An empty, unknown or expired
// token is permission denied.
func (c *Core) authenticate(ctx context.Context, s *unsealed, raw string) (*token.Entry, error) {
	if raw == "" {
		return nil, engine.ErrPermissionDenied
	}
	e, err := s.tokens.Lookup(ctx, raw)
	if errors.Is(err, token.ErrNotFound) {
		return nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied")
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// wrappingSelfPaths are the endpoints that take a wrapping token as the
// client token and decide themselves what using it means: unwrap and
// rewrap revoke it, lookup leaves it alone.
var wrappingSelfPaths = map[string]bool{
	"sys/wrapping/unwrap": true,
	"sys/wrapping/lookup": true,
	"sys/wrapping/rewrap": true,
}

// presentsOwnWrapping reports whether a wrapping token is presented to one
// of wrappingSelfPaths. The pipeline must not spend its single use then:
// that would revoke it before the endpoint could read the wrapped response.
func presentsOwnWrapping(e *token.Entry, path string) bool {
	return isWrapping(e) && wrappingSelfPaths[path]
}

func newCaller(e *token.Entry) *engine.Caller {
	root := e.IsRoot()
	return &engine.Caller{
		TokenID:     e.ID,
		Accessor:    e.Accessor,
		Policies:    e.Policies,
		EntityID:    e.EntityID,
		DisplayName: e.DisplayName,
		Meta:        e.Meta,
		Root:        root,
		Sudo:        root,
	}
}

// authorize checks the token's policies for the operation on fullPath and
// records on req.Caller whether they grant sudo there. On unauthenticated
// paths a denial is not an error: the engine decides.
func (c *Core) authorize(s *unsealed, e *token.Entry, req *engine.Request, fullPath string, sudoPath, unauth bool) error {
	if req.Caller.Root {
		return nil
	}
	acl, err := s.aclFor(e.Policies, e.EntityID)
	if err != nil {
		return err
	}
	need, ok := capabilityFor(req.Operation)
	if !ok {
		// Help needs some capability on the path, so that it cannot be
		// used to find out which mounts exist.
		if caps := acl.Capabilities(fullPath); unauth || (req.Operation == engine.OpHelp && caps != 0 && !caps.Has(policy.Deny)) {
			return nil
		}
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied")
	}
	res := acl.Allowed(policy.Check{
		Path:     fullPath,
		Op:       need,
		NeedSudo: sudoPath,
		Params:   req.Data,
		WrapTTL:  req.WrapTTL,
	})
	req.Caller.Sudo = res.RootPrivs
	if !res.Allowed && !unauth {
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied")
	}
	if need == policy.Create {
		update := acl.Allowed(policy.Check{Path: fullPath, Op: policy.Update, Params: req.Data, WrapTTL: req.WrapTTL})
		req.CreateOnly = !update.Allowed
	}
	return nil
}

func capabilityFor(op engine.Operation) (policy.Capability, bool) {
	switch op {
	case engine.OpRead:
		return policy.Read, true
	case engine.OpCreate:
		return policy.Create, true
	case engine.OpUpdate:
		return policy.Update, true
	case engine.OpPatch:
		return policy.Patch, true
	case engine.OpDelete:
		return policy.Delete, true
	case engine.OpList:
		return policy.List, true
	}
	return 0, false
}
