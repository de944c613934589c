package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestServeBareAnswersUntilStdinCloses(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	var stderr bytes.Buffer
	exited := make(chan int, 1)
	go func() { exited <- serveBare(stdinR, stdoutW, &stderr) }()

	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("read the address line: %v", err)
	}
	addr := strings.TrimSuffix(line, "\n")
	if _, ok := bareURL(addr); !ok {
		t.Fatalf("address line %q is not http://127.0.0.1:port", line)
	}
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Get(addr + "/v1/bench-bare/data/k1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, bareBody) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("answer: %d %q, %d bytes; want 200 application/json with the bare body",
			resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}

	select {
	case code := <-exited:
		t.Fatalf("serveBare returned %d while its stdin was open", code)
	case <-time.After(50 * time.Millisecond):
	}
	stdinW.Close()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit code %d after stdin closed, want 0; stderr: %s", code, &stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serveBare still runs 5s after its stdin closed")
	}
	if _, err := cl.Get(addr); err == nil {
		t.Errorf("%s still answers after serveBare returned", addr)
	}
}

func TestBareURL(t *testing.T) {
	for s, want := range map[string]bool{
		"http://127.0.0.1:8200":      true,
		"http://127.0.0.1:0":         false,
		"http://127.0.0.1":           false,
		"http://127.0.0.1:99999":     false,
		"https://127.0.0.1:8200":     false,
		"http://10.0.0.1:8200":       false,
		"http://127.0.0.1:8200/v1":   false,
		"panic: runtime error":       false,
		"http://127.0.0.1:8200?a=b":  false,
		" http://127.0.0.1:8200":     false,
		"http://localhost:8200":      false,
		"http://127.0.0.1:8200\r":    false,
		"http://127.0.0.1:port":      false,
		"http://[::1]:8200":          false,
		"http://127.0.0.1:8200#frag": false,
		"http://127.0.0.1:+8200":     false,
		"http://127.0.0.1:08200":     false,
	} {
		if _, got := bareURL(s); got != want {
			t.Errorf("bareURL(%q) ok = %v, want %v", s, got, want)
		}
	}
}

// shChild is a fake bare server child: a shell script.
func shChild(t *testing.T, limits bareLimits, script string) (*bareProcess, error) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return startBareProcess(context.Background(), limits, sh, "-c", script)
}

var quickLimits = bareLimits{start: 2 * time.Second, stop: 2 * time.Second}

func TestStartBareProcessFailsClearly(t *testing.T) {
	for _, c := range []struct {
		name, script string
		limits       bareLimits
		want         []string
	}{
		{"exits", "echo 'listen: no ports' >&2; exit 3", quickLimits,
			[]string{"before reporting its address", "exit status 3", "listen: no ports"}},
		{"says something else", "echo hello; read x", quickLimits,
			[]string{`it reported "hello", not an http://127.0.0.1:port address`}},
		{"silent", "read x", bareLimits{start: 100 * time.Millisecond, stop: 2 * time.Second},
			[]string{"did not report its address within 100ms"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			p, err := shChild(t, c.limits, c.script)
			if err == nil {
				p.close()
				t.Fatalf("started; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "bench: start the bare server: ") {
				t.Errorf("error %q does not name the operation", err)
			}
			if el := time.Since(start); el > c.limits.start+time.Second {
				t.Errorf("took %v: the child was not stopped when its stdin closed", el)
			}
		})
	}
	_, err := startBareProcess(context.Background(), quickLimits, "/nonexistent/ward")
	if err == nil || !strings.Contains(err.Error(), "bench: start the bare server: ") {
		t.Errorf("missing binary: error %v, want one naming the bare server", err)
	}
}

func TestBareProcessStops(t *testing.T) {
	p, err := shChild(t, quickLimits, "echo http://127.0.0.1:9; read x; exit 0")
	if err != nil {
		t.Fatal(err)
	}
	if p.addr != "http://127.0.0.1:9" || p.base.Host != "127.0.0.1:9" || p.pid() <= 0 {
		t.Errorf("addr %q, base %v, pid %d", p.addr, p.base, p.pid())
	}
	if err := p.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if st := p.cmd.ProcessState; st == nil || !st.Exited() || st.ExitCode() != 0 {
		t.Errorf("after close the child's state is %v, want exited with status 0", st)
	}

	// A child that ignores its stdin is killed after limits.stop.
	p, err = shChild(t, bareLimits{start: 2 * time.Second, stop: 100 * time.Millisecond},
		"echo http://127.0.0.1:9; exec sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.close()
	if err == nil || !strings.Contains(err.Error(), "did not exit within 100ms of its stdin closing") {
		t.Errorf("close of a child ignoring stdin: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("close took %v", el)
	}
}

func TestStartBareProcessStopsWhenCancelled(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = startBareProcess(ctx, bareLimits{start: time.Minute, stop: 2 * time.Second}, sh, "-c", "read x")
	if err != context.DeadlineExceeded {
		t.Errorf("error %v, want the context's", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v after the context ended", el)
	}
}

func TestHeadBufferKeepsTheStart(t *testing.T) {
	b := &headBuffer{max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "abcde" {
		t.Errorf("kept %q, want %q", got, "abcde")
	}
}
