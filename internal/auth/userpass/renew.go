package userpass

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// CheckLogin implements engine.LoginChecker: a token renews only while its
// user exists and grants the same policies.
func (b *backend) CheckLogin(ctx context.Context, l engine.LoginCheck) error {
	u, err := b.loadUser(ctx, l.Metadata["username"])
	if err != nil {
		return err
	}
	if u == nil {
		return engine.BadRequest("renew token: the user no longer exists")
	}
	if !u.Token.StillGranted(l.Policies) {
		return engine.BadRequest("renew token: the user's policies have changed; log in again")
	}
	return nil
}
