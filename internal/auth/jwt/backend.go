package jwt

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// Factory creates a JWT/OIDC auth method for a mount. The same factory
// serves both mount types, "jwt" and "oidc".
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	return newBackend(env), nil
}

type backend struct {
	*engine.Mux
	env engine.Env

	// mu guards prov, the provider built from the stored config.
	mu   sync.Mutex
	prov *provider
	// roleMu serialises role writes (read, change, write back).
	roleMu sync.Mutex
	// states are the OIDC logins under way.
	states *stateStore
}

func newBackend(env engine.Env) *backend {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Rand == nil {
		env.Rand = rand.Reader
	}
	b := &backend{env: env, states: newStateStore(env.Now)}
	b.Mux = engine.NewMux(
		engine.Path{
			Pattern: "config",
			Summary: "Configure the keys that verify tokens and the OIDC client.",
			Read:    b.readConfig,
			Write:   b.writeConfig,
		},
		engine.Path{
			Pattern: "role",
			Summary: "List the roles.",
			List:    b.listRoles,
		},
		engine.Path{
			Pattern: "role/{name}",
			Summary: "Manage a role: which tokens it accepts and what they get.",
			Read:    b.readRole,
			Write:   b.writeRole,
			Delete:  b.deleteRole,
			Exists:  b.roleExists,
		},
		engine.Path{
			Pattern:         "login",
			Summary:         "Log in with a signed JWT.",
			Write:           b.login,
			Unauthenticated: true,
		},
		engine.Path{
			Pattern:         "oidc/auth_url",
			Summary:         "Start an OIDC login: get the provider's authorization URL.",
			Write:           b.authURL,
			Unauthenticated: true,
		},
		engine.Path{
			Pattern:         "oidc/callback",
			Summary:         "Finish an OIDC login with the provider's authorization code.",
			Read:            b.callback,
			Write:           b.callback,
			Unauthenticated: true,
		},
	)
	return b
}

type loginInput struct {
	Role string `json:"role"`
	JWT  string `json:"jwt"`
}

// login verifies a JWT and applies a "jwt" role to it.
func (b *backend) login(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[loginInput](req.Data)
	if err != nil {
		return nil, err
	}
	p, err := b.provider(ctx)
	if err != nil {
		return nil, err
	}
	name, r, err := b.loginRole(ctx, in.Role, p.cfg)
	if err != nil {
		return nil, err
	}
	if r.RoleType != roleTypeJWT {
		return nil, engine.BadRequest("role with oidc role_type is not allowed")
	}
	if !auth.RemoteIn(req.RemoteAddr, r.Token.BoundCIDRs) {
		return nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied: request originated from an address outside the role's token_bound_cidrs")
	}
	claims, err := p.verify(ctx, in.JWT, r.RoleType)
	if err != nil {
		b.logFailure(name, err)
		return nil, err
	}
	if err := checkClaims(claims, r, expectations{now: b.env.Now(), issuer: p.cfg.BoundIssuer}); err != nil {
		b.logFailure(name, err)
		return nil, err
	}
	return loginResponse(claims, name, r)
}

// loginRole resolves the role a login names, falling back to the
// config's default_role.
func (b *backend) loginRole(ctx context.Context, name string, c *config) (string, *role, error) {
	if name == "" {
		name = c.DefaultRole
	}
	if name == "" {
		return "", nil, engine.BadRequest("missing role")
	}
	// A role name is one path segment, so a name with a slash cannot
	// exist (and would be a key storage refuses).
	if strings.Contains(name, "/") {
		return "", nil, errRoleNotFound
	}
	r, err := b.loadRole(ctx, name)
	if err != nil {
		return "", nil, err
	}
	if r == nil {
		return "", nil, errRoleNotFound
	}
	return name, r, nil
}

// errRoleNotFound answers a login naming a role that does not exist. It
// does not echo the name: the login endpoints are unauthenticated, and a
// caller who pasted a JWT into the role field would find it in the
// response and the audit log.
var errRoleNotFound = engine.BadRequest("role could not be found")

// logFailure records a refused login at debug level: the reason only,
// never the token.
func (b *backend) logFailure(role string, err error) {
	if b.env.Logger != nil {
		b.env.Logger.Debug("jwt login refused", "mount", b.env.MountPath, "role", role, "reason", err.Error())
	}
}
