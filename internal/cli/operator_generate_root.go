package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

func init() {
	register(&command{
		name:     "operator generate-root",
		synopsis: "Make a new root token from a quorum of key shares",
		usage: `Usage: ward operator generate-root [flags] [KEY]

  Makes a new root token when nobody has one, with the key shares: the
  unseal key shares, or the recovery key shares of an auto-unseal server.
  The server must be unsealed. No token is needed; the shares are the
  authority. It takes three steps:

  1. One person starts an attempt:
       ward operator generate-root -init
     This prints a nonce and a one-time password (OTP). Keep the OTP to
     yourself: it is shown only once and is needed to read the new token.
     Give the nonce to the key holders.

  2. Each key holder, until the threshold is reached, runs
       ward operator generate-root -nonce=NONCE
     and types their share at the hidden prompt (or passes it as KEY, or
     pipes it on stdin). The nonce makes sure the share goes to the
     attempt they were told about. At a terminal -nonce may be left out:
     the command then shows the nonce of the attempt in progress before
     asking for the share. The last share prints the encoded token.

  3. Whoever holds the OTP decodes it:
       ward operator generate-root -decode=ENCODED -otp=OTP
     This runs locally and prints the root token.

  -status shows the attempt in progress; -cancel abandons it and discards
  the shares given so far. -generate-otp prints an OTP of the right length
  to pass to -init with -otp, for those who prefer to choose it.

Examples:
  $ ward operator generate-root -init
  $ ward operator generate-root -nonce=2dbd10f1-8528-6246-09e7-82b25b8aba63
  Key share (will be hidden):
  $ ward operator generate-root -decode=IQlYBXk... -otp=5JFQaH76...`,
		run: runOperatorGenerateRoot,
	})
}

// generateRootFlags are the mode flags of operator generate-root.
type generateRootFlags struct {
	init, status, cancel, generateOTP *bool
	decode, otp, nonce                *string
}

func runOperatorGenerateRoot(c *cmd, args []string) int {
	f := generateRootFlags{
		init:        c.fs.Bool("init", false, "start an attempt; prints its nonce and OTP"),
		status:      c.fs.Bool("status", false, "show the attempt in progress"),
		cancel:      c.fs.Bool("cancel", false, "abandon the attempt in progress and discard its shares"),
		generateOTP: c.fs.Bool("generate-otp", false, "print a random OTP to pass to -init with -otp"),
		decode:      c.fs.String("decode", "", "decode this encoded token (\"-\" reads it from stdin); needs -otp"),
		otp:         c.fs.String("otp", "", "with -init: use this OTP instead of a generated one; with -decode: the attempt's OTP"),
		nonce:       c.fs.String("nonce", "", "nonce of the attempt the key share is for"),
	}
	if !c.parse(args, 0, 1) {
		return c.code
	}
	if code, ok := c.checkGenerateRootFlags(f); !ok {
		return code
	}
	if *f.decode != "" {
		return c.decodeRootToken(*f.decode, *f.otp)
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	sys := cl.Sys()
	ctx := context.Background()
	switch {
	case *f.init:
		st, err := sys.GenerateRootInit(ctx, *f.otp)
		if err != nil {
			return c.fail(err)
		}
		return c.printGenerateRootInit(st, *f.otp != "")
	case *f.status:
		st, err := sys.GenerateRootStatus(ctx)
		if err != nil {
			return c.fail(err)
		}
		return c.printGenerateRoot(st, true)
	case *f.cancel:
		if err := sys.GenerateRootCancel(ctx); err != nil {
			return c.fail(err)
		}
		return c.success("Root token generation canceled (if one was in progress).")
	case *f.generateOTP:
		st, err := sys.GenerateRootStatus(ctx)
		if err != nil {
			return c.fail(err)
		}
		otp, err := client.GenerateOTP(st.OTPLength)
		if err != nil {
			return c.fail(err)
		}
		if c.format == "json" {
			return c.printJSON(map[string]any{"otp": otp, "otp_length": len(otp)})
		}
		fmt.Fprintln(c.stdout, otp)
		return exitOK
	}
	return c.provideRootShare(sys, *f.nonce)
}

// checkGenerateRootFlags refuses combinations that make no sense. It
// reports false, with the exit code, after printing the usage error.
func (c *cmd) checkGenerateRootFlags(f generateRootFlags) (int, bool) {
	modes := 0
	for _, on := range []bool{*f.init, *f.status, *f.cancel, *f.generateOTP, c.isSet("decode")} {
		if on {
			modes++
		}
	}
	keyGiven := len(c.args) > 0
	switch {
	case modes > 1:
		return c.usage("choose one of -init, -status, -cancel, -decode and -generate-otp"), false
	case c.isSet("decode") && *f.decode == "":
		return c.usage("-decode needs the encoded token, or \"-\" to read it from stdin"), false
	case *f.decode != "" && *f.otp == "":
		return c.usage("-decode needs -otp, the OTP that -init printed"), false
	case *f.otp != "" && !*f.init && *f.decode == "":
		return c.usage("-otp goes with -init or -decode"), false
	case modes > 0 && (keyGiven || *f.nonce != ""):
		return c.usage("KEY and -nonce are for submitting a key share; leave out the other flags"), false
	case *f.nonce == "" && (keyGiven || !c.stdinIsTerminal()) && modes == 0:
		fmt.Fprintln(c.stderr, "error: -nonce is required when the key share is an argument or comes from stdin")
		fmt.Fprintln(c.stderr, "hint: use the nonce you were given; `ward operator generate-root -status` shows the attempt in progress")
		return exitUsage, false
	}
	return exitOK, true
}

// provideRootShare submits one key share to the attempt in progress.
func (c *cmd) provideRootShare(sys *client.Sys, nonce string) int {
	ctx := context.Background()
	st, err := sys.GenerateRootStatus(ctx)
	if err != nil {
		return c.fail(err)
	}
	if !st.Started {
		return c.fail(withHints(errors.New("no root token generation is in progress"),
			"start one with `ward operator generate-root -init`"))
	}
	if nonce == "" {
		// Only at a terminal prompt (checkGenerateRootFlags): show the
		// nonce so the key holder can compare it with the one they got.
		fmt.Fprintf(c.stderr, "Operation nonce: %s\n", st.Nonce)
		nonce = st.Nonce
	} else if nonce != st.Nonce {
		return c.fail(withHints(fmt.Errorf("the attempt in progress has nonce %s, not %s; your share was not sent", st.Nonce, nonce),
			"check the nonce with whoever started the attempt: it may have been canceled and started again"))
	}
	key := ""
	if len(c.args) == 1 && c.args[0] != "-" {
		key = c.args[0]
	} else if key, err = c.readSecret("Key share (will be hidden): "); err != nil {
		return c.fail(err)
	}
	if key == "" {
		return c.usage("no key share given")
	}
	st, err = sys.GenerateRootUpdate(ctx, key, nonce)
	if err != nil {
		return c.fail(err)
	}
	return c.printGenerateRoot(st, true)
}

func (c *cmd) decodeRootToken(encoded, otp string) int {
	if encoded == "-" {
		var err error
		if encoded, err = c.readSecret("Encoded token (will be hidden): "); err != nil {
			return c.fail(err)
		}
	}
	tok, err := client.DecodeRootToken(encoded, otp)
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(map[string]string{"token": tok})
	}
	fmt.Fprintln(c.stdout, tok)
	return exitOK
}

func (c *cmd) printGenerateRootInit(st *api.GenerateRootStatus, ownOTP bool) int {
	if code := c.printGenerateRoot(st, false); code != exitOK || c.format == "json" {
		return code
	}
	fmt.Fprintln(c.stdout)
	if !ownOTP {
		fmt.Fprintln(c.stdout, `The OTP above was generated for this attempt and is not shown again. Keep
it to yourself: with it, the encoded token becomes the root token.`)
		fmt.Fprintln(c.stdout)
	}
	fmt.Fprintf(c.stdout, `Give the nonce to the key holders: %d different ones must each run
  ward operator generate-root -nonce=%s
and enter their key share. The last one gets the encoded token; whoever
holds the OTP decodes it with
  ward operator generate-root -decode=ENCODED -otp=OTP
`, st.Required, st.Nonce)
	return exitOK
}

// printGenerateRoot prints an attempt's status. With next it adds what to
// do next: how to decode a completed attempt's token, or how many shares
// an unfinished one still needs.
func (c *cmd) printGenerateRoot(st *api.GenerateRootStatus, next bool) int {
	if c.format == "json" {
		return c.printJSON(st)
	}
	rows := [][2]string{
		{"Nonce", st.Nonce},
		{"Started", fmt.Sprint(st.Started)},
		{"Progress", fmt.Sprintf("%d/%d", st.Progress, st.Required)},
		{"Complete", fmt.Sprint(st.Complete)},
	}
	if st.EncodedToken != "" {
		rows = append(rows, [2]string{"Encoded Token", st.EncodedToken})
	}
	if st.OTP != "" {
		rows = append(rows, [2]string{"OTP", st.OTP})
	}
	rows = append(rows, [2]string{"OTP Length", fmt.Sprint(st.OTPLength)})
	kvTable(c.stdout, rows)
	switch {
	case !next:
	case st.Complete:
		fmt.Fprintf(c.stdout, `
Root token generation is complete. Whoever holds the OTP from -init
decodes the new root token with
  ward operator generate-root -decode=%s -otp=OTP
`, st.EncodedToken)
	case st.Started && st.Progress < st.Required:
		fmt.Fprintf(c.stdout, "\n%d more key share(s) needed.\n", st.Required-st.Progress)
	}
	return exitOK
}

// stdinIsTerminal reports whether stdin is a terminal, where a share can
// be typed at a hidden prompt.
func (c *cmd) stdinIsTerminal() bool {
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
