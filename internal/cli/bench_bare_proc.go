package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bareLimits bound how long the tool waits for the bare server's child.
type bareLimits struct {
	start time.Duration // for its address, after starting it
	stop  time.Duration // for it to exit, after closing its stdin; then it is killed
}

var defaultBareLimits = bareLimits{start: 10 * time.Second, stop: 5 * time.Second}

// bareProcess is the bare server running as a child process (serveBare).
type bareProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closing it stops the child
	stderr *headBuffer
	limits bareLimits
	addr   string // "http://127.0.0.1:port"
	base   *url.URL
}

// startBareServer starts this program's own binary as the bare server
// and returns once it serves. The yardstick runs in its own process, as
// the server it is compared with does, so that both pay the same for
// crossing between processes (two Go runtimes sharing the cores). A child
// that cannot be started is an error: there is no in-process fallback.
func startBareServer(ctx context.Context) (*bareProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: start the bare server: find this program's binary: %w", err)
	}
	return startBareProcess(ctx, defaultBareLimits, exe, "bench", bareChildArg)
}

// startBareProcess runs name with args as a bare server child: it must
// print its http://127.0.0.1:port URL as its first line on stdout within
// limits.start, and exit when its stdin closes. On error the child has
// been stopped and waited for. When ctx ends first, it returns ctx's
// error.
func startBareProcess(ctx context.Context, limits bareLimits, name string, args ...string) (*bareProcess, error) {
	cmd := exec.Command(name, args...)
	p := &bareProcess{cmd: cmd, stderr: &headBuffer{max: 2048}, limits: limits}
	cmd.Stderr = p.stderr
	// A grandchild holding stderr must not keep Wait from returning.
	cmd.WaitDelay = time.Second
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: start the bare server: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: start the bare server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, withHints(fmt.Errorf("bench: start the bare server: %w", err),
			"ward bench runs the bare server as a second process of its own binary; check that it can still be run")
	}
	type line struct {
		text string
		err  error
	}
	lines := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(stdout).ReadSlice('\n')
		lines <- line{string(s), err}
	}()
	timer := time.NewTimer(limits.start)
	defer timer.Stop()
	var l line
	select {
	case l = <-lines:
	case <-timer.C:
		_ = p.stop() // ends the read too
		<-lines
		return nil, p.startError(fmt.Sprintf("it did not report its address within %s", limits.start), nil)
	case <-ctx.Done():
		_ = p.stop()
		<-lines
		return nil, ctx.Err()
	}
	if l.err != nil {
		return nil, p.startError("it closed its stdout (or exited) before reporting its address", p.stop())
	}
	addr := strings.TrimSuffix(l.text, "\n")
	base, ok := bareURL(addr)
	if !ok {
		return nil, p.startError(fmt.Sprintf("it reported %q, not an http://127.0.0.1:port address", addr), p.stop())
	}
	p.addr, p.base = addr, base
	return p, nil
}

// bareURL parses the child's address line, which must be exactly
// http://127.0.0.1:port.
func bareURL(s string) (*url.URL, bool) {
	port, ok := strings.CutPrefix(s, "http://127.0.0.1:")
	n, err := strconv.Atoi(port)
	if !ok || err != nil || n <= 0 || n >= 1<<16 || strconv.Itoa(n) != port {
		return nil, false
	}
	return &url.URL{Scheme: "http", Host: "127.0.0.1:" + port}, true
}

// startError describes a child that did not come up, with how it ended
// and the end of what it wrote to stderr.
func (p *bareProcess) startError(why string, exit error) error {
	msg := "bench: start the bare server: " + why
	if exit != nil {
		msg += " (" + exit.Error() + ")"
	}
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		msg += ": " + s
	}
	return withHints(errors.New(msg),
		fmt.Sprintf("ward bench runs the bare server as a second process of its own binary (%s %s)", p.cmd.Path, strings.Join(p.cmd.Args[1:], " ")))
}

// pid is the child's process ID.
func (p *bareProcess) pid() int { return p.cmd.Process.Pid }

// close stops the child and waits for it; the error says how it ended
// when that was not a clean exit after its stdin closed.
func (p *bareProcess) close() error {
	if err := p.stop(); err != nil {
		msg := fmt.Sprintf("bench: stop the bare server (pid %d): %v", p.pid(), err)
		if s := strings.TrimSpace(p.stderr.String()); s != "" {
			msg += ": " + s
		}
		return errors.New(msg)
	}
	return nil
}

// stop closes the child's stdin, gives it limits.stop to exit, then kills
// it, and returns how it ended (nil: exit status 0 after stdin closed).
func (p *bareProcess) stop() error {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	timer := time.NewTimer(p.limits.stop)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("it did not exit within %s of its stdin closing, so it was killed", p.limits.stop)
	}
}

// headBuffer keeps the first max bytes written to it (a child's stderr);
// the rest is dropped.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
