package kubernetes

import (
	"context"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// CheckLogin implements engine.LoginChecker: a token renews only while its
// role exists and grants the same policies.
func (b *backend) CheckLogin(ctx context.Context, l engine.LoginCheck) error {
	r, err := b.role(ctx, l.Metadata["role"])
	if err != nil {
		return err
	}
	var params *auth.TokenParams
	if r != nil {
		params = &r.Token
	}
	return auth.CheckRenewal("role", params, l.Policies)
}
