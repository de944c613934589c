package userpass

import (
	"context"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

var (
	// errInvalidCredentials answers a wrong password, an unknown user and
	// a name no user can have alike (400, as Vault).
	errInvalidCredentials = engine.BadRequest("invalid username or password")
	// errLocked answers a login for a locked username (403, as Vault).
	errLocked = engine.Errorf(engine.ErrPermissionDenied, "permission denied")
	// errBadCIDR answers a right password from outside token_bound_cidrs.
	errBadCIDR = engine.Errorf(engine.ErrPermissionDenied, "permission denied: login request originated from an address outside the user's token_bound_cidrs")
)

type loginInput struct {
	Password *secret `json:"password"`
}

// login checks a password and answers with the user's Login.
func (b *backend) login(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[loginInput](req.Data)
	if err != nil {
		return nil, err
	}
	if in.Password == nil || *in.Password == "" {
		return nil, engine.BadRequest("login: missing password")
	}
	// No user can have a password this long, so the attempt is refused
	// before it can count towards a lock: otherwise a few cheap requests,
	// which need no hashing, would lock any user out.
	if len(*in.Password) > MaxPasswordLen {
		return nil, errPasswordTooLong
	}
	pw := in.Password.bytes()
	defer clear(pw)
	name, err := username(req.Var("username"))
	if err != nil {
		return nil, errInvalidCredentials
	}
	c, err := b.config(ctx)
	if err != nil {
		return nil, err
	}
	now := b.now()
	lockout := !c.DisableLockout
	if lockout {
		if _, locked := b.lockout.locked(name, now, c); locked {
			return nil, errLocked
		}
	}
	u, err := b.loadUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if lockout && u != nil && now.Before(u.LockedUntil) {
		return nil, errLocked
	}

	h, ok, err := b.check(ctx, c, name, u, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		if lockout {
			b.failed(ctx, c, name, u != nil, now)
		}
		return nil, errInvalidCredentials
	}
	b.lockout.reset(name)
	if !u.LockedUntil.IsZero() {
		b.clearLock(ctx, name)
	}
	if !auth.RemoteIn(req.RemoteAddr, u.Token.BoundCIDRs) {
		return nil, errBadCIDR
	}
	if !h.current(c) {
		b.rehash(ctx, c, name, u.PasswordHash, pw)
	}
	login := u.Token.Login(engine.Alias{Name: name}, name, map[string]string{"username": name})
	return &engine.Response{Login: login, Warnings: warnings}, nil
}

// check reports whether pw is u's password. For an unknown user (u nil)
// it checks pw against a dummy hash made with c, so that the answer takes
// as long as for a real user, and reports false.
func (b *backend) check(ctx context.Context, c Config, name string, u *user, pw []byte) (hash, bool, error) {
	if len(pw) > MaxPasswordLen { // login refuses these earlier; never hash one
		return hash{}, false, nil
	}
	if u == nil {
		d, err := b.dummy(ctx, c)
		if err != nil {
			return hash{}, false, err
		}
		_, err = b.verify(ctx, d, pw)
		return hash{}, false, err
	}
	h, err := parseHash(u.PasswordHash)
	if err != nil {
		b.log.Error("userpass: stored password hash is unusable; set the user's password again", "username", name, "error", err)
		return hash{}, false, nil
	}
	ok, err := b.verify(ctx, h, pw)
	return h, ok, err
}

// failed counts a failed login for name. When it locks an existing user,
// the lock is also stored in the user's entry.
func (b *backend) failed(ctx context.Context, c Config, name string, exists bool, now time.Time) {
	until, locked := b.lockout.fail(name, exists, now, c)
	if !locked {
		return
	}
	b.log.Info("userpass: username locked after repeated failed logins", "username", name, "until", until)
	if !exists {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err == nil && u != nil {
		u.LockedUntil = until
		err = b.saveUser(ctx, name, u)
	}
	if err != nil {
		b.log.Warn("userpass: store lockout", "username", name, "error", err)
	}
}

// clearLock removes the stored lock of a user who logged in: one whose
// lock had ended, or who got in while lockout was disabled.
func (b *backend) clearLock(ctx context.Context, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err == nil && u != nil && !u.LockedUntil.IsZero() {
		u.LockedUntil = time.Time{}
		err = b.saveUser(ctx, name, u)
	}
	if err != nil {
		b.log.Warn("userpass: clear lockout", "username", name, "error", err)
	}
}

// rehash stores pw hashed with c's settings in place of old, unless the
// user's hash changed meanwhile or c cannot hash pw (over 72 bytes for
// bcrypt). Failure is logged, not returned: the login stands.
func (b *backend) rehash(ctx context.Context, c Config, name, old string, pw []byte) {
	if checkPassword(c, pw) != nil {
		return
	}
	h, err := b.hash(ctx, c, pw)
	if err != nil {
		b.log.Warn("userpass: rehash password", "username", name, "error", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.loadUser(ctx, name)
	if err == nil && u != nil && u.PasswordHash == old {
		u.PasswordHash = h
		err = b.saveUser(ctx, name, u)
	}
	if err != nil {
		b.log.Warn("userpass: rehash password", "username", name, "error", err)
	}
}
