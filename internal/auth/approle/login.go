package approle

import (
	"context"
	"crypto/subtle"
	"fmt"
	"maps"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// ErrInvalidCredentials is the one answer to every refused login: an
// unknown role ID, a wrong, used-up or expired secret ID, or a client
// address outside the bound CIDRs. It does not say which, so that a
// caller cannot probe for valid role IDs. The reason is logged.
var ErrInvalidCredentials = engine.BadRequest("invalid role or secret ID")

type loginInput struct {
	RoleID   secret `json:"role_id"`
	SecretID secret `json:"secret_id"`
}

func (b *backend) login(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[loginInput](req.Data)
	if err != nil {
		return nil, err
	}
	if in.RoleID == "" {
		return nil, &engine.InputError{Field: "role_id", Rule: "is required"}
	}
	r, err := b.roleByID(ctx, in.RoleID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, b.refuse(req, "", "unknown role ID")
	}
	if !auth.RemoteIn(req.RemoteAddr, r.SecretIDBoundCIDRs) {
		return nil, b.refuse(req, r.Name, "client address outside the role's secret_id_bound_cidrs")
	}
	// The token could not be used from here: refuse before spending a use.
	if !auth.RemoteIn(req.RemoteAddr, r.Token.BoundCIDRs) {
		return nil, b.refuse(req, r.Name, "client address outside the role's token_bound_cidrs")
	}

	meta := map[string]string{}
	tokenCIDRs := r.Token.BoundCIDRs
	if r.BindSecretID {
		if in.SecretID == "" {
			return nil, b.refuse(req, r.Name, "no secret ID")
		}
		e, reason, err := b.useSecretID(ctx, r, in.SecretID, req.RemoteAddr)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, b.refuse(req, r.Name, reason)
		}
		maps.Copy(meta, e.Metadata)
		if len(e.TokenBoundCIDRs) > 0 {
			tokenCIDRs = e.TokenBoundCIDRs
			if !auth.RemoteIn(req.RemoteAddr, tokenCIDRs) {
				return nil, b.refuse(req, r.Name, "client address outside the secret ID's token_bound_cidrs")
			}
		}
	}
	meta["role_name"] = r.Name
	l := r.Token.Login(engine.Alias{
		Name:     string(in.RoleID),
		Metadata: map[string]string{"role_name": r.Name},
	}, r.Name, meta)
	l.BoundCIDRs = append([]string(nil), tokenCIDRs...)
	return &engine.Response{Login: l}, nil
}

// refuse logs why a login failed and returns the uniform error.
func (b *backend) refuse(req *engine.Request, role, reason string) error {
	b.log.Info("approle: login refused", "role", role, "reason", reason, "remote_addr", req.RemoteAddr, "request_id", req.ID)
	return ErrInvalidCredentials
}

// roleByID finds the role whose role ID is id; nil if there is none.
func (b *backend) roleByID(ctx context.Context, id secret) (*role, error) {
	h, err := b.hash(ctx, "role_id", string(id))
	if err != nil {
		return nil, err
	}
	var name string
	found, err := getJSON(ctx, b.store, roleIDPrefix+h, &name)
	if err != nil {
		return nil, fmt.Errorf("read role ID index: %w", err)
	}
	if !found {
		return nil, nil
	}
	r, err := b.role(ctx, name)
	if err != nil || r == nil {
		return nil, err
	}
	// A stale index entry (a role ID changed part way) must not log in.
	if subtle.ConstantTimeCompare([]byte(r.RoleID), []byte(id)) != 1 {
		return nil, nil
	}
	return r, nil
}

// useSecretID spends one use of secret ID s of role r for a login from
// remote. It returns the entry as it was before the use, or nil and the
// reason it may not be used. Uses of one secret ID are serialised: of two
// concurrent logins with a one-use secret ID exactly one gets it. The use
// is stored before the login succeeds; if storing fails, the login fails.
func (b *backend) useSecretID(ctx context.Context, r *role, s secret, remote string) (*secretID, string, error) {
	h, err := b.secretHash(ctx, s)
	if err != nil {
		return nil, "", err
	}
	defer b.secrets.lock(r.UID + "/" + h)()
	var e secretID
	found, err := getJSON(ctx, b.store, secretKey(r.UID, h), &e)
	if err != nil {
		return nil, "", fmt.Errorf("read secret ID: %w", err)
	}
	if !found {
		return nil, "unknown or used-up secret ID", nil
	}
	now := b.now()
	if e.expired(now) {
		if err := b.removeSecretID(ctx, r, h, &e); err != nil {
			return nil, "", err
		}
		return nil, "expired secret ID", nil
	}
	if !auth.RemoteIn(remote, e.CIDRList) {
		return nil, "client address outside the secret ID's cidr_list", nil
	}
	switch {
	case e.NumUses == 1:
		if err := b.removeSecretID(ctx, r, h, &e); err != nil {
			return nil, "", err
		}
	case e.NumUses > 1:
		next := e
		next.NumUses--
		next.Updated = now
		if err := putJSON(ctx, b.store, secretKey(r.UID, h), &next); err != nil {
			return nil, "", fmt.Errorf("write secret ID: %w", err)
		}
	}
	return &e, "", nil
}
