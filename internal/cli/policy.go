package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/hcl/printer"

	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "policy write",
			synopsis: "Create or replace an ACL policy",
			usage: `Usage: ward policy write [flags] NAME FILE|-

  Uploads the policy in FILE (or stdin for "-") under NAME, replacing any
  policy of that name. Tokens that carry the policy see the change at once.

Example:
  $ cat app.hcl
  path "secret/data/app/*" {
    capabilities = ["read", "list"]
  }
  $ ward policy write app app.hcl`,
			run: runPolicyWrite,
		},
		&command{
			name:     "policy read",
			synopsis: "Print an ACL policy",
			usage: `Usage: ward policy read [flags] NAME

  Prints the rules of the policy NAME.

Example:
  $ ward policy read app`,
			run: runPolicyRead,
		},
		&command{
			name:     "policy list",
			synopsis: "List ACL policies",
			usage: `Usage: ward policy list [flags]

  Lists the names of all policies.

Example:
  $ ward policy list`,
			run: runPolicyList,
		},
		&command{
			name:     "policy delete",
			synopsis: "Delete an ACL policy",
			usage: `Usage: ward policy delete [flags] NAME

  Deletes the policy NAME; tokens that carry it lose what it granted. The
  built-in "root" and "default" policies cannot be deleted.

Example:
  $ ward policy delete app`,
			run: runPolicyDelete,
		},
		&command{
			name:     "policy fmt",
			synopsis: "Reformat a policy file in place",
			usage: `Usage: ward policy fmt FILE

  Rewrites the HCL policy in FILE in canonical formatting. It does not talk
  to a server; it fails, leaving the file alone, if the HCL does not parse.

Example:
  $ ward policy fmt app.hcl`,
			run: runPolicyFmt,
		},
	)
}

func runPolicyWrite(c *cmd, args []string) int {
	if !c.parse(args, 2, 2) {
		return c.code
	}
	name, src := c.args[0], c.args[1]
	var rules []byte
	var err error
	if src == "-" {
		rules, err = (&dataParser{stdin: c.stdin}).readStdin()
	} else {
		rules, err = readFileLimited(src)
	}
	if err != nil {
		return c.failf("read policy: %w", err)
	}
	if strings.TrimSpace(string(rules)) == "" {
		return c.failf("policy %s is empty", src)
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	// A raw write rather than Sys().PutPolicy, to show the server's
	// warnings (such as a name stored in lower case).
	sec, err := cl.Write(context.Background(), "sys/policies/acl/"+strings.Trim(name, "/"), map[string]any{"policy": string(rules)})
	if err != nil {
		return c.fail(fmt.Errorf("write policy %s: %w", name, err))
	}
	c.warnings(sec)
	return c.success("Uploaded policy: %s", name)
}

func runPolicyRead(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	name := c.args[0]
	rules, err := cl.Sys().Policy(context.Background(), name)
	if errors.Is(err, client.ErrNotFound) {
		return c.failf("no policy named %q", name)
	}
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(map[string]string{"name": name, "policy": rules})
	}
	fmt.Fprint(c.stdout, rules)
	if !strings.HasSuffix(rules, "\n") {
		fmt.Fprintln(c.stdout)
	}
	return exitOK
}

func runPolicyList(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	names, err := cl.Sys().ListPolicies(context.Background())
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		if names == nil {
			names = []string{}
		}
		return c.printJSON(names)
	}
	for _, n := range names {
		fmt.Fprintln(c.stdout, n)
	}
	return exitOK
}

func runPolicyDelete(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().DeletePolicy(context.Background(), c.args[0]); err != nil {
		return c.fail(err)
	}
	return c.success("Deleted policy: %s", c.args[0])
}

func runPolicyFmt(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	file := c.args[0]
	src, err := readFileLimited(file)
	if err != nil {
		return c.failf("read policy: %w", err)
	}
	out, err := printer.Format(src)
	if err != nil {
		return c.failf("format %s: %w", file, err)
	}
	if err := replaceFile(file, out); err != nil {
		return c.failf("format %s: %w", file, err)
	}
	return c.success("Formatted policy: %s", file)
}

// replaceFile writes b over name atomically, keeping its permissions.
func replaceFile(name string, b []byte) error {
	info, err := os.Stat(name)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(info.Mode().Perm()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
