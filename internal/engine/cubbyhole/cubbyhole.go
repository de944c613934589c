package cubbyhole

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// MaxPathLen is the longest path accepted, in bytes.
const MaxPathLen = 1024

var (
	_ engine.Factory      = Factory
	_ engine.TokenCleaner = (*backend)(nil)
)

// Prefix is the storage folder, relative to the mount, holding the data of
// the token whose Caller.TokenID is tokenID.
func Prefix(tokenID string) string { return tokenID + "/" }

// Factory creates the cubbyhole engine for a mount. It does no I/O.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create cubbyhole engine: no storage")
	}
	b := &backend{store: env.Storage}
	b.Mux = engine.NewMux(engine.Path{
		Pattern: "{path...}",
		Summary: "Read, write, delete and list secrets private to the calling token.",
		Read:    b.read,
		Write:   b.write,
		Delete:  b.delete,
		List:    b.list,
		Exists:  b.exists,
	})
	return b, nil
}

type backend struct {
	*engine.Mux
	store storage.Backend
}

// TokenRevoked removes everything the token stored. Core calls it when the
// token is revoked; a token that stored nothing is not an error.
func (b *backend) TokenRevoked(ctx context.Context, tokenID string) error {
	if !validTokenID(tokenID) {
		return fmt.Errorf("clear cubbyhole: invalid token ID")
	}
	if err := storage.DeletePrefix(ctx, b.store, Prefix(tokenID)); err != nil {
		return fmt.Errorf("clear cubbyhole: %w", err)
	}
	return nil
}

func validTokenID(id string) bool { return id != "" && !strings.Contains(id, "/") }

// view returns the caller's own storage, or permission denied.
func (b *backend) view(req *engine.Request) (storage.Backend, error) {
	if req.Caller == nil || !validTokenID(req.Caller.TokenID) {
		return nil, engine.ErrPermissionDenied
	}
	return storage.Sub(b.store, Prefix(req.Caller.TokenID)), nil
}

func (b *backend) read(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, err := b.view(req)
	if err != nil {
		return nil, err
	}
	p := req.Var("path")
	if p == "" {
		return nil, nil
	}
	if err := validatePath(p); err != nil {
		return nil, err
	}
	raw, err := s.Get(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cubbyhole: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("read cubbyhole: %w", err)
	}
	return engine.DataResponse(data), nil
}

func (b *backend) write(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, err := b.view(req)
	if err != nil {
		return nil, err
	}
	p := req.Var("path")
	if err := validatePath(p); err != nil {
		return nil, err
	}
	if len(req.Data) == 0 {
		return nil, engine.BadRequest("write cubbyhole: missing data fields: the body must be a non-empty JSON object")
	}
	raw, err := json.Marshal(req.Data)
	if err != nil {
		return nil, engine.BadRequest("write cubbyhole: body is not valid JSON data")
	}
	if err := s.Put(ctx, p, raw); err != nil {
		return nil, fmt.Errorf("write cubbyhole: %w", err)
	}
	return nil, nil
}

func (b *backend) delete(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, err := b.view(req)
	if err != nil {
		return nil, err
	}
	p := req.Var("path")
	if err := validatePath(p); err != nil {
		return nil, err
	}
	if err := s.Delete(ctx, p); err != nil {
		return nil, fmt.Errorf("delete cubbyhole: %w", err)
	}
	return nil, nil
}

func (b *backend) list(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	s, err := b.view(req)
	if err != nil {
		return nil, err
	}
	p := req.Var("path")
	if p != "" {
		if !strings.HasSuffix(p, "/") {
			return nil, &engine.InputError{Field: "path", Rule: "a list prefix must end with \"/\""}
		}
		if err := validatePath(strings.TrimSuffix(p, "/")); err != nil {
			return nil, err
		}
	}
	keys, err := s.List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list cubbyhole: %w", err)
	}
	return engine.ListResponse(keys), nil
}

func (b *backend) exists(ctx context.Context, req *engine.Request) (bool, error) {
	s, err := b.view(req)
	if err != nil {
		return false, err
	}
	p := req.Var("path")
	if validatePath(p) != nil {
		return false, nil // the handler reports the bad path
	}
	_, err = s.Get(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check cubbyhole: %w", err)
	}
	return true, nil
}

// validatePath checks a path as KV does: "/"-separated non-empty segments,
// none "." or "..", no control characters, at most MaxPathLen bytes.
func validatePath(p string) error {
	rule := ""
	switch {
	case p == "":
		rule = "a path is required"
	case len(p) > MaxPathLen:
		rule = fmt.Sprintf("longer than %d bytes", MaxPathLen)
	case !utf8.ValidString(p):
		rule = "not valid UTF-8"
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		rule = "must not contain control characters"
	default:
		for seg := range strings.SplitSeq(p, "/") {
			switch seg {
			case "":
				rule = "must not start or end with \"/\" or contain empty segments"
			case ".", "..":
				rule = "path cannot contain parent references"
			}
			if rule != "" {
				break
			}
		}
	}
	if rule == "" {
		return nil
	}
	return &engine.InputError{Field: "path", Rule: rule}
}
