package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/token"
)

// The wrapped response lives in the wrapping token's cubbyhole under this
// path, as JSON text, with the creation facts beside it.
const wrapCubbyPath = "response"

// errBadWrappingToken is what every unwrap, lookup or rewrap of a token
// that is not a live wrapping token gets.
var errBadWrappingToken = engine.BadRequest("wrapping token is not valid or does not exist")

// wrap stores resp in the cubbyhole of a new single-use token and returns
// only that token's wrap_info.
func (c *Core) wrap(ctx context.Context, s *unsealed, requestID, path string, ttl time.Duration, resp *engine.Response) (*engine.Response, error) {
	body, err := json.Marshal(resp.Secret(requestID))
	if err != nil {
		return nil, fmt.Errorf("wrap response: %w", err)
	}
	info, err := c.storeWrapped(ctx, s, body, path, ttl)
	if err != nil {
		return nil, err
	}
	if resp.Auth != nil {
		info.WrappedAccessor = resp.Auth.Accessor
	}
	return &engine.Response{WrapInfo: info}, nil
}

func (c *Core) storeWrapped(ctx context.Context, s *unsealed, body []byte, creationPath string, ttl time.Duration) (*api.WrapInfo, error) {
	now := c.opts.Now()
	raw, e, err := s.tokens.Create(ctx, token.CreateParams{
		Policies:    []string{PolicyWrapping},
		Path:        creationPath,
		DisplayName: "response-wrapping",
		TTL:         ttl,
		NumUses:     1,
		Orphan:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("wrap response: create token: %w", err)
	}
	// The token store caps TTLs at the server maximum; report what it gave.
	ttl = e.CreationTTL
	cubby, err := c.cubbyhole(s)
	if err != nil {
		return nil, err
	}
	_, err = cubby.Handle(ctx, &engine.Request{
		Operation: engine.OpCreate,
		Path:      wrapCubbyPath,
		MountPath: "cubbyhole/",
		Caller:    &engine.Caller{TokenID: e.ID},
		Data: map[string]any{
			"response":      string(body),
			"creation_ttl":  int64(ttl / time.Second),
			"creation_time": now.UTC().Format(time.RFC3339Nano),
			"creation_path": creationPath,
		},
	})
	if err != nil {
		_ = s.tokens.Revoke(ctx, e.ID)
		return nil, fmt.Errorf("wrap response: store: %w", err)
	}
	return &api.WrapInfo{
		Token:        raw,
		Accessor:     e.Accessor,
		TTL:          int64(ttl / time.Second),
		CreationTime: now.UTC().Format(time.RFC3339Nano),
		CreationPath: creationPath,
	}, nil
}

func (c *Core) cubbyhole(s *unsealed) (engine.Backend, error) {
	m, ok := s.router.Get("cubbyhole/")
	if !ok {
		return nil, errors.New("core: no cubbyhole mount")
	}
	return m.backend, nil
}

// wrapped is what a wrapping token's cubbyhole holds.
type wrapped struct {
	entry        *token.Entry
	response     string
	creationTTL  int64
	creationTime string
	creationPath string
}

// readWrapped returns the wrapped payload of a live wrapping token. With
// spend, it first spends the token's single use: the token store does that
// atomically, so of all the requests racing for one wrapping token (unwrap,
// rewrap, a legacy read of cubbyhole/response) exactly one gets the payload.
func (c *Core) readWrapped(ctx context.Context, s *unsealed, raw string, spend bool) (*wrapped, error) {
	if raw == "" {
		return nil, &engine.InputError{Field: "token", Rule: "is required"}
	}
	e, err := s.tokens.Lookup(ctx, raw)
	if errors.Is(err, token.ErrNotFound) {
		return nil, errBadWrappingToken
	}
	if err != nil {
		return nil, err
	}
	if !isWrapping(e) {
		return nil, errBadWrappingToken
	}
	if spend {
		if _, err := s.tokens.Use(ctx, e); errors.Is(err, token.ErrNotFound) {
			return nil, errBadWrappingToken
		} else if err != nil {
			return nil, err
		}
	}
	cubby, err := c.cubbyhole(s)
	if err != nil {
		return nil, err
	}
	resp, err := cubby.Handle(ctx, &engine.Request{
		Operation: engine.OpRead,
		Path:      wrapCubbyPath,
		MountPath: "cubbyhole/",
		Caller:    &engine.Caller{TokenID: e.ID},
	})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Data == nil {
		return nil, errBadWrappingToken
	}
	w := &wrapped{entry: e}
	w.response, _ = resp.Data["response"].(string)
	w.creationTime, _ = resp.Data["creation_time"].(string)
	w.creationPath, _ = resp.Data["creation_path"].(string)
	w.creationTTL = toInt64(resp.Data["creation_ttl"])
	return w, nil
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

// Unwrap returns the wrapped response body exactly as it would have been
// sent, and revokes the wrapping token so that it works only once.
func (c *Core) Unwrap(ctx context.Context, raw string) ([]byte, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	w, err := c.readWrapped(ctx, s, raw, true)
	if err != nil {
		return nil, err
	}
	if err := s.tokens.Revoke(ctx, w.entry.ID); err != nil {
		// The token is spent and accepted nowhere; Tidy finishes the job.
		c.log.Warn("core: revoke unwrapped token", "accessor", w.entry.Accessor, "error", err)
	}
	return []byte(w.response), nil
}

// WrapLookup describes a wrapping token without using it.
func (c *Core) WrapLookup(ctx context.Context, raw string) (map[string]any, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	w, err := c.readWrapped(ctx, s, raw, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"creation_path": w.creationPath,
		"creation_time": w.creationTime,
		"creation_ttl":  w.creationTTL,
	}, nil
}

// Rewrap moves a wrapped response to a new wrapping token with the same
// TTL and revokes the old one.
func (c *Core) Rewrap(ctx context.Context, raw string) (*api.WrapInfo, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	w, err := c.readWrapped(ctx, s, raw, true)
	if err != nil {
		return nil, err
	}
	// The old token is spent already; store the new one before revoking it.
	info, err := c.storeWrapped(ctx, s, []byte(w.response), w.creationPath, time.Duration(w.creationTTL)*time.Second)
	if err != nil {
		return nil, err
	}
	if err := s.tokens.Revoke(ctx, w.entry.ID); err != nil {
		c.log.Warn("core: revoke rewrapped token", "accessor", w.entry.Accessor, "error", err)
	}
	return info, nil
}

// isWrapping reports whether e is a response-wrapping token.
func isWrapping(e *token.Entry) bool {
	return len(e.Policies) == 1 && e.Policies[0] == PolicyWrapping
}
