package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI scripts in testdata/script against real
// servers. Scripts start one with the wardserver command, whose stdout is
// what the server printed at start (the dev banner):
//
//	wardserver dev               # -dev, root token "root"; sets WARD_ADDR and WARD_TOKEN
//	wardserver dev-random-root   # -dev with a generated root token; sets nothing
//	wardserver fresh             # inmem storage, uninitialized; sets WARD_ADDR
//	wardserver raft              # one raft node "solo", uninitialized; sets WARD_ADDR
//
// read values out of a command's stdout with capture:
//
//	capture ROOT 'Initial Root Token: (\S+)'
//
// and check a command's exact exit status (exec only tells zero from
// non-zero) with exitcode:
//
//	exitcode 2 ward status
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		// A script's environment starts nearly empty (no WARD_* or
		// VAULT_* from the caller's), so the VAULT_* fallbacks can be
		// tested with the WARD_* variables truly unset.
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wardserver": cmdWardServer,
			"capture":    cmdCapture,
			"exitcode":   cmdExitCode,
		},
	})
}

func cmdWardServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: wardserver dev|dev-random-root|fresh|raft")
	}
	t := scriptTB{ts}
	var p *serverProc
	switch args[0] {
	case "dev":
		p = startDev(t)
		ts.Setenv("WARD_TOKEN", "root")
	case "dev-random-root":
		addr := freeAddr(t)
		p = startWard(t, addr, "http", nil, "server", "-dev", "-dev-listen-address="+addr)
	case "fresh":
		p = startConfig(t, ts.MkAbs("."), "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"%s\"\n  tls_disable = true\n}\ndisable_mlock = true\n")
	case "raft":
		p = startRaftSingle(t, ts.MkAbs("."))
	default:
		ts.Fatalf("wardserver: unknown mode %q", args[0])
	}
	if args[0] != "dev-random-root" {
		ts.Setenv("WARD_ADDR", p.Addr)
	}
	ts.Defer(func() {
		p.Kill()
		_ = os.WriteFile(filepath.Join(ts.MkAbs("."), "server.log"), []byte(p.Stderr.String()), 0o600)
	})
	if strings.HasPrefix(args[0], "dev") {
		// The banner follows the listener by a moment.
		deadline := time.Now().Add(5 * time.Second)
		for !devBannerDone.MatchString(p.Stdout.String()) {
			if time.Now().After(deadline) {
				ts.Fatalf("wardserver: no dev banner within 5s; stdout:\n%s", p.Stdout.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Fprint(ts.Stdout(), p.Stdout.String())
}

// devBannerDone matches the dev banner up to its last line of interest.
var devBannerDone = regexp.MustCompile(`Root Token: \S+\n`)

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: capture VAR REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("capture: %q does not match stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdExitCode runs a command like exec and fails unless it exits with
// the given status.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var ee *exec.ExitError
	switch err := ts.Exec(args[1], args[2:]...); {
	case err == nil:
	case errors.As(err, &ee):
		got = ee.ExitCode()
	default:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// scriptTB adapts a TestScript to the testing.TB subset the server
// helpers use; cleanups run when the script ends.
type scriptTB struct {
	*testscript.TestScript
}

func (s scriptTB) Helper()                        {}
func (s scriptTB) Cleanup(f func())               { s.Defer(f) }
func (s scriptTB) Errorf(format string, a ...any) { s.Fatalf(format, a...) }
func (s scriptTB) Fatal(args ...any)              { s.Fatalf("%s", fmt.Sprint(args...)) }
