package sys

import (
	"context"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func (b *backend) keyPaths() []engine.Path {
	return []engine.Path{
		{
			Pattern: "rotate",
			Summary: "Add a new barrier key term; new writes use it.",
			Sudo:    true,
			Write:   b.rotate,
		},
		{
			Pattern: "key-status",
			Summary: "Show the active barrier key term.",
			Read:    b.keyStatus,
		},
		{
			Pattern: "seal",
			Summary: "Seal the server: drop every key from memory.",
			Sudo:    true,
			Write:   b.seal,
		},
		{
			Pattern: "capabilities",
			Summary: "Capabilities of a token on paths.",
			Write:   b.capabilities,
		},
		{
			Pattern: "capabilities-self",
			Summary: "Capabilities of the calling token on paths.",
			Write:   b.capabilities,
		},
		{
			Pattern: "capabilities-accessor",
			Summary: "Capabilities of the token with an accessor on paths.",
			Write:   b.capabilities,
		},
	}
}

func (b *backend) rotate(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	return nil, b.core.Rotate(ctx)
}

func (b *backend) keyStatus(context.Context, *engine.Request) (*engine.Response, error) {
	st, err := b.core.KeyStatus()
	if err != nil {
		return nil, err
	}
	return engine.DataResponse(map[string]any{
		"term":         st.Term,
		"install_time": st.InstallTime.UTC().Format(time.RFC3339Nano),
		"encryptions":  st.Encryptions,
	}), nil
}

func (b *backend) seal(context.Context, *engine.Request) (*engine.Response, error) {
	b.core.Seal()
	return nil, nil
}

type capabilitiesInput struct {
	Token    string   `json:"token"`
	Accessor string   `json:"accessor"`
	Paths    []string `json:"paths"`
	Path     []string `json:"path"` // legacy single-path form
}

func (b *backend) capabilities(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[capabilitiesInput](req.Data)
	if err != nil {
		return nil, err
	}
	paths := append(in.Paths, in.Path...)
	if len(paths) == 0 {
		return nil, &engine.InputError{Field: "paths", Rule: "is required"}
	}
	var caps map[string][]string
	switch req.Path {
	case "capabilities-self":
		caps, err = b.core.Capabilities(ctx, req.ClientToken, paths)
	case "capabilities-accessor":
		if in.Accessor == "" {
			return nil, &engine.InputError{Field: "accessor", Rule: "is required"}
		}
		caps, err = b.core.CapabilitiesAccessor(ctx, in.Accessor, paths)
	default:
		if in.Token == "" {
			return nil, &engine.InputError{Field: "token", Rule: "is required"}
		}
		caps, err = b.core.Capabilities(ctx, in.Token, paths)
	}
	if err != nil {
		return nil, err
	}
	data := make(map[string]any, len(caps)+1)
	for p, c := range caps {
		data[p] = c
	}
	if len(paths) == 1 {
		data["capabilities"] = caps[paths[0]]
	}
	return withWarnings(engine.DataResponse(data), warnings), nil
}
