package cli

import (
	"context"
	"strings"
)

func init() {
	register(
		&command{
			name:     "auth enable",
			synopsis: "Enable an auth method",
			usage: `Usage: ward auth enable [flags] TYPE

  Enables an auth method of TYPE at -path, which defaults to TYPE. Its
  endpoints then live under auth/<path>/. Needs sudo. Types: userpass,
  approle, jwt, oidc, kubernetes and cert (the token method is built in, at
  auth/token/). docs/auth.md walks through each.

Examples:
  $ ward auth enable userpass
  $ ward write auth/userpass/users/alice password=@pw.txt token_policies=app
  $ ward auth enable -path=k8s-prod -description="prod cluster" kubernetes`,
			run: runAuthEnable,
		},
		&command{
			name:     "auth disable",
			synopsis: "Disable an auth method and revoke its tokens",
			usage: `Usage: ward auth disable [flags] PATH

  Disables the auth method at PATH, deletes its data and revokes every
  token it issued.

Example:
  $ ward auth disable userpass`,
			run: runAuthDisable,
		},
		&command{
			name:     "auth list",
			synopsis: "List the enabled auth methods",
			usage: `Usage: ward auth list [flags]

  Lists the enabled auth methods. The accessors are what templated policies
  refer to. -detailed adds TTLs, options and IDs.

Example:
  $ ward auth list`,
			run: runAuthList,
		},
	)
}

func runAuthEnable(c *cmd, args []string) int {
	path := c.fs.String("path", "", "where to mount the method (default: TYPE)")
	desc := c.fs.String("description", "", "human-readable description")
	defTTL := c.fs.String("default-lease-ttl", "", "default TTL of tokens issued by this method")
	maxTTL := c.fs.String("max-lease-ttl", "", "maximum TTL of tokens issued by this method")
	local := c.fs.Bool("local", false, "do not replicate this mount")
	opts := mapFlag{}
	c.fs.Var(opts, "options", "KEY=VALUE method option; repeatable")
	if !c.parse(args, 1, 1) {
		return c.code
	}
	in, ok := c.mountInput(c.args[0], *desc, *defTTL, *maxTTL, opts)
	if !ok {
		return c.code
	}
	in.Local = *local
	if len(in.Options) == 0 {
		in.Options = nil
	}
	mount := strings.Trim(firstNonEmpty(*path, c.args[0]), "/") + "/"
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().EnableAuth(context.Background(), mount, in); err != nil {
		return c.fail(err)
	}
	return c.success("Enabled %s auth method at: %s", c.args[0], mount)
}

func runAuthDisable(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	mount := strings.Trim(strings.TrimPrefix(strings.Trim(c.args[0], "/"), "auth/"), "/") + "/"
	if err := cl.Sys().DisableAuth(context.Background(), mount); err != nil {
		return c.fail(err)
	}
	return c.success("Disabled the auth method (if it existed) at: %s", mount)
}

func runAuthList(c *cmd, args []string) int {
	detailed := c.fs.Bool("detailed", false, "show TTLs, options and IDs too")
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	mounts, err := cl.Sys().ListAuth(context.Background())
	if err != nil {
		return c.fail(err)
	}
	return c.printMounts(mounts, *detailed, "auth")
}
