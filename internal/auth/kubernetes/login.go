package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/wardsec/ward/internal/auth"
	"github.com/wardsec/ward/internal/engine"
)

// maxJWT bounds the jwt accepted at login, in bytes. Service account
// tokens are a few kilobytes.
const maxJWT = 64 << 10

// Alias and token metadata keys, as Vault names them.
const (
	metaName       = "service_account_name"
	metaNamespace  = "service_account_namespace"
	metaUID        = "service_account_uid"
	metaSecretName = "service_account_secret_name"
	metaRole       = "role"
)

type loginInput struct {
	Role string `json:"role"`
	JWT  secret `json:"jwt"`
}

// login authenticates a service account token through the TokenReview API
// and checks it against the role's bindings.
func (b *backend) login(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[loginInput](req.Data)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Role == "":
		return nil, engine.BadRequest("missing role")
	case in.JWT == "":
		return nil, engine.BadRequest("missing jwt")
	case len(in.JWT) > maxJWT:
		return nil, engine.BadRequest("invalid jwt: longer than %d bytes", maxJWT)
	}
	r, err := b.role(ctx, in.Role)
	if err != nil {
		return nil, err
	}
	if r == nil {
		if validRoleName(in.Role) != nil {
			return nil, engine.BadRequest("invalid role name") // do not echo junk (perhaps a token)
		}
		return nil, engine.BadRequest("invalid role name %q", in.Role)
	}
	if !auth.RemoteIn(req.RemoteAddr, r.Token.BoundCIDRs) {
		return nil, engine.Errorf(engine.ErrPermissionDenied, "permission denied: login from %s is outside the role's token_bound_cidrs", hostOf(req.RemoteAddr))
	}
	c, err := b.config(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, engine.BadRequest("kubernetes auth is not configured: write %sconfig first", b.mount)
	}
	jwt := string(in.JWT)
	// The claims are not verified here; the API server verifies the token
	// below, and a token it accepts cannot have been altered.
	cl, clErr := parseClaims(jwt)
	if !c.DisableISSValidation && c.Issuer != "" && (clErr != nil || cl.Issuer != c.Issuer) {
		b.refused(in.Role, "issuer mismatch")
		return nil, engine.Errorf(engine.ErrPermissionDenied, "invalid issuer (iss) claim")
	}

	sa, err := b.review(ctx, c, jwt, r.Audience)
	if err != nil {
		return nil, b.reviewError(in.Role, c, err)
	}
	if r.Audience != "" && !slices.Contains(sa.Audiences, r.Audience) {
		b.refused(in.Role, "audience not in the review's audiences")
		return nil, engine.Errorf(engine.ErrPermissionDenied, "invalid audience (aud) claim: the token is not valid for audience %q", r.Audience)
	}
	if !matches(r.BoundNames, sa.Name) {
		b.refused(in.Role, "service account name not bound", "namespace", sa.Namespace, "service_account", sa.Name)
		return nil, engine.Errorf(engine.ErrPermissionDenied, "service account name not authorized")
	}
	if !matches(r.BoundNamespaces, sa.Namespace) {
		b.refused(in.Role, "namespace not bound", "namespace", sa.Namespace, "service_account", sa.Name)
		return nil, engine.Errorf(engine.ErrPermissionDenied, "namespace not authorized")
	}

	secretName := ""
	if clErr == nil && saNameRE.MatchString(cl.SecretName) && len(cl.SecretName) <= 253 {
		secretName = cl.SecretName // legacy secret-based tokens only
	}
	aliasMeta := map[string]string{
		metaName:       sa.Name,
		metaNamespace:  sa.Namespace,
		metaUID:        sa.UID,
		metaSecretName: secretName,
	}
	tokenMeta := map[string]string{metaRole: in.Role}
	for k, v := range aliasMeta {
		tokenMeta[k] = v
	}
	aliasName := sa.UID
	if r.AliasNameSource == aliasSourceName {
		aliasName = sa.Namespace + "/" + sa.Name
	}
	login := r.Token.Login(engine.Alias{Name: aliasName, Metadata: aliasMeta}, sa.Namespace+"-"+sa.Name, tokenMeta)
	return &engine.Response{Login: login, Warnings: warnings}, nil
}

// review runs one TokenReview for jwt, bounded by the backend's timeout.
// The bearer is the configured reviewer JWT, or the token itself when none
// is configured (the service account then needs permission to create
// TokenReviews, as in Vault).
func (b *backend) review(ctx context.Context, c *config, jwt, audience string) (*serviceAccount, error) {
	client, err := b.httpClient(c)
	if err != nil {
		return nil, err
	}
	bearer := string(c.ReviewerJWT)
	if bearer == "" {
		bearer = jwt
	}
	var audiences []string
	if audience != "" {
		audiences = []string{audience}
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return review(ctx, client, c.Host, bearer, jwt, audiences)
}

// reviewError turns a failed review into the login's error: a refused
// token is 403; a reviewer that cannot be reached is 503 with a message;
// a misconfigured reviewer is a 500 whose text goes to the server log.
// None of the texts holds a token.
func (b *backend) reviewError(roleName string, c *config, err error) error {
	var apiErr *apiError
	switch {
	case errors.Is(err, errNotAuthenticated):
		b.refused(roleName, err.Error())
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied: the Kubernetes API did not authenticate the service account token")
	case errors.Is(err, errNotServiceAccount):
		b.refused(roleName, err.Error())
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied: the token does not belong to a Kubernetes service account")
	case errors.As(err, &apiErr) && apiErr.Code == 401 && c.ReviewerJWT == "":
		// The token itself was the bearer, and the API server rejected it.
		b.refused(roleName, err.Error())
		return engine.Errorf(engine.ErrPermissionDenied, "permission denied: the Kubernetes API did not authenticate the service account token")
	case errors.As(err, &apiErr) && apiErr.Code == 401:
		return fmt.Errorf("kubernetes login: the Kubernetes API rejected token_reviewer_jwt (HTTP 401); write a valid one to %sconfig", b.mount)
	case errors.As(err, &apiErr) && apiErr.Code == 403:
		who := "token_reviewer_jwt's service account"
		if c.ReviewerJWT == "" {
			who = "the logging-in service account (no token_reviewer_jwt is configured)"
		}
		return fmt.Errorf("kubernetes login: %s may not create TokenReviews; bind it to the system:auth-delegator ClusterRole: %w", who, err)
	case errors.As(err, &apiErr) && apiErr.Code >= 500:
		return engine.Errorf(engine.ErrUnavailable, "kubernetes login: the TokenReview API at %s is unavailable: %v", c.Host, err)
	case errors.As(err, &apiErr), errors.Is(err, errMalformedReview):
		return fmt.Errorf("kubernetes login: %w", err)
	}
	// Transport failures: refused connection, TLS, timeout.
	b.log.Warn("kubernetes login: TokenReview API unreachable", "host", c.Host, "error", err)
	return engine.Errorf(engine.ErrUnavailable, "kubernetes login: the TokenReview API at %s is unreachable: %v", c.Host, err)
}

// refused logs a refused login at debug level: role and reason, never a token.
func (b *backend) refused(roleName, reason string, attrs ...any) {
	b.log.Debug("kubernetes login refused", append([]any{"role", roleName, "reason", reason}, attrs...)...)
}

func hostOf(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
