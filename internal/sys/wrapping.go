package sys

import (
	"context"
	"net/http"

	"github.com/wardsec/ward/internal/engine"
)

func (b *backend) wrappingPaths() []engine.Path {
	return []engine.Path{
		{
			Pattern: "wrapping/wrap",
			Summary: "Wrap the request body in a single-use token (needs a wrap TTL).",
			Write:   b.wrap,
		},
		{
			Pattern: "wrapping/unwrap",
			Summary: "Return a wrapped response once and revoke its token.",
			Write:   b.unwrap,
		},
		{
			Pattern:         "wrapping/lookup",
			Summary:         "Show when and where a wrapping token was created, without using it.",
			Unauthenticated: true,
			Write:           b.wrapLookup,
			Read:            b.wrapLookup,
		},
		{
			Pattern: "wrapping/rewrap",
			Summary: "Move a wrapped response to a new wrapping token.",
			Write:   b.rewrap,
		},
	}
}

func (b *backend) wrap(_ context.Context, req *engine.Request) (*engine.Response, error) {
	if req.WrapTTL == 0 {
		return nil, engine.BadRequest("endpoint requires response wrapping to be used")
	}
	if len(req.Data) == 0 {
		return nil, engine.BadRequest("empty request body: nothing to wrap")
	}
	return engine.DataResponse(req.Data), nil
}

type tokenInput struct {
	Token string `json:"token"`
}

// wrappingToken is the token in the body, or else the caller's own.
func wrappingToken(req *engine.Request) (string, []string, error) {
	in, warnings, err := engine.Decode[tokenInput](req.Data)
	if err != nil {
		return "", nil, err
	}
	if in.Token != "" {
		return in.Token, warnings, nil
	}
	return req.ClientToken, warnings, nil
}

func (b *backend) unwrap(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	tok, _, err := wrappingToken(req)
	if err != nil {
		return nil, err
	}
	body, err := b.core.Unwrap(ctx, tok)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return &engine.Response{Raw: &engine.Raw{Status: http.StatusNoContent}}, nil
	}
	return &engine.Response{Raw: &engine.Raw{Status: http.StatusOK, ContentType: "application/json", Body: body}}, nil
}

func (b *backend) wrapLookup(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	tok, warnings, err := wrappingToken(req)
	if err != nil {
		return nil, err
	}
	data, err := b.core.WrapLookup(ctx, tok)
	if err != nil {
		return nil, err
	}
	return withWarnings(engine.DataResponse(data), warnings), nil
}

func (b *backend) rewrap(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	tok, warnings, err := wrappingToken(req)
	if err != nil {
		return nil, err
	}
	info, err := b.core.Rewrap(ctx, tok)
	if err != nil {
		return nil, err
	}
	return withWarnings(&engine.Response{WrapInfo: info}, warnings), nil
}
