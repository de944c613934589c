package userpass

import (
	"context"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// CheckLogin implements engine.LoginChecker: a token renews only while its
// user exists and grants the same policies.
func (b *backend) CheckLogin(ctx context.Context, l engine.LoginCheck) error {
	u, err := b.loadUser(ctx, l.Metadata["username"])
	if err != nil {
		return err
	}
	var params *auth.TokenParams
	if u != nil {
		params = &u.Token
	}
	return auth.CheckRenewal("user", params, l.Policies)
}
