package core

import (
	"context"
	"fmt"

	"github.com/wardsec/ward/api"
)

// DevInit initializes and unseals a fresh server in one step, for
// `ward server -dev`: one unseal key share, a KV version 2 engine at
// secret/, and, when rootTokenID is not empty, a root token with that ID.
// It returns the root token and the unseal key (base64).
func (c *Core) DevInit(ctx context.Context, rootTokenID string) (rootToken, unsealKey string, err error) {
	resp, err := c.Init(ctx, api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		return "", "", err
	}
	if _, err := c.Unseal(ctx, resp.KeysBase64[0]); err != nil {
		return "", "", fmt.Errorf("dev init: unseal: %w", err)
	}
	rootToken = resp.RootToken
	if rootTokenID != "" {
		s, err := c.state()
		if err != nil {
			return "", "", err
		}
		if rootToken, err = s.tokens.CreateRootWithID(ctx, rootTokenID); err != nil {
			return "", "", fmt.Errorf("dev init: root token: %w", err)
		}
		if e, err := s.tokens.Lookup(ctx, resp.RootToken); err == nil {
			if err := s.tokens.Revoke(ctx, e.ID); err != nil {
				return "", "", fmt.Errorf("dev init: revoke generated root token: %w", err)
			}
		}
	}
	err = c.EnableMount(ctx, MountEntry{
		Table:       TableMounts,
		Path:        "secret/",
		Type:        "kv",
		Description: "key/value secret storage",
		Options:     map[string]string{"version": "2"},
	})
	if err != nil {
		return "", "", fmt.Errorf("dev init: mount secret/: %w", err)
	}
	return rootToken, resp.KeysBase64[0], nil
}
