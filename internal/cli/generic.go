package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "read",
			synopsis: "Read any path",
			usage: `Usage: ward read [flags] PATH [KEY=VALUE...]

  Reads PATH from the server (GET /v1/PATH); KEY=VALUE pairs become query
  parameters. Use it for engines without a dedicated command.

Examples:
  $ ward read sys/mounts
  $ ward read -field=current_version secret/metadata/app/db`,
			run: runRead,
		},
		&command{
			name:     "write",
			synopsis: "Write to any path",
			usage: `Usage: ward write [flags] PATH [KEY=VALUE...]

  Writes to PATH (PUT /v1/PATH). Values are sent as strings, which the
  server converts as needed; "-" sends a JSON object from stdin instead.
  Writing no data at all needs -force.
` + kvValuesHelp + `
Examples:
  $ ward write sys/policies/acl/app policy=@app.hcl
  $ ward write auth/token/create policies=app ttl=1h
  $ ward write -force sys/rotate`,
			run: runWrite,
		},
		&command{
			name:     "list",
			synopsis: "List the keys under any path",
			usage: `Usage: ward list [flags] PATH

  Lists the keys under PATH (GET /v1/PATH?list=true).

Example:
  $ ward list secret/metadata/app`,
			run: runList,
		},
		&command{
			name:     "delete",
			synopsis: "Delete any path",
			usage: `Usage: ward delete [flags] PATH [KEY=VALUE...]

  Deletes PATH (DELETE /v1/PATH); KEY=VALUE pairs become query parameters.

Example:
  $ ward delete sys/policies/acl/app`,
			run: runDelete,
		},
		&command{
			name:     "unwrap",
			synopsis: "Unwrap a response-wrapping token",
			usage: `Usage: ward unwrap [flags] [TOKEN]

  Exchanges a single-use wrapping token for the response it wraps. Without
  TOKEN, the current token (WARD_TOKEN) is taken to be the wrapping token.

Example:
  $ ward unwrap ws.3xGq...`,
			run: runUnwrap,
		},
	)
}

// queryArgs turns KEY=VALUE arguments into query parameters.
func (c *cmd) queryArgs(args []string) (url.Values, bool) {
	data, err := (&dataParser{stdin: c.stdin}).parse(args)
	if err != nil {
		c.code = c.dataError(err)
		return nil, false
	}
	q := url.Values{}
	for k, v := range data {
		if list, ok := v.([]any); ok {
			for _, item := range list {
				q.Add(k, formatValue(item))
			}
			continue
		}
		q.Set(k, formatValue(v))
	}
	return q, true
}

func runRead(c *cmd, args []string) int {
	field := c.fs.String("field", "", "print only this field")
	if !c.parse(args, 1, -1) {
		return c.code
	}
	q, ok := c.queryArgs(c.args[1:])
	if !ok {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	sec, err := cl.ReadWithData(context.Background(), c.args[0], q)
	if err != nil {
		return c.fail(err)
	}
	if sec == nil {
		return c.notFound(c.args[0])
	}
	if *field != "" {
		return c.printField(sec, *field)
	}
	return c.printSecret(sec)
}

func runWrite(c *cmd, args []string) int {
	force := c.fs.Bool("force", false, "allow writing with no data")
	c.fs.BoolVar(force, "f", false, "short for -force")
	field := c.fs.String("field", "", "print only this field of the response")
	if !c.parse(args, 1, -1) {
		return c.code
	}
	data, err := (&dataParser{stdin: c.stdin}).parse(c.args[1:])
	if err != nil {
		return c.dataError(err)
	}
	if len(data) == 0 && !*force {
		return c.usage("no data to write; give KEY=VALUE pairs, or -force to write nothing")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	var body map[string]any
	if len(data) > 0 {
		body = data
	}
	sec, err := cl.Write(context.Background(), c.args[0], body)
	if err != nil {
		return c.fail(err)
	}
	if sec == nil {
		return c.success("Data written to: %s", c.args[0])
	}
	if *field != "" {
		return c.printField(sec, *field)
	}
	return c.printSecret(sec)
}

func runList(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	sec, err := cl.List(context.Background(), c.args[0])
	if err != nil {
		return c.fail(err)
	}
	if c.printWrapped(sec, "") {
		return c.code
	}
	keys, err := client.Keys(sec)
	if err != nil {
		return c.fail(err)
	}
	if len(keys) == 0 {
		return c.notFound(c.args[0])
	}
	c.warnings(sec)
	return c.printKeys(keys)
}

func runDelete(c *cmd, args []string) int {
	if !c.parse(args, 1, -1) {
		return c.code
	}
	q, ok := c.queryArgs(c.args[1:])
	if !ok {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	sec, err := cl.DeleteWithData(context.Background(), c.args[0], q)
	if err != nil {
		return c.fail(err)
	}
	if sec != nil {
		return c.printSecret(sec)
	}
	return c.success("Data deleted (if it existed) at: %s", c.args[0])
}

func runUnwrap(c *cmd, args []string) int {
	field := c.fs.String("field", "", "print only this field")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	tok := ""
	if len(c.args) == 1 {
		tok = c.args[0]
	} else if cl.Token() == "" {
		return c.usage("no TOKEN given and no current token to unwrap")
	}
	sec, err := cl.Unwrap(context.Background(), tok)
	if err != nil {
		return c.fail(err)
	}
	if sec == nil {
		fmt.Fprintln(c.stdout, "The wrapped response was empty.")
		return exitOK
	}
	if *field != "" {
		return c.printField(sec, *field)
	}
	return c.printSecret(sec)
}
