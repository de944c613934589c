package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

type tokenRequest struct {
	Token     string        `json:"token"`
	Increment time.Duration `json:"increment"`
}

type accessorRequest struct {
	Accessor  string        `json:"accessor"`
	Increment time.Duration `json:"increment"`
}

// handleLookup answers lookup {token}; with no token it looks up the
// caller, like lookup-self. An invalid token is a 403 "bad token".
func (s *Store) handleLookup(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[tokenRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Token == "" {
		return s.handleLookupSelf(ctx, req)
	}
	e, err := s.Lookup(ctx, in.Token)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.Errorf(engine.ErrPermissionDenied, "bad token")
	}
	if err != nil {
		return nil, err
	}
	return &engine.Response{Data: s.lookupData(e, in.Token), Warnings: warnings}, nil
}

func (s *Store) handleLookupSelf(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	e, err := s.self(ctx, req)
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(s.lookupData(e, req.ClientToken)), nil
}

// handleLookupAccessor answers lookup-accessor {accessor}; id is "".
func (s *Store) handleLookupAccessor(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[accessorRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, engine.BadRequest("missing accessor")
	}
	e, err := s.LookupAccessor(ctx, in.Accessor)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("invalid accessor")
	}
	if err != nil {
		return nil, err
	}
	return &engine.Response{Data: s.lookupData(e, ""), Warnings: warnings}, nil
}

// handleRenew answers renew {token, increment}.
func (s *Store) handleRenew(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[tokenRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, engine.BadRequest("missing token ID")
	}
	e, err := s.Lookup(ctx, in.Token)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("token not found")
	}
	if err != nil {
		return nil, err
	}
	return s.renewResponse(ctx, e.ID, in.Token, in.Increment, warnings)
}

// handleRenewSelf answers renew-self {increment}. A token that never
// expires is answered with lease_duration 0.
func (s *Store) handleRenewSelf(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[tokenRequest](req.Data)
	if err != nil {
		return nil, err
	}
	e, err := s.self(ctx, req)
	if err != nil {
		return nil, err
	}
	return s.renewResponse(ctx, e.ID, req.ClientToken, in.Increment, warnings)
}

// handleRenewAccessor answers renew-accessor {accessor, increment}; the
// auth block's client_token is "".
func (s *Store) handleRenewAccessor(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[accessorRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, engine.BadRequest("missing accessor")
	}
	e, err := s.LookupAccessor(ctx, in.Accessor)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("invalid accessor")
	}
	if err != nil {
		return nil, err
	}
	return s.renewResponse(ctx, e.ID, "", in.Increment, warnings)
}

func (s *Store) renewResponse(ctx context.Context, id, token string, increment time.Duration, warnings []string) (*engine.Response, error) {
	e, capped, err := s.renew(ctx, id, increment)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("token not found")
	}
	if err != nil {
		return nil, err
	}
	var lease time.Duration
	if !e.ExpireTime.IsZero() {
		lease = e.ExpireTime.Sub(e.LastRenewal).Round(time.Second)
	}
	warnings = append(warnings, capped...)
	return &engine.Response{Auth: authFor(token, e, lease), Warnings: warnings}, nil
}

// handleRevoke answers revoke {token}: the token and its children. An
// unknown token is not an error.
func (s *Store) handleRevoke(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[tokenRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, engine.BadRequest("missing token ID")
	}
	return nil, s.Revoke(ctx, s.idOf(in.Token))
}

func (s *Store) handleRevokeSelf(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Caller == nil || req.Caller.TokenID == "" {
		return nil, errDenied
	}
	return nil, s.Revoke(ctx, req.Caller.TokenID)
}

func (s *Store) handleRevokeAccessor(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[accessorRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Accessor == "" {
		return nil, engine.BadRequest("missing accessor")
	}
	err = s.RevokeAccessor(ctx, in.Accessor)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("invalid accessor")
	}
	return nil, err
}

// handleRevokeOrphan answers revoke-orphan {token}; it needs sudo.
func (s *Store) handleRevokeOrphan(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Caller == nil || !(req.Caller.Sudo || req.Caller.Root) {
		return nil, engine.BadRequest("root or sudo privileges required to revoke and orphan")
	}
	in, _, err := engine.Decode[tokenRequest](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, engine.BadRequest("missing token ID")
	}
	e, err := s.Lookup(ctx, in.Token)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("token to revoke not found")
	}
	if err != nil {
		return nil, err
	}
	err = s.RevokeOrphan(ctx, e.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, engine.BadRequest("token to revoke not found")
	}
	return nil, err
}

// handleAccessors answers LIST accessors.
func (s *Store) handleAccessors(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	if req.Var("rest") != "" {
		return nil, engine.Errorf(engine.ErrUnsupportedPath, "no handler for route %q. route entry not found.", req.MountPath+req.Path)
	}
	keys, err := s.Accessors(ctx)
	if err != nil {
		return nil, err
	}
	return engine.ListResponse(keys), nil
}

// handleTidy runs Tidy now and says how many tokens it revoked. (Vault
// answers 202 and tidies in the background; some clients count 202 as a
// failure, and Ward's tidy is quick.)
func (s *Store) handleTidy(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	n, err := s.Tidy(ctx)
	if err != nil {
		return nil, err
	}
	return &engine.Response{Warnings: []string{fmt.Sprintf("Tidy finished: %d expired or pending tokens revoked.", n)}}, nil
}
