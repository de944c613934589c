package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "token create",
			synopsis: "Create a token",
			usage: `Usage: ward token create [flags]

  Creates a child of the current token (or, with -orphan, a token without a
  parent, which survives the revocation of yours). Policies default to the
  current token's; a non-root token can only hand out policies it has.

Examples:
  $ ward token create -policy=app -ttl=1h
  $ ward token create -policy=app -field=token      # just the token, for scripts
  $ ward token create -policy=ci -wrap-ttl=5m        # hand over a wrapped token`,
			run: runTokenCreate,
		},
		&command{
			name:     "token lookup",
			synopsis: "Show a token's properties",
			usage: `Usage: ward token lookup [flags] [TOKEN]

  Shows the properties of TOKEN, or of the current token when TOKEN is
  omitted. With -accessor, the argument is an accessor and the token itself
  is not revealed.

Examples:
  $ ward token lookup
  $ ward token lookup -accessor 8BYkz5dr9yiqMrCKhv6gG0Ge`,
			run: runTokenLookup,
		},
		&command{
			name:     "token renew",
			synopsis: "Extend a token's lease",
			usage: `Usage: ward token renew [flags] [TOKEN]

  Renews TOKEN, or the current token when omitted, by -increment (default:
  the token's own TTL). The token's maximum TTL still applies.

Example:
  $ ward token renew -increment=1h`,
			run: runTokenRenew,
		},
		&command{
			name:     "token revoke",
			synopsis: "Revoke a token and its children",
			usage: `Usage: ward token revoke [flags] [TOKEN | ACCESSOR]

  Revokes a token and every token created from it. -self revokes the
  current token; -accessor takes an accessor instead of a token;
  -mode=orphan keeps the children alive as orphans (needs sudo).

Examples:
  $ ward token revoke ws.3xGq...
  $ ward token revoke -accessor 8BYkz5dr9yiqMrCKhv6gG0Ge
  $ ward token revoke -self`,
			run: runTokenRevoke,
		},
		&command{
			name:     "token capabilities",
			synopsis: "Show what a token may do on a path",
			usage: `Usage: ward token capabilities [flags] [TOKEN] PATH

  Prints the capabilities (create, read, update, delete, list, sudo, or
  deny) of TOKEN, or of the current token, on PATH.

Example:
  $ ward token capabilities secret/data/app/db`,
			run: runTokenCapabilities,
		},
	)
}

func runTokenCreate(c *cmd, args []string) int {
	var policies listFlag
	meta := mapFlag{}
	c.fs.Var(&policies, "policy", "policy to attach; repeat or comma-separate for several")
	ttl := c.fs.String("ttl", "", "initial time to live (\"1h\", \"3600\")")
	maxTTL := c.fs.String("explicit-max-ttl", "", "hard limit on the lifetime, across renewals")
	period := c.fs.String("period", "", "make a periodic token renewed by this period (needs sudo)")
	numUses := c.fs.Int("num-uses", 0, "number of uses before the token expires (0: unlimited)")
	name := c.fs.String("display-name", "", "name shown in audit entries and lookups")
	c.fs.Var(meta, "metadata", "KEY=VALUE metadata to attach; repeatable")
	orphan := c.fs.Bool("orphan", false, "create a token with no parent")
	renewable := c.fs.Bool("renewable", true, "allow the token to be renewed")
	noDefault := c.fs.Bool("no-default-policy", false, "do not attach the \"default\" policy")
	typ := c.fs.String("type", "", "token type: service or batch")
	role := c.fs.String("role", "", "create the token under this token role")
	field := c.fs.String("field", "", "print only this field (for example token)")
	if !c.parse(args, 0, 0) {
		return c.code
	}
	for flagName, v := range map[string]string{"ttl": *ttl, "explicit-max-ttl": *maxTTL, "period": *period} {
		if v != "" {
			if _, err := parseDuration(v); err != nil {
				return c.usage("-%s: %v", flagName, err)
			}
		}
	}
	req := &client.TokenRequest{
		Policies:        policies,
		TTL:             *ttl,
		ExplicitMaxTTL:  *maxTTL,
		Period:          *period,
		NumUses:         *numUses,
		DisplayName:     *name,
		Renewable:       renewable,
		NoDefaultPolicy: *noDefault,
		Type:            *typ,
	}
	if len(meta) > 0 {
		req.Metadata = meta
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	var sec *api.Secret
	switch {
	case *role != "":
		req.NoParent = *orphan
		sec, err = cl.Tokens().CreateWithRole(ctx, req, *role)
	case *orphan:
		sec, err = cl.Tokens().CreateOrphan(ctx, req)
	default:
		sec, err = cl.Tokens().Create(ctx, req)
	}
	if err != nil {
		return c.fail(err)
	}
	if *field != "" {
		return c.printField(sec, *field)
	}
	return c.printSecret(sec)
}

func runTokenLookup(c *cmd, args []string) int {
	accessor := c.fs.Bool("accessor", false, "the argument is an accessor, not a token")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	if *accessor && len(c.args) == 0 {
		return c.usage("-accessor needs an ACCESSOR argument")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	var sec *api.Secret
	switch {
	case *accessor:
		sec, err = cl.Tokens().LookupAccessor(ctx, c.args[0])
	case len(c.args) == 1:
		sec, err = cl.Tokens().Lookup(ctx, c.args[0])
	default:
		sec, err = cl.Tokens().LookupSelf(ctx)
	}
	if err != nil {
		return c.fail(err)
	}
	return c.printSecret(sec)
}

func runTokenRenew(c *cmd, args []string) int {
	incr := c.fs.String("increment", "", "requested extension (\"1h\", \"3600\"); default: the token's TTL")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	var d time.Duration
	if *incr != "" {
		var err error
		if d, err = parseDuration(*incr); err != nil {
			return c.usage("-increment: %v", err)
		}
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	var sec *api.Secret
	if len(c.args) == 1 {
		sec, err = cl.Tokens().Renew(ctx, c.args[0], d)
	} else {
		sec, err = cl.Tokens().RenewSelf(ctx, d)
	}
	if err != nil {
		return c.fail(err)
	}
	return c.printSecret(sec)
}

func runTokenRevoke(c *cmd, args []string) int {
	self := c.fs.Bool("self", false, "revoke the current token")
	accessor := c.fs.Bool("accessor", false, "the argument is an accessor, not a token")
	mode := c.fs.String("mode", "", "\"orphan\" keeps the token's children alive")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	switch {
	case *self && len(c.args) > 0:
		return c.usage("-self takes no argument")
	case !*self && len(c.args) == 0:
		return c.usage("give a TOKEN (or ACCESSOR with -accessor), or use -self")
	case *mode != "" && *mode != "orphan":
		return c.usage("unknown -mode %q: the only mode is orphan", *mode)
	case *mode == "orphan" && (*self || *accessor):
		return c.usage("-mode=orphan works only with a TOKEN argument")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	tk := cl.Tokens()
	switch {
	case *self:
		err = tk.RevokeSelf(ctx)
	case *accessor:
		err = tk.RevokeAccessor(ctx, c.args[0])
	case *mode == "orphan":
		err = tk.RevokeOrphan(ctx, c.args[0])
	default:
		err = tk.Revoke(ctx, c.args[0])
	}
	if err != nil {
		return c.fail(err)
	}
	return c.success("Revoked token (if it existed)")
}

func runTokenCapabilities(c *cmd, args []string) int {
	if !c.parse(args, 1, 2) {
		return c.code
	}
	token, path := "", c.args[0]
	if len(c.args) == 2 {
		token, path = c.args[0], c.args[1]
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	caps, err := cl.Sys().Capabilities(context.Background(), token, path)
	if err != nil {
		return c.fail(err)
	}
	sort.Strings(caps)
	if c.format == "json" {
		return c.printJSON(caps)
	}
	fmt.Fprintln(c.stdout, strings.Join(caps, ", "))
	return exitOK
}
