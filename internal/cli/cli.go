package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wardsec/ward/api"
)

// Exit codes. Ward's own choice (Vault swaps 1 and 2): 2 means "you asked
// for something that cannot work as asked" and also reports a sealed or
// uninitialized server for the status commands, as Vault does.
const (
	exitOK    = 0
	exitError = 1 // the server refused or failed, or local I/O failed
	exitUsage = 2 // bad flags or arguments; sealed/uninitialized for status
)

// command is one leaf command such as "kv put".
type command struct {
	name     string
	synopsis string
	// usage is the help text: a "Usage:" line, a description and an
	// example. The flags are appended when printed.
	usage string
	// run parses args with c.parse (or, for server, passes them on) and
	// returns the exit code.
	run func(c *cmd, args []string) int
}

// commands is filled by the init functions of the command files.
var commands = map[string]*command{}

func register(cmds ...*command) {
	for _, c := range cmds {
		commands[c.name] = c
	}
}

// Run runs the ward command line args (without the program name) and
// returns the process exit code: 0 success, 1 the operation failed, 2 a
// usage error (or, for `status` and `operator init -status`, a sealed or
// uninitialized server). Input is read from stdin only when a command asks
// for it (a "-" argument, a prompt).
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		a.topHelp(stdout)
		return exitOK
	}
	switch args[0] {
	case "-h", "-help", "--help":
		a.topHelp(stdout)
		return exitOK
	case "-v", "-version", "--version":
		fmt.Fprintf(stdout, "Ward v%s\n", api.Version)
		return exitOK
	case "help":
		return a.help(args[1:])
	}

	cmd, rest := lookup(args)
	if cmd == nil {
		group := strings.Join(args[:len(args)-len(rest)], " ")
		if group == "" {
			fmt.Fprintf(stderr, "error: unknown command %q\n", args[0])
			fmt.Fprintln(stderr, "hint: run `ward` to list the commands")
			return exitUsage
		}
		if len(rest) > 0 && !isHelpArg(rest[0]) {
			fmt.Fprintf(stderr, "error: unknown command %q\n", group+" "+rest[0])
			fmt.Fprintf(stderr, "hint: run `ward %s -h` to list its subcommands\n", group)
			return exitUsage
		}
		a.groupHelp(stdout, group)
		return exitOK
	}
	return cmd.run(a.newCmd(cmd), rest)
}

// lookup finds the longest command name that prefixes args. When only a
// group matches ("kv"), it returns nil and the arguments after the group.
func lookup(args []string) (*command, []string) {
	for n := min(4, len(args)); n > 0; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c, args[n:]
		}
	}
	for n := min(3, len(args)); n > 0; n-- {
		if isGroup(strings.Join(args[:n], " ")) {
			return nil, args[n:]
		}
	}
	return nil, args
}

func isGroup(prefix string) bool {
	for name := range commands {
		if strings.HasPrefix(name, prefix+" ") {
			return true
		}
	}
	return false
}

func isHelpArg(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}

func (a *app) help(args []string) int {
	if len(args) == 0 {
		a.topHelp(a.stdout)
		return exitOK
	}
	cmd, rest := lookup(args)
	if cmd != nil && len(rest) == 0 {
		return cmd.run(a.newCmd(cmd), []string{"-h"})
	}
	if cmd == nil && len(rest) == 0 {
		a.groupHelp(a.stdout, strings.Join(args, " "))
		return exitOK
	}
	fmt.Fprintf(a.stderr, "error: no help for %q: unknown command\n", strings.Join(args, " "))
	return exitUsage
}

// sortedNames returns the command names under prefix ("" for all).
func sortedNames(prefix string) []string {
	var names []string
	for name := range commands {
		if prefix == "" || strings.HasPrefix(name, prefix+" ") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// nameWidth is the width of the name column listing names without
// prefix: the longest, and at least 22.
func nameWidth(names []string, prefix string) int {
	w := 22
	for _, n := range names {
		w = max(w, len(strings.TrimPrefix(n, prefix)))
	}
	return w
}

func (a *app) groupHelp(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: ward %s <subcommand> [flags] [args]\n\nSubcommands:\n", group)
	names := sortedNames(group)
	width := nameWidth(names, group+" ")
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, strings.TrimPrefix(n, group+" "), commands[n].synopsis)
	}
	fmt.Fprintf(w, "\nRun `ward %s <subcommand> -h` for details and examples.\n", group)
}

func (a *app) topHelp(w io.Writer) {
	fmt.Fprint(w, `Usage: ward <command> [flags] [args]

Ward is a secrets manager. The same binary runs the server (ward server)
and talks to one (every other command).

Commands:
`)
	names := sortedNames("")
	width := nameWidth(names, "")
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].synopsis)
	}
	fmt.Fprint(w, `
Getting started:
  $ ward server -dev                     # in one terminal: an in-memory dev server
  $ export WARD_ADDR=http://127.0.0.1:8200
  $ ward login                           # paste the root token the server printed
  $ ward kv put secret/hello name=world
  $ ward kv get secret/hello

Environment (VAULT_* names are read when the WARD_* one is unset):
  WARD_ADDR         server address (default `+defaultAddr+`)
  WARD_TOKEN        token to use; otherwise the one saved by ward login in ~/.ward-token
  WARD_CACERT       PEM file of the CA that signed the server's certificate
  WARD_SKIP_VERIFY  true disables TLS verification (testing only)
  WARD_FORMAT       output format: table (default) or json

Every command accepts -address, -ca-cert, -tls-skip-verify, -format and
-wrap-ttl; flags may come before or after the arguments ("--" ends flags).

Exit codes: 0 success; 1 the operation failed (the server refused or
errored, or a local file could not be used); 2 usage error, and also a
sealed server for "ward status" and an uninitialized one for
"ward operator init -status".
`)
}

// Version command.
func init() {
	register(&command{
		name:     "version",
		synopsis: "Print Ward's version",
		usage: `Usage: ward version

  Prints the version of this ward binary.

Example:
  $ ward version
  Ward v` + api.Version,
		run: func(c *cmd, args []string) int {
			if !c.parse(args, 0, 0) {
				return c.code
			}
			fmt.Fprintf(c.stdout, "Ward v%s\n", api.Version)
			return exitOK
		},
	})
}
