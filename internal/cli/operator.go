package cli

import (
	"context"
	"fmt"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "operator init",
			synopsis: "Initialize a new server and print its unseal keys and root token",
			usage: `Usage: ward operator init [flags]

  Initializes a new server: creates its root key, splits the unseal key into
  -key-shares shares of which any -key-threshold unseal the server, and
  prints the shares and the initial root token. They are shown only once:
  hand each share to a different person and keep the root token safe.
  The server stays sealed until you run "ward operator unseal".

  With -status it only reports whether the server is initialized (exit code
  0 if it is, 2 if not).

Example:
  $ ward operator init -key-shares=5 -key-threshold=3`,
			run: runOperatorInit,
		},
		&command{
			name:     "operator unseal",
			synopsis: "Submit one unseal key share",
			usage: `Usage: ward operator unseal [flags] [KEY]

  Submits one unseal key share. Repeat with different shares until the
  threshold is reached and the server unseals. Without KEY it prompts for
  the share without echoing it (or reads a line from stdin when stdin is
  not a terminal), which keeps the share out of your shell history.
  -reset discards the shares submitted so far.

Example:
  $ ward operator unseal
  Unseal Key (will be hidden):`,
			run: runOperatorUnseal,
		},
		&command{
			name:     "operator seal",
			synopsis: "Seal the server",
			usage: `Usage: ward operator seal [flags]

  Seals the server: it forgets its key material and refuses requests until
  unsealed again with the key shares. Needs a token with sudo on sys/seal.

Example:
  $ ward operator seal`,
			run: runOperatorSeal,
		},
		&command{
			name:     "operator rotate",
			synopsis: "Rotate the key that encrypts stored data",
			usage: `Usage: ward operator rotate [flags]

  Adds a new encryption key term. New writes use it; data written under
  older terms stays readable. Needs sudo on sys/rotate.

Example:
  $ ward operator rotate`,
			run: runOperatorRotate,
		},
		&command{
			name:     "operator key-status",
			synopsis: "Show the current encryption key term",
			usage: `Usage: ward operator key-status [flags]

  Prints the current encryption key term, when it was installed and how
  many encryptions it has performed.

Example:
  $ ward operator key-status`,
			run: runOperatorKeyStatus,
		},
	)
}

func runOperatorInit(c *cmd, args []string) int {
	shares := c.fs.Int("key-shares", 5, "number of unseal key shares to create")
	threshold := c.fs.Int("key-threshold", 3, "number of shares needed to unseal")
	status := c.fs.Bool("status", false, "only report whether the server is initialized")
	if !c.parse(args, 0, 0) {
		return c.code
	}
	if !*status && (*shares < 1 || *threshold < 1 || *threshold > *shares) {
		return c.usage("-key-threshold must be between 1 and -key-shares (got %d of %d)", *threshold, *shares)
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	if *status {
		ok, err := cl.Sys().InitStatus(ctx)
		if err != nil {
			return c.fail(err)
		}
		if c.format == "json" {
			c.printJSON(api.InitStatus{Initialized: ok})
		} else if ok {
			fmt.Fprintln(c.stdout, "Ward is initialized")
		} else {
			fmt.Fprintln(c.stdout, "Ward is not initialized")
		}
		if !ok {
			return exitUsage
		}
		return exitOK
	}

	st, err := cl.Sys().SealStatus(ctx)
	if err != nil {
		return c.fail(err)
	}
	if st.Initialized {
		return c.fail(withHints(fmt.Errorf("the server at %s is already initialized", c.address),
			"`ward status` shows whether it is sealed; `ward operator unseal` takes the key shares the first init printed"))
	}
	if st.RecoverySeal {
		return c.failf("this server uses auto-unseal with recovery keys, which ward operator init does not support yet")
	}
	res, err := cl.Sys().Init(ctx, &api.InitRequest{SecretShares: *shares, SecretThreshold: *threshold})
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(res)
	}
	for i, k := range res.KeysBase64 {
		fmt.Fprintf(c.stdout, "Unseal Key %d: %s\n", i+1, k)
	}
	fmt.Fprintf(c.stdout, "\nInitial Root Token: %s\n\n", res.RootToken)
	fmt.Fprintf(c.stdout, `Ward is initialized with %d key shares and a key threshold of %d.
These keys and the root token are shown only once. Give each share to a
different person and keep them apart: any %d of them unseal the server.

The server is still sealed. Unseal it by running "ward operator unseal"
%d times, each time with a different share.
`, *shares, *threshold, *threshold, *threshold)
	return exitOK
}

func runOperatorUnseal(c *cmd, args []string) int {
	reset := c.fs.Bool("reset", false, "discard the key shares submitted so far")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	if *reset && len(c.args) > 0 {
		return c.usage("-reset takes no KEY")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	var st *api.SealStatus
	if *reset {
		st, err = cl.Sys().UnsealReset(ctx)
	} else {
		key := ""
		if len(c.args) == 1 {
			key = c.args[0]
		} else if key, err = c.readSecret("Unseal Key (will be hidden): "); err != nil {
			return c.fail(err)
		}
		if key == "" {
			return c.usage("no unseal key given")
		}
		st, err = cl.Sys().Unseal(ctx, key)
	}
	if err != nil {
		return c.fail(err)
	}
	return c.printSealStatus(cl, st)
}

func runOperatorSeal(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().Seal(context.Background()); err != nil {
		return c.fail(err)
	}
	return c.success("Ward is sealed.")
}

func runOperatorRotate(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().Rotate(context.Background()); err != nil {
		return c.fail(err)
	}
	if c.format != "json" {
		fmt.Fprintln(c.stdout, "Success! Rotated key")
		fmt.Fprintln(c.stdout)
	}
	return c.keyStatus(cl.Sys())
}

func runOperatorKeyStatus(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	return c.keyStatus(cl.Sys())
}

func (c *cmd) keyStatus(sys *client.Sys) int {
	ks, err := sys.KeyStatus(context.Background())
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(ks)
	}
	kvTable(c.stdout, [][2]string{
		{"Key Term", fmt.Sprint(ks.Term)},
		{"Install Time", ks.InstallTime},
		{"Encryption Count", fmt.Sprint(ks.Encryptions)},
	})
	return exitOK
}
