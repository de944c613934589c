package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

func init() {
	register(&command{
		name:     "login",
		synopsis: "Authenticate and save the token for later commands",
		usage: `Usage: ward login [flags] [TOKEN]
       ward login -method=userpass [flags] username=NAME [password=PASSWORD]
       ward login -method=approle [flags] role_id=ID secret_id=ID
       ward login -method=jwt [flags] [role=ROLE] jwt=@token.jwt
       ward login -method=oidc [flags] [role=ROLE]
       ward login -method=kubernetes [flags] role=ROLE [jwt=@FILE]
       ward login -method=cert [flags] [name=CERT_ROLE]

  Authenticates to the server and saves the resulting token in ~/.ward-token
  (mode 0600), where later commands find it. WARD_TOKEN, when set, still
  takes precedence over the saved token.

  With the token method (the default) the token is checked with a lookup
  before it is saved. Without TOKEN, ward prompts for it without echoing
  (or reads a line from stdin when stdin is not a terminal); "-" reads it
  from stdin too.

  With -method=userpass, ward logs in at auth/<path>/login/<username> and
  prompts for the password when it is not given. The other methods write
  their arguments to auth/<path>/login: approle takes role_id and
  secret_id; jwt a JWT (jwt=@file reads it from a file); kubernetes a role
  and the pod's service account token (read from the standard path when
  jwt is not given); cert presents the client certificate named by
  WARD_CLIENT_CERT and WARD_CLIENT_KEY; oidc opens the browser at your
  identity provider and waits for it on a loopback address. -path picks
  the mount when it is not the method's name. No token is needed to log in.

Examples:
  $ ward login
  Token (will be hidden):
  $ ward login -method=userpass username=alice
  $ ward login -method=approle role_id=@role-id secret_id=@secret-id
  $ ward login -method=kubernetes role=payments`,
		run: runLogin,
	})
}

func runLogin(c *cmd, args []string) int {
	method := c.fs.String("method", "token", "auth method: token, userpass, approle, jwt, oidc, kubernetes or cert")
	path := c.fs.String("path", "", "mount path of the auth method (default: the method's name)")
	noStore := c.fs.Bool("no-store", false, "do not save the token; just print it")
	field := c.fs.String("field", "", "print only this field (for example token)")
	if !c.parse(args, 0, -1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	var auth *api.Auth
	switch *method {
	case "token":
		auth, err = c.loginToken(cl)
	case "userpass":
		auth, err = c.loginUserpass(cl, firstNonEmpty(*path, "userpass"))
	case "oidc":
		auth, err = c.loginOIDC(cl, firstNonEmpty(*path, "oidc"))
	default:
		if _, ok := loginMethods[*method]; !ok {
			return c.usage("unknown login method %q; use token, userpass, approle, jwt, oidc, kubernetes or cert", *method)
		}
		auth, err = c.loginWith(cl, *method, firstNonEmpty(*path, *method))
	}
	if err != nil {
		var ue usageErr
		if errors.As(err, &ue) {
			return c.usage("%v", err)
		}
		return c.fail(err)
	}

	if !*noStore {
		if _, err := writeTokenFile(auth.ClientToken); err != nil {
			return c.fail(err)
		}
		if env("TOKEN") != "" {
			fmt.Fprintln(c.stderr, "warning: WARD_TOKEN (or VAULT_TOKEN) is set and takes precedence over the saved token; unset it to use this login")
		}
	}
	if *field != "" {
		return c.printField(&api.Secret{Auth: auth}, *field)
	}
	if c.format == "json" {
		return c.printJSON(&api.Secret{Auth: auth})
	}
	if *noStore {
		fmt.Fprint(c.stdout, "Success! You are authenticated. The token was not saved (-no-store).\n\n")
	} else {
		fmt.Fprint(c.stdout, "Success! You are now authenticated. The token below is saved in ~/.ward-token\nand used by later commands; you do not need to run \"ward login\" again.\n\n")
	}
	kvTable(c.stdout, authRows(auth))
	return exitOK
}

// usageErr marks login errors that are the caller's fault.
type usageErr string

func (e usageErr) Error() string { return string(e) }

func (c *cmd) loginToken(cl *client.Client) (*api.Auth, error) {
	if len(c.args) > 1 {
		return nil, usageErr("the token method takes one TOKEN argument")
	}
	tok := ""
	if len(c.args) == 1 && c.args[0] != "-" {
		tok = c.args[0]
	} else {
		var err error
		if tok, err = c.readSecret("Token (will be hidden): "); err != nil {
			return nil, err
		}
	}
	if tok == "" {
		return nil, usageErr("no token given")
	}
	sec, err := cl.WithToken(tok).WithWrapTTL("").Tokens().LookupSelf(context.Background())
	if client.StatusCode(err) == http.StatusForbidden {
		return nil, withHints(fmt.Errorf("check token: %w", err),
			"the server does not accept this token: check it for typos; it may have expired or been revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	return authFromLookup(tok, sec), nil
}

// authFromLookup builds the auth block a lookup describes.
func authFromLookup(tok string, sec *api.Secret) *api.Auth {
	var d struct {
		Accessor         string            `json:"accessor"`
		Policies         []string          `json:"policies"`
		IdentityPolicies []string          `json:"identity_policies"`
		Meta             map[string]string `json:"meta"`
		TTL              json.Number       `json:"ttl"`
		Renewable        bool              `json:"renewable"`
		EntityID         string            `json:"entity_id"`
		Type             string            `json:"type"`
		Orphan           bool              `json:"orphan"`
	}
	_ = client.DecodeData(sec, &d) // best effort: the token is valid either way
	ttl, _ := d.TTL.Int64()
	return &api.Auth{
		ClientToken:      tok,
		Accessor:         d.Accessor,
		Policies:         d.Policies,
		TokenPolicies:    d.Policies,
		IdentityPolicies: d.IdentityPolicies,
		Metadata:         d.Meta,
		LeaseDuration:    ttl,
		Renewable:        d.Renewable,
		EntityID:         d.EntityID,
		TokenType:        d.Type,
		Orphan:           d.Orphan,
	}
}

func (c *cmd) loginUserpass(cl *client.Client, mount string) (*api.Auth, error) {
	p := &dataParser{stdin: c.stdin}
	data, err := p.parse(c.args)
	var ie inputError
	if errors.As(err, &ie) {
		return nil, err
	}
	if err != nil {
		return nil, usageErr(err.Error())
	}
	user, _ := data["username"].(string)
	if user == "" {
		return nil, usageErr("userpass login needs username=NAME")
	}
	pass, _ := data["password"].(string)
	if pass == "" {
		if pass, err = c.readSecret("Password (will be hidden): "); err != nil {
			return nil, err
		}
	}
	path := "auth/" + strings.Trim(mount, "/") + "/login/" + user
	sec, err := cl.Login(context.Background(), path, map[string]any{"password": pass})
	if err != nil {
		return nil, loginHints(err, "userpass", mount)
	}
	if sec.Auth == nil {
		return nil, fmt.Errorf("login at %s: the response is wrapped; unwrap it with `ward unwrap`", path)
	}
	return sec.Auth, nil
}
