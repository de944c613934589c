package core

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// Authorize runs the request pipeline's checks for a request that httpapi
// answers itself rather than through an engine, because its body streams
// (raft snapshots, which can be larger than any response or request body
// the pipeline holds in memory). It takes the steps Handle takes before
// the engine: sealed check (ErrSealed), path and routing, the token
// (permission denied when missing, unknown or expired), the ACL for
// req.Operation on req.Path (sudo where the owning engine marks the path
// root-protected), the request's audit entry (errAuditFailed, a 503, when
// no device can record it) and the use of a limited token.
//
// req is built as for Handle: full path, operation, token, remote address
// and an ID. Its Data goes into the audit entry, so it must not hold the
// streamed body. Paths that an engine declares unauthenticated are
// refused: Authorize is for operations that need a token.
//
// On success the caller does the work and then calls done exactly once
// with its outcome (nil or the error it answers with). done writes the
// response's audit entry, revokes a token whose last use this was, and
// returns errAuditFailed if no device recorded the entry; by then the
// work is done, so the caller can only report it. If the work reloaded
// the node (a snapshot restore does), the entry goes to the devices of
// its new state; if it left the node sealed or a standby (a forced
// restore), no device is open and only the request entry was written.
func (c *Core) Authorize(ctx context.Context, req *engine.Request) (done func(err error) error, err error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	ad, err := c.admit(ctx, s, req)
	if err != nil {
		return nil, err
	}
	done = func(outcome error) error {
		// A restore reloads the node: its token store and audit devices
		// are those of the new unsealed state now, if there is one.
		now := c.active.Load()
		if now == nil {
			c.log.Warn("core: the node sealed or stepped down during the request; its response is not audited", "request_id", req.ID, "path", ad.call.path)
			return nil
		}
		c.spend(ctx, now, ad)
		return c.auditResponse(ctx, now, ad.call, ad.op, nil, outcome)
	}
	if ad.req.Unauthenticated || ad.call.token == nil {
		refused := engine.Errorf(engine.ErrPermissionDenied, "permission denied")
		if aerr := done(refused); aerr != nil {
			return nil, aerr
		}
		return nil, refused
	}
	return done, nil
}
