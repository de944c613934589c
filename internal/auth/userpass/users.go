package userpass

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// passwordInput is the password part of a user or password write: a
// password to hash, or a ready-made hash. At most one may be set.
type passwordInput struct {
	Password     *secret `json:"password"`
	PasswordHash *secret `json:"password_hash"`
}

// policiesInput is a users/{username}/policies write.
type policiesInput struct {
	Policies       *[]string `json:"token_policies"`
	LegacyPolicies *[]string `json:"policies"`
}

func (b *backend) userExists(ctx context.Context, req *engine.Request) (bool, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return false, nil
	}
	u, err := b.loadUser(ctx, name)
	return u != nil, err
}

func (b *backend) listUsers(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	keys, err := b.store.List(ctx, userPrefix)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	names := keys[:0]
	for _, k := range keys {
		if !strings.HasSuffix(k, "/") {
			names = append(names, k)
		}
	}
	return engine.ListResponse(names), nil
}

func (b *backend) readUser(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, err
	}
	u, err := b.loadUser(ctx, name)
	if err != nil || u == nil {
		return nil, err
	}
	data := map[string]any{}
	u.Token.Data(data)
	if h, err := parseHash(u.PasswordHash); err == nil {
		data["hash_algorithm"] = h.alg
	}
	return engine.DataResponse(data), nil
}

func (b *backend) deleteUser(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.store.Delete(ctx, userPrefix+name); err != nil {
		return nil, fmt.Errorf("delete user: %w", err)
	}
	b.lockout.reset(name)
	return nil, nil
}

// writeUser creates or updates a user. A create needs a password or a
// password hash; an update changes only what it names.
func (b *backend) writeUser(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, err
	}
	in, tok, warnings, err := decodeWithToken[passwordInput](req.Data)
	if err != nil {
		return nil, err
	}
	newHash, err := b.newHash(ctx, in)
	if err != nil {
		return nil, err
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err != nil {
		return nil, err
	}
	switch {
	case u == nil && newHash == "":
		return nil, engine.BadRequest("create user: missing password (or password_hash)")
	case u == nil:
		u = &user{}
	case req.CreateOnly:
		return nil, engine.ErrCreateOnly
	}
	if err := u.Token.Update(tok); err != nil {
		return nil, err
	}
	if newHash != "" {
		u.setHash(newHash)
	}
	if err := b.saveUser(ctx, name, u); err != nil {
		return nil, err
	}
	if newHash != "" {
		b.lockout.reset(name)
	}
	return warningsOnly(warnings), nil
}

// writePassword sets an existing user's password.
func (b *backend) writePassword(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, err
	}
	in, warnings, err := engine.Decode[passwordInput](req.Data)
	if err != nil {
		return nil, err
	}
	newHash, err := b.newHash(ctx, in)
	if err != nil {
		return nil, err
	}
	if newHash == "" {
		return nil, engine.BadRequest("set password: missing password (or password_hash)")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, engine.BadRequest("set password: user %q does not exist", name)
	}
	u.setHash(newHash)
	if err := b.saveUser(ctx, name, u); err != nil {
		return nil, err
	}
	b.lockout.reset(name)
	return warningsOnly(warnings), nil
}

// writePolicies sets an existing user's token policies.
func (b *backend) writePolicies(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, err
	}
	in, warnings, err := engine.Decode[policiesInput](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Policies == nil && in.LegacyPolicies == nil {
		return nil, engine.BadRequest("set policies: missing token_policies")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, engine.BadRequest("set policies: user %q does not exist", name)
	}
	if err := u.Token.Update(auth.TokenInput{Policies: in.Policies, LegacyPolicies: in.LegacyPolicies}); err != nil {
		return nil, err
	}
	if err := b.saveUser(ctx, name, u); err != nil {
		return nil, err
	}
	return warningsOnly(warnings), nil
}

// newHash returns the hash a write sets: the password hashed with the
// mount's settings, the given hash once checked (well formed, and work
// factors no higher than the mount's settings), or "" when the write
// sets neither.
func (b *backend) newHash(ctx context.Context, in passwordInput) (string, error) {
	switch {
	case in.Password != nil && in.PasswordHash != nil:
		return "", &engine.InputError{Field: "password_hash", Rule: "must not be set together with password"}
	case in.PasswordHash != nil:
		h, err := parseHash(string(*in.PasswordHash))
		if err != nil {
			return "", &engine.InputError{Field: "password_hash", Rule: err.Error()}
		}
		c, err := b.config(ctx)
		if err != nil {
			return "", err
		}
		if err := h.within(c); err != nil {
			return "", &engine.InputError{Field: "password_hash", Rule: err.Error()}
		}
		return string(*in.PasswordHash), nil
	case in.Password != nil:
		c, err := b.config(ctx)
		if err != nil {
			return "", err
		}
		pw := in.Password.bytes()
		defer clear(pw)
		if err := checkPassword(c, pw); err != nil {
			return "", err
		}
		return b.hash(ctx, c, pw)
	}
	return "", nil
}

// setHash gives u a new password hash and clears its stored lock; the
// caller clears the in-memory count once the user is saved. Setting a
// password is how an operator unlocks a user.
func (u *user) setHash(h string) {
	u.PasswordHash = h
	u.LockedUntil = time.Time{}
}
