package cert

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// CheckLogin implements engine.LoginChecker: a token renews only while its
// role exists and grants the same policies.
func (b *backend) CheckLogin(ctx context.Context, l engine.LoginCheck) error {
	r, err := b.loadRole(ctx, l.Metadata["cert_name"])
	if err != nil {
		return err
	}
	if r == nil {
		return engine.BadRequest("renew token: the role no longer exists")
	}
	if !r.Token.StillGranted(l.Policies) {
		return engine.BadRequest("renew token: the role's policies have changed; log in again")
	}
	return nil
}
