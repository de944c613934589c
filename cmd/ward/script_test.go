package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI scripts in testdata/script against real
// servers. Scripts start one with the wardserver command:
//
//	wardserver dev     # -dev, root token "root"; sets WARD_ADDR and WARD_TOKEN
//	wardserver fresh   # inmem storage, uninitialized; sets WARD_ADDR
//
// and read values out of a command's stdout with capture:
//
//	capture ROOT 'Initial Root Token: (\S+)'
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("WARD_TOKEN", "")
			env.Setenv("VAULT_TOKEN", "")
			env.Setenv("WARD_ADDR", "")
			env.Setenv("VAULT_ADDR", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wardserver": cmdWardServer,
			"capture":    cmdCapture,
		},
	})
}

func cmdWardServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: wardserver dev|fresh")
	}
	t := scriptTB{ts}
	var p *serverProc
	switch args[0] {
	case "dev":
		p = startDev(t)
		ts.Setenv("WARD_TOKEN", "root")
	case "fresh":
		p = startConfig(t, ts.MkAbs("."), "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"%s\"\n  tls_disable = true\n}\ndisable_mlock = true\n")
	default:
		ts.Fatalf("wardserver: unknown mode %q", args[0])
	}
	ts.Setenv("WARD_ADDR", p.Addr)
	ts.Defer(func() {
		p.Kill()
		_ = os.WriteFile(filepath.Join(ts.MkAbs("."), "server.log"), []byte(p.Stderr.String()), 0o600)
	})
}

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

// scriptTB adapts a TestScript to the testing.TB subset the server
// helpers use; cleanups run when the script ends.
type scriptTB struct {
	*testscript.TestScript
}

func (s scriptTB) Helper()                        {}
func (s scriptTB) Cleanup(f func())               { s.Defer(f) }
func (s scriptTB) Errorf(format string, a ...any) { s.Fatalf(format, a...) }
func (s scriptTB) Fatal(args ...any)              { s.Fatalf("%s", fmt.Sprint(args...)) }
