package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wardsec/ward/api"
)

// Tokens groups the token auth method's endpoints under auth/token/.
type Tokens struct{ c *Client }

// Tokens returns the token helpers.
func (c *Client) Tokens() *Tokens { return &Tokens{c: c} }

// TokenRequest is the body of auth/token/create. Zero fields take the
// server's defaults: the caller's policies plus "default", the mount's
// TTL, renewable.
type TokenRequest struct {
	// ID sets the token string itself; needs root or sudo.
	ID string `json:"id,omitempty"`
	// Policies must be a subset of the caller's unless the caller is root.
	Policies []string `json:"policies,omitempty"`
	// Metadata is attached to the token and shown in audit entries.
	Metadata        map[string]string `json:"meta,omitempty"`
	NoParent        bool              `json:"no_parent,omitempty"`
	NoDefaultPolicy bool              `json:"no_default_policy,omitempty"`
	Renewable       *bool             `json:"renewable,omitempty"`
	// TTL, ExplicitMaxTTL and Period are durations ("1h", "3600").
	TTL            string `json:"ttl,omitempty"`
	ExplicitMaxTTL string `json:"explicit_max_ttl,omitempty"`
	Period         string `json:"period,omitempty"`
	DisplayName    string `json:"display_name,omitempty"`
	NumUses        int    `json:"num_uses,omitempty"`
	// Type is "service" (default) or "batch".
	Type        string `json:"type,omitempty"`
	EntityAlias string `json:"entity_alias,omitempty"`
}

// String describes the request with ID redacted.
func (r *TokenRequest) String() string {
	type plain TokenRequest
	cp := plain(*r)
	if cp.ID != "" {
		cp.ID = "<redacted>"
	}
	return fmt.Sprintf("%+v", cp)
}

// Create creates a child of the client's token. The new token is in the
// returned Secret's Auth.ClientToken.
func (t *Tokens) Create(ctx context.Context, req *TokenRequest) (*api.Secret, error) {
	return t.create(ctx, "auth/token/create", req)
}

// CreateOrphan creates a token with no parent: revoking the caller's token
// leaves it alive.
func (t *Tokens) CreateOrphan(ctx context.Context, req *TokenRequest) (*api.Secret, error) {
	return t.create(ctx, "auth/token/create-orphan", req)
}

// CreateWithRole creates a token under the token role name.
func (t *Tokens) CreateWithRole(ctx context.Context, req *TokenRequest, role string) (*api.Secret, error) {
	return t.create(ctx, "auth/token/create/"+role, req)
}

func (t *Tokens) create(ctx context.Context, path string, req *TokenRequest) (*api.Secret, error) {
	if req == nil {
		req = &TokenRequest{}
	}
	sec, err := t.c.call(ctx, &request{method: http.MethodPost, path: path, body: req})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	if sec == nil || (sec.Auth == nil && sec.WrapInfo == nil) {
		return nil, fmt.Errorf("create token: response has no auth block")
	}
	return sec, nil
}

// LookupSelf describes the client's own token; the fields (policies, ttl,
// expire_time, …) are in the Secret's Data.
func (t *Tokens) LookupSelf(ctx context.Context) (*api.Secret, error) {
	return t.lookup(ctx, &request{method: http.MethodGet, path: "auth/token/lookup-self"})
}

// Lookup describes another token.
func (t *Tokens) Lookup(ctx context.Context, token string) (*api.Secret, error) {
	return t.lookup(ctx, &request{method: http.MethodPost, path: "auth/token/lookup", body: map[string]any{"token": token}})
}

// LookupAccessor describes the token with the given accessor; the token
// itself is not revealed.
func (t *Tokens) LookupAccessor(ctx context.Context, accessor string) (*api.Secret, error) {
	return t.lookup(ctx, &request{method: http.MethodPost, path: "auth/token/lookup-accessor", body: map[string]any{"accessor": accessor}})
}

func (t *Tokens) lookup(ctx context.Context, r *request) (*api.Secret, error) {
	sec, err := t.c.call(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("look up token: %w", ErrNotFound)
	}
	return sec, nil
}

// RenewSelf extends the client's token by increment (0 asks for the
// token's default). The result's Auth carries the new lease duration.
func (t *Tokens) RenewSelf(ctx context.Context, increment time.Duration) (*api.Secret, error) {
	return t.renew(ctx, "auth/token/renew-self", renewBody("", increment))
}

// Renew extends token by increment (0 asks for the token's default).
func (t *Tokens) Renew(ctx context.Context, token string, increment time.Duration) (*api.Secret, error) {
	return t.renew(ctx, "auth/token/renew", renewBody(token, increment))
}

func renewBody(token string, increment time.Duration) map[string]any {
	b := map[string]any{}
	if token != "" {
		b["token"] = token
	}
	if increment > 0 {
		b["increment"] = int64(increment / time.Second)
	}
	return b
}

func (t *Tokens) renew(ctx context.Context, path string, body map[string]any) (*api.Secret, error) {
	sec, err := t.c.call(ctx, &request{method: http.MethodPut, path: path, body: body})
	if err != nil {
		return nil, fmt.Errorf("renew token: %w", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("renew token: empty response")
	}
	return sec, nil
}

// RevokeSelf revokes the client's token and all its children.
func (t *Tokens) RevokeSelf(ctx context.Context) error {
	return t.revoke(ctx, "auth/token/revoke-self", nil)
}

// Revoke revokes token and all its children.
func (t *Tokens) Revoke(ctx context.Context, token string) error {
	return t.revoke(ctx, "auth/token/revoke", map[string]any{"token": token})
}

// RevokeOrphan revokes token but keeps its children, which become orphans.
// Needs sudo.
func (t *Tokens) RevokeOrphan(ctx context.Context, token string) error {
	return t.revoke(ctx, "auth/token/revoke-orphan", map[string]any{"token": token})
}

// RevokeAccessor revokes the token with the given accessor and its
// children.
func (t *Tokens) RevokeAccessor(ctx context.Context, accessor string) error {
	return t.revoke(ctx, "auth/token/revoke-accessor", map[string]any{"accessor": accessor})
}

func (t *Tokens) revoke(ctx context.Context, path string, body map[string]any) error {
	r := &request{method: http.MethodPut, path: path}
	if body != nil {
		r.body = body
	}
	if _, err := t.c.call(ctx, r); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// Login writes data to a login endpoint (for example
// "auth/userpass/login/alice" with {"password": …}) and returns the
// response; the new token is in Auth.ClientToken. Use WithToken to act as
// it. A stale token on the client does not make a login fail.
func (c *Client) Login(ctx context.Context, path string, data map[string]any) (*api.Secret, error) {
	sec, err := c.call(ctx, &request{method: http.MethodPut, path: path, body: data})
	if err != nil {
		return nil, fmt.Errorf("login at %s: %w", path, err)
	}
	if sec == nil || ((sec.Auth == nil || sec.Auth.ClientToken == "") && sec.WrapInfo == nil) {
		return nil, fmt.Errorf("login at %s: response has no client token", path)
	}
	return sec, nil
}
