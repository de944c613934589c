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

  A server whose configuration has an auto-unseal seal (seal "transit")
  keeps its root key with that seal and unseals itself; init then creates
  -recovery-shares recovery key shares (any -recovery-threshold of them
  authorize generate-root and seal migration) and leaves it unsealed.

  With -status it only reports whether the server is initialized (exit code
  0 if it is, 2 if not).

Examples:
  $ ward operator init -key-shares=5 -key-threshold=3
  $ ward operator init -recovery-shares=5 -recovery-threshold=3`,
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

  After the seal block in the server's configuration changed (Shamir to
  transit, or a transit block marked disabled = true to go back), unseal
  once with -migrate and the old seal's shares: the unseal shares when
  leaving Shamir, the recovery shares when leaving transit. The root key
  is then protected by the new seal, and the shares keep working as
  recovery shares (or as unseal shares again).

Examples:
  $ ward operator unseal
  Unseal Key (will be hidden):
  $ ward operator unseal -migrate`,
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
	recShares := c.fs.Int("recovery-shares", 5, "number of recovery key shares to create (auto-unseal seals)")
	recThreshold := c.fs.Int("recovery-threshold", 3, "number of recovery shares needed to authorize generate-root or a seal migration")
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
		return c.initRecovery(cl, *recShares, *recThreshold)
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

// initRecovery initializes a server with an auto-unseal seal.
func (c *cmd) initRecovery(cl *client.Client, shares, threshold int) int {
	if threshold < 1 || threshold > shares {
		return c.usage("-recovery-threshold must be between 1 and -recovery-shares (got %d of %d)", threshold, shares)
	}
	res, err := cl.Sys().Init(context.Background(), &api.InitRequest{RecoveryShares: shares, RecoveryThreshold: threshold})
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(res)
	}
	for i, k := range res.RecoveryKeysBase64 {
		fmt.Fprintf(c.stdout, "Recovery Key %d: %s\n", i+1, k)
	}
	fmt.Fprintf(c.stdout, "\nInitial Root Token: %s\n\n", res.RootToken)
	fmt.Fprintf(c.stdout, `Ward is initialized with %d recovery key shares and a recovery threshold of %d.
These keys and the root token are shown only once. Give each share to a
different person and keep them apart.

The server's root key is protected by its auto-unseal seal: it is unsealed
now and unseals itself whenever it starts. Recovery keys cannot unseal it;
any %d of them authorize "ward operator generate-root" and a seal migration.
`, shares, threshold, threshold)
	return exitOK
}

func runOperatorUnseal(c *cmd, args []string) int {
	reset := c.fs.Bool("reset", false, "discard the key shares submitted so far")
	migrate := c.fs.Bool("migrate", false, "submit a share of the old seal to migrate to the seal in the server's configuration")
	if !c.parse(args, 0, 1) {
		return c.code
	}
	if *reset && (len(c.args) > 0 || *migrate) {
		return c.usage("-reset takes no KEY and no -migrate")
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
		if *migrate {
			st, err = cl.Sys().UnsealMigrate(ctx, key)
		} else {
			st, err = cl.Sys().Unseal(ctx, key)
		}
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
