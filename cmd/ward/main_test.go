package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wardsec/ward/internal/cli"
)

// TestMain makes the test binary double as the real `ward` binary: tests
// and scripts run "ward" from PATH and get a separate process of it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ward": func() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// syncBuffer is a bytes.Buffer safe to write from a process pipe while a
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tb is the part of testing.TB the server helpers need, so that scripts
// can use them too.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// serverProc is a `ward server` process started by a test.
type serverProc struct {
	t      tb
	cmd    *exec.Cmd
	Addr   string // "http://127.0.0.1:port" (https when TLS)
	Stdout *syncBuffer
	Stderr *syncBuffer
	done   chan struct{}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t tb) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startWard runs `ward <args>` as a server process and waits until its API
// answers sys/seal-status. scheme is "http" or "https".
func startWard(t tb, hostPort, scheme string, client *http.Client, args ...string) *serverProc {
	t.Helper()
	wardPath, err := exec.LookPath("ward")
	if err != nil {
		t.Fatalf("ward is not on PATH: %v", err)
	}
	p := &serverProc{
		t:      t,
		cmd:    exec.Command(wardPath, args...),
		Addr:   scheme + "://" + hostPort,
		Stdout: &syncBuffer{},
		Stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.Stdout, p.Stderr
	p.cmd.Env = append(os.Environ(), "WARD_TOKEN=", "VAULT_TOKEN=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	if client == nil {
		client = http.DefaultClient
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(p.Addr + "/v1/sys/seal-status")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("ward %s exited early:\n%s", strings.Join(args, " "), p.Stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ward %s did not answer within 15s: %v\n%s", strings.Join(args, " "), err, p.Stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startDev starts `ward server -dev` with root token "root".
func startDev(t tb) *serverProc {
	addr := freeAddr(t)
	return startWard(t, addr, "http", nil, "server", "-dev", "-dev-root-token-id=root", "-dev-listen-address="+addr)
}

// startConfig writes an HCL configuration (with %s standing for the
// listen address) into dir and starts `ward server -config` with it.
func startConfig(t tb, dir, hcl string) *serverProc {
	addr := freeAddr(t)
	path := filepath.Join(dir, "ward.hcl")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hcl, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	return startWard(t, addr, "http", nil, "server", "-config="+path)
}

// Kill sends SIGKILL and waits for the process to go.
func (p *serverProc) Kill() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits for a clean exit, returning the exit code.
func (p *serverProc) Stop() int {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("ward did not stop within 30s of SIGTERM")
		p.Kill()
	}
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the server process.
func (p *serverProc) Signal(sig os.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}
