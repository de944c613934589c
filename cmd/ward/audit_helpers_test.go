package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The audit_*_test.go files check the audit capability through the real
// server: what the log holds, that `ward audit verify` catches tampering,
// rotation, fail-closed devices and the Vault client's audit calls. The
// helpers here are prefixed "au".

// auLine is one audit log line: the raw text and the decoded object.
type auLine struct {
	Raw string
	M   map[string]any
}

// str returns the string at a nested key path ("request", "path"), or "".
func (l auLine) str(keys ...string) string {
	s, _ := l.val(keys...).(string)
	return s
}

// val returns the value at a nested key path, or nil.
func (l auLine) val(keys ...string) any {
	var v any = l.M
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// auReadLog reads an audit file and decodes every line, failing the test
// on a line that is not a JSON object.
func auReadLog(t testing.TB, path string) []auLine {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return auParseLines(t, path, raw)
}

func auParseLines(t testing.TB, what string, raw []byte) []auLine {
	t.Helper()
	var out []auLine
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: line %d is not a JSON object: %v\n%s", what, i+1, err, line)
		}
		out = append(out, auLine{Raw: line, M: m})
	}
	return out
}

// auFind returns the lines of type typ ("request" or "response") for the
// request path and operation (operation "" matches any).
func auFind(lines []auLine, typ, path, op string) []auLine {
	var out []auLine
	for _, l := range lines {
		if l.str("type") == typ && l.str("request", "path") == path && (op == "" || l.str("request", "operation") == op) {
			out = append(out, l)
		}
	}
	return out
}

// auEnableFile enables a file audit device at name writing to file, with
// extra options.
func auEnableFile(t testing.TB, c *lcClient, name, file string, options ...string) {
	t.Helper()
	opts := map[string]string{"file_path": file}
	for i := 0; i+1 < len(options); i += 2 {
		opts[options[i]] = options[i+1]
	}
	c.must(http.StatusNoContent, "PUT", "sys/audit/"+name, map[string]any{"type": "file", "options": opts})
}

// auHash asks the device at name for the HMAC of input.
func auHash(t testing.TB, c *lcClient, name, input string) string {
	t.Helper()
	resp := c.must(http.StatusOK, "PUT", "sys/audit-hash/"+name, map[string]string{"input": input})
	h, _ := lcMap(t, resp, "data")["hash"].(string)
	if !strings.HasPrefix(h, "hmac-sha256:") {
		t.Fatalf("sys/audit-hash/%s: hash %q is not hmac-sha256:<hex>", name, h)
	}
	return h
}

// auWard runs the ward binary with args and returns its exit code, stdout
// and stderr.
func auWard(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	wardPath, err := exec.LookPath("ward")
	if err != nil {
		t.Fatalf("ward is not on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wardPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ward %s did not exit within 10s", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// auSink is a TCP listener on loopback standing in for a log collector.
// When reading, it collects the lines every connection sends; otherwise
// it accepts connections and never reads from them.
type auSink struct {
	t    testing.TB
	ln   net.Listener
	Addr string

	mu    sync.Mutex
	lines []string
	conns []net.Conn
	done  chan struct{}
}

// auListen starts a sink on addr ("127.0.0.1:0" for any port).
func auListen(t testing.TB, addr string, read bool) *auSink {
	t.Helper()
	var ln net.Listener
	var err error
	// The port of a sink just closed may take a moment to be free again.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &auSink{t: t, ln: ln, Addr: ln.Addr().String(), done: make(chan struct{})}
	go s.accept(read)
	t.Cleanup(s.Close)
	return s
}

func (s *auSink) accept(read bool) {
	defer close(s.done)
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
		if read {
			go s.read(conn)
		}
	}
}

func (s *auSink) read(conn net.Conn) {
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		s.mu.Lock()
		s.lines = append(s.lines, sc.Text())
		s.mu.Unlock()
	}
}

// Lines returns the lines received so far.
func (s *auSink) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Close stops listening and closes every accepted connection, as a
// collector that went away would.
func (s *auSink) Close() {
	_ = s.ln.Close()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}
