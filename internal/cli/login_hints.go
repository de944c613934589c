package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wardsec/ward/client"
)

// credentialHints say what to check when a method refuses the
// credentials of a login (a 400): the server's message names the rule,
// never the credential, so the hint points at what the user controls.
var credentialHints = map[string]string{
	"userpass": "check the username and password; a wrong password and an unknown user get the same answer",
	"approle": "check role_id and secret_id: a secret ID stops working when its TTL or its uses run out; " +
		"ask whoever manages the role for a new one (`ward write -f auth/<path>/role/<name>/secret-id`)",
	"jwt":        "check role=NAME (or the method's default_role), and compare the JWT's claims (iss, aud, sub, exp, bound claims) with the role: the message names the check that failed",
	"oidc":       "the message names the check that failed; start the login again with `ward login -method=oidc`",
	"kubernetes": "check role=NAME and that jwt= is the pod's service account token",
	"cert":       "set WARD_CLIENT_CERT and WARD_CLIENT_KEY to a certificate that a role of the method trusts, and use an https:// WARD_ADDR",
}

// refusalHints explain a 403 that gives a reason: the method looked at the
// credential and refused it (a service account outside the role, a login
// from outside token_bound_cidrs).
var refusalHints = map[string]string{
	"kubernetes": "the cluster must accept the token (TokenReview), and its service account name and namespace must be bound to the role",
}

const defaultRefusalHint = "the message says why the method refused this login; a login sends no token, so WARD_TOKEN is not the cause"

// loginHints attaches next steps to a login the server refused: a 400 is
// about the credentials; a 403 that says only "permission denied" means
// nothing answers at the login path (a login needs no token), or, for
// userpass, that the username is locked; another 403 gives the method's
// reason. Every 403 gets hints of its own, so that the generic ones about
// the token's policies, which do not apply to a login, are not shown.
func loginHints(err error, method, mount string) error {
	var re *client.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	mount = strings.Trim(mount, "/")
	switch {
	case re.StatusCode == http.StatusBadRequest && credentialHints[method] != "":
		return withHints(err, strings.ReplaceAll(credentialHints[method], "<path>", mount))
	case re.StatusCode == http.StatusForbidden && len(re.Errors) == 1 && re.Errors[0] == "permission denied":
		hints := []string{fmt.Sprintf("is a %s auth method enabled at auth/%s/? `ward auth list` shows the enabled ones; -path picks another", method, mount)}
		if method == "userpass" {
			hints = append([]string{"after repeated failed logins a username is locked for a while (15 minutes by default); " +
				"an operator who sets the user's password again unlocks it"}, hints...)
		}
		return withHints(err, hints...)
	case re.StatusCode == http.StatusForbidden:
		hint := refusalHints[method]
		if hint == "" {
			hint = defaultRefusalHint
		}
		return withHints(err, hint)
	}
	return err
}
