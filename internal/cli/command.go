package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/client"
)

const defaultAddr = client.DefaultAddress

// app carries the process's streams; the environment is read with
// os.Getenv when a command needs it.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// cmd is one invocation of a command: its flag set (with the global flags
// registered), the parsed global settings and the exit code once decided.
type cmd struct {
	*app
	def  *command
	fs   *flag.FlagSet
	args []string // positional arguments after parse
	code int      // exit code when parse returns false

	flagAddress, flagFormat, flagCACert, flagWrapTTL string
	flagSkipVerify                                   bool

	// resolved after parse
	address, format string
}

var globalFlags = map[string]bool{
	"address": true, "format": true, "ca-cert": true, "tls-skip-verify": true, "wrap-ttl": true,
}

func (a *app) newCmd(def *command) *cmd {
	c := &cmd{app: a, def: def}
	fs := flag.NewFlagSet("ward "+def.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.flagAddress, "address", "", "server address (env WARD_ADDR; default "+defaultAddr+")")
	fs.StringVar(&c.flagFormat, "format", "", "output format: table or json (env WARD_FORMAT)")
	fs.StringVar(&c.flagCACert, "ca-cert", "", "PEM file of the CA for the server's certificate (env WARD_CACERT)")
	fs.BoolVar(&c.flagSkipVerify, "tls-skip-verify", false, "skip TLS verification, for testing only (env WARD_SKIP_VERIFY)")
	fs.StringVar(&c.flagWrapTTL, "wrap-ttl", "", "wrap the response in a single-use token living this long (\"5m\")")
	c.fs = fs
	return c
}

// env returns WARD_<name>, falling back to VAULT_<name> when WARD_<name>
// is unset. Set to the empty string, WARD_<name> hides the fallback: a
// way to keep a Vault token in VAULT_TOKEN from being sent to Ward.
func env(name string) string {
	if v, ok := os.LookupEnv("WARD_" + name); ok {
		return v
	}
	return os.Getenv("VAULT_" + name)
}

// parse parses args, allowing flags after positional arguments, and checks
// that between min and max positionals remain (max < 0: no limit). On -h it
// prints the help and sets code 0; on a usage error it prints the error and
// sets code 2. It returns whether the command should go on.
func (c *cmd) parse(args []string, minArgs, maxArgs int) bool {
	pos, err := parseInterspersed(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp()
		c.code = exitOK
		return false
	}
	if err != nil {
		return c.usageError("%v", err)
	}
	c.args = pos
	if len(pos) < minArgs {
		return c.usageError("not enough arguments (want at least %d, got %d)", minArgs, len(pos))
	}
	if maxArgs >= 0 && len(pos) > maxArgs {
		return c.usageError("too many arguments (want at most %d, got %d)", maxArgs, len(pos))
	}
	return c.resolveGlobals()
}

// parseInterspersed runs fs over args, collecting positional arguments
// that appear between flags. A lone "-" is positional; "--" ends flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *cmd) resolveGlobals() bool {
	c.address = firstNonEmpty(c.flagAddress, env("ADDR"), defaultAddr)
	c.format = strings.ToLower(firstNonEmpty(c.flagFormat, env("FORMAT"), "table"))
	if c.format != "table" && c.format != "json" {
		return c.usageError("unknown output format %q: use table or json", c.format)
	}
	if !c.isSet("tls-skip-verify") {
		if v := env("SKIP_VERIFY"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c.usageError("WARD_SKIP_VERIFY=%q is not a boolean", v)
			}
			c.flagSkipVerify = b
		}
	}
	if c.flagWrapTTL != "" {
		if _, err := parseDuration(c.flagWrapTTL); err != nil {
			return c.usageError("-wrap-ttl: %v", err)
		}
	}
	return true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// isSet reports whether flag name was given on the command line.
func (c *cmd) isSet(name string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// usageError prints an error and a pointer to the help and sets code 2.
func (c *cmd) usageError(format string, args ...any) bool {
	fmt.Fprintf(c.stderr, "error: %s\n", fmt.Sprintf(format, args...))
	fmt.Fprintf(c.stderr, "hint: run `ward %s -h` for usage and an example\n", c.def.name)
	c.code = exitUsage
	return false
}

// dataError reports an error from reading KEY=VALUE data: exit 1 when a
// file or stdin could not be used, 2 for a malformed argument.
func (c *cmd) dataError(err error) int {
	var ie inputError
	if errors.As(err, &ie) {
		return c.fail(err)
	}
	return c.usage("%v", err)
}

// usage is usageError for use after parse, returning the exit code.
func (c *cmd) usage(format string, args ...any) int {
	c.usageError(format, args...)
	return exitUsage
}

func (c *cmd) printHelp() {
	w := c.stdout
	fmt.Fprintln(w, strings.TrimSpace(c.def.usage))
	var own []*flag.Flag
	c.fs.VisitAll(func(f *flag.Flag) {
		if !globalFlags[f.Name] {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, f := range own {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "-1" {
				def = " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(w, "  -%s\n      %s%s\n", f.Name, f.Usage, def)
		}
	}
	if c.def.name != "version" && !strings.HasPrefix(c.def.name, "policy fmt") {
		fmt.Fprintln(w, "\nGlobal flags: -address, -ca-cert, -tls-skip-verify, -format, -wrap-ttl (see `ward -h`).")
	}
}

// client builds an API client from the global flags and the environment.
// The token comes from WARD_TOKEN, then VAULT_TOKEN, then ~/.ward-token.
func (c *cmd) client() (*client.Client, error) { return c.clientTimeout(0) }

// clientTimeout is client with a bound on each request, body included
// (client.Config.Timeout: 0 the default, negative none).
func (c *cmd) clientTimeout(timeout time.Duration) (*client.Client, error) {
	tok, err := resolveToken()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(&client.Config{
		Address:    c.address,
		Token:      tok,
		CACert:     firstNonEmpty(c.flagCACert, env("CACERT")),
		SkipVerify: c.flagSkipVerify,
		ClientCert: env("CLIENT_CERT"),
		ClientKey:  env("CLIENT_KEY"),
		Timeout:    timeout,
	})
	if err != nil {
		return nil, err
	}
	if c.flagWrapTTL != "" {
		cl = cl.WithWrapTTL(c.flagWrapTTL)
	}
	return cl, nil
}

// resolveToken returns the token to use: WARD_TOKEN, VAULT_TOKEN, then the
// token file.
func resolveToken() (string, error) {
	if t := env("TOKEN"); t != "" {
		return t, nil
	}
	return readTokenFile()
}

// parseDuration accepts Go durations ("1h30m") and whole seconds ("90").
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number of seconds or a value like 90s, 1h30m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}
