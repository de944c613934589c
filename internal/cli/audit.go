package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/wardsec/ward/client"
	"github.com/wardsec/ward/internal/audit"
)

func init() {
	register(
		&command{
			name:     "audit enable",
			synopsis: "Enable an audit device",
			usage: `Usage: ward audit enable [flags] TYPE [KEY=VALUE...]

  Enables an audit device of TYPE at -path (default: TYPE). From then on
  every request and response is recorded, one JSON line each, with secret
  values replaced by their HMAC. If no enabled device can record a
  request, the server refuses it. KEY=VALUE arguments are the device's
  options:

    file     file_path=PATH (or "stdout", "discard"), mode=0600
    socket   address=HOST:PORT (or a path), socket_type=tcp|udp|unix,
             write_timeout=2s
    any      hmac_accessor=false (log token accessors in the clear),
             log_raw=true (log every value in the clear: no HMACs)

  Needs sudo on sys/audit/*.

Examples:
  $ ward audit enable file file_path=/var/log/ward/audit.log
  $ ward audit enable -path=siem -description="to the SIEM" socket address=10.0.0.5:9090`,
			run: runAuditEnable,
		},
		&command{
			name:     "audit disable",
			synopsis: "Disable an audit device",
			usage: `Usage: ward audit disable [flags] PATH

  Disables the audit device at PATH. Its log stays where it is; the
  device's HMAC key is forgotten, so values can no longer be hashed for
  that log with sys/audit-hash. A device declared in the server's
  configuration file is removed there, not here. Needs sudo.

Example:
  $ ward audit disable file`,
			run: runAuditDisable,
		},
		&command{
			name:     "audit list",
			synopsis: "List the enabled audit devices",
			usage: `Usage: ward audit list [flags]

  Lists the enabled audit devices. -detailed adds their replication and
  options. Needs sudo on sys/audit.

Example:
  $ ward audit list -detailed`,
			run: runAuditList,
		},
		&command{
			name:     "audit verify",
			synopsis: "Check the hash chain of audit log files",
			usage: `Usage: ward audit verify [flags] FILE [FILE...]

  Checks, offline, that audit log files written by a file device form an
  unbroken hash chain: every line carries the SHA-256 of the line before
  it and the next sequence number. An edited, deleted, reordered or
  truncated line breaks the chain, and verify names the first broken line.
  After log rotation give the files oldest first; the chain continues
  across them. "-" reads standard input. No server is needed.

  The chain alone cannot tell an intact log from one whose last lines were
  cut off cleanly, or that was rewritten from some line on with fresh
  hashes. -device=PATH anchors it: verify asks the server (WARD_ADDR, a
  token with sudo) where the chain of its device at PATH stands, and the
  files must hold that very line. Without a server, compare the last seq
  and hash printed here with a copy kept elsewhere.

  Exit codes: 0 the chain is intact; 1 it is broken (the "error:" line
  names the file and line) or a file could not be read; 2 usage error.

Examples:
  $ ward audit verify /var/log/ward/audit.log
  ok: 1042 lines, chain intact (last seq 1042, last hash 3f6c…)
  $ ward audit verify audit.log.1 audit.log
  $ ward audit verify -device=file /var/log/ward/audit.log`,
			run: runAuditVerify,
		},
	)
}

func runAuditEnable(c *cmd, args []string) int {
	path := c.fs.String("path", "", "where to enable the device (default: TYPE)")
	desc := c.fs.String("description", "", "human-readable description")
	local := c.fs.Bool("local", false, "do not replicate this device to other clusters")
	if !c.parse(args, 1, -1) {
		return c.code
	}
	typ := c.args[0]
	options := map[string]string{}
	for _, arg := range c.args[1:] {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || k == "" {
			return c.usage("option %q is not KEY=VALUE", arg)
		}
		if _, dup := options[k]; dup {
			return c.usage("option %s given twice", k)
		}
		options[k] = v
	}
	at := strings.Trim(firstNonEmpty(*path, typ), "/") + "/"
	if at == "/" {
		return c.usage("-path must not be empty")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	in := &client.AuditInput{Type: typ, Description: *desc, Options: options, Local: *local}
	if err := cl.Sys().EnableAudit(context.Background(), at, in); err != nil {
		return c.fail(auditHints(err))
	}
	return c.success("Enabled the %s audit device at: %s", typ, at)
}

// auditHints attaches next steps to the audit failures the generic hints
// would misdescribe (a taken path is not a mount).
func auditHints(err error) error {
	var re *client.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	msg := strings.Join(re.Errors, " ")
	switch {
	case strings.Contains(msg, "already in use"):
		return withHints(err, "`ward audit list` shows the enabled devices; choose another -path")
	case strings.Contains(msg, "unknown audit device type"):
		return withHints(err, "TYPE is file or socket")
	case strings.Contains(msg, "declared in the server configuration"):
		return withHints(err, "remove its audit block from the server's configuration file and restart the server")
	case strings.Contains(msg, "options."):
		return withHints(err, "run `ward audit enable -h` for each device type's options")
	}
	return err
}

func runAuditDisable(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	at := strings.Trim(c.args[0], "/") + "/"
	if at == "/" {
		return c.usage("PATH must not be empty")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().DisableAudit(context.Background(), at); err != nil {
		return c.fail(auditHints(err))
	}
	return c.success("Disabled the audit device (if it existed) at: %s", at)
}

func runAuditList(c *cmd, args []string) int {
	detailed := c.fs.Bool("detailed", false, "show replication and options too")
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	devices, err := cl.Sys().ListAudit(context.Background())
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(devices)
	}
	if len(devices) == 0 {
		fmt.Fprintln(c.stdout, "No audit devices are enabled.")
		return exitOK
	}
	paths := make([]string, 0, len(devices))
	for p := range devices {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	header := []string{"Path", "Type", "Description"}
	if *detailed {
		header = []string{"Path", "Type", "Description", "Replication", "Options"}
	}
	rows := make([][]string, 0, len(paths))
	for _, p := range paths {
		d := devices[p]
		if !*detailed {
			rows = append(rows, []string{p, d.Type, orNA(d.Description)})
			continue
		}
		repl := "replicated"
		if d.Local {
			repl = "local"
		}
		rows = append(rows, []string{p, d.Type, orNA(d.Description), repl, formatOptions(d.Options)})
	}
	columns(c.stdout, header, rows)
	return exitOK
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// chainHint says what a broken link means for the operator.
func chainHint(ce *audit.ChainError, files []string) string {
	switch {
	case ce.Line > 1:
		return fmt.Sprintf("the lines before line %d of %s are intact; from there on lines were edited, deleted, reordered or cut off", ce.Line, ce.File)
	case len(files) > 1 && ce.File != files[0]:
		return fmt.Sprintf("%s does not continue the file before it: give the files oldest first, none missing", ce.File)
	}
	return "the first line is already wrong: it was edited, or the log does not start at its first line (give the rotated files too, oldest first)"
}

// verifyResult is what `ward audit verify -format=json` prints.
type verifyResult struct {
	Lines    int             `json:"lines"`
	LastSeq  uint64          `json:"last_seq"`
	LastHash string          `json:"last_hash"`
	Restarts []verifyRestart `json:"restarts"`
}

// verifyRestart is a line that starts a new chain.
type verifyRestart struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func runAuditVerify(c *cmd, args []string) int {
	device := c.fs.String("device", "", "anchor the end of the chain at the server's head for the device at this path")
	if !c.parse(args, 1, -1) {
		return c.code
	}
	// The anchor is read before the files, so the files hold at least
	// every line the server had written by then.
	var anchor *client.AuditChainHead
	if *device != "" {
		var err error
		if anchor, err = c.chainHead(*device); err != nil {
			return c.fail(err)
		}
	}
	var files []audit.NamedReader
	stdin := false
	for _, name := range c.args {
		if name == "-" {
			if stdin {
				return c.usage("standard input (-) can be read only once")
			}
			stdin = true
			files = append(files, audit.NamedReader{Name: "-", R: c.stdin})
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return c.fail(withHints(fmt.Errorf("verify: %w", err), "give the audit log files that exist, oldest first"))
		}
		defer f.Close()
		files = append(files, audit.NamedReader{Name: name, R: f})
	}
	sum, err := audit.Verify(files)
	if err != nil {
		var ce *audit.ChainError
		if errors.As(err, &ce) {
			fmt.Fprintf(c.stderr, "error: %s: line %d: %s\n", ce.File, ce.Line, ce.Reason)
			fmt.Fprintf(c.stderr, "hint: %s\n", chainHint(ce, c.args))
			return exitError
		}
		return c.fail(fmt.Errorf("verify: %w", err))
	}
	if anchor != nil {
		if err := checkAnchor(files, *anchor); err != nil {
			fmt.Fprintf(c.stderr, "error: %v\n", err)
			fmt.Fprintf(c.stderr, "hint: the files are consistent in themselves but not with what the server wrote: lines were cut off or rewritten, or these are not the device's files\n")
			return exitError
		}
	}
	res := verifyResult{Lines: sum.Lines, LastSeq: sum.LastSeq, LastHash: sum.LastHash, Restarts: []verifyRestart{}}
	for _, r := range sum.Restarts {
		res.Restarts = append(res.Restarts, verifyRestart{File: r.File, Line: r.Line})
	}
	if c.format == "json" {
		return c.printJSON(res)
	}
	for _, r := range res.Restarts {
		fmt.Fprintf(c.stderr, "warning: %s: line %d starts a new chain (seq 1): the server restarted with a device that cannot read its log back, such as a socket or stdout\n", r.File, r.Line)
	}
	fmt.Fprintf(c.stdout, "ok: %d lines, chain intact (last seq %d, last hash %s)\n", res.Lines, res.LastSeq, res.LastHash)
	return exitOK
}

// chainHead asks the server where the chain of the device at path stands.
func (c *cmd) chainHead(path string) (*client.AuditChainHead, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	devices, err := cl.Sys().ListAudit(context.Background())
	if err != nil {
		return nil, err
	}
	key := strings.Trim(path, "/") + "/"
	d, ok := devices[key]
	if !ok {
		return nil, withHints(fmt.Errorf("no audit device at %q on the server", key), "`ward audit list` shows the enabled devices")
	}
	if d.Chain == nil {
		return nil, fmt.Errorf("the server does not report the chain of %q (not a Ward server?)", key)
	}
	return d.Chain, nil
}

// checkAnchor requires the (already verified) files to hold the server's
// head line: same seq, same hash (the last such line, should the files
// hold several chains). The files are read again from the start.
func checkAnchor(files []audit.NamedReader, head client.AuditChainHead) error {
	if head.Seq == 0 {
		return nil
	}
	var last uint64
	var match *audit.ChainHead
	var where string
	for _, f := range files {
		s, ok := f.R.(io.Seeker)
		if !ok {
			return fmt.Errorf("-device needs files, not standard input")
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return err
		}
		sc := bufio.NewScanner(f.R)
		sc.Buffer(make([]byte, 64<<10), audit.MaxLineSize)
		for n := 1; sc.Scan(); n++ {
			h, err := audit.HeadOf(sc.Bytes())
			if err != nil {
				continue // Verify already judged every line
			}
			last = h.Seq
			if h.Seq == head.Seq {
				match, where = &h, fmt.Sprintf("%s: line %d", f.Name, n)
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	switch {
	case match == nil:
		return fmt.Errorf("the files end at seq %d but the server has written up to seq %d: lines were cut off the end", last, head.Seq)
	case match.Hash != head.Hash:
		return fmt.Errorf("%s: seq %d differs from the line the server wrote: the log was rewritten from here or earlier", where, head.Seq)
	}
	return nil
}
