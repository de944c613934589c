package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchOut is the part of `ward bench -format=json` the tests read.
type benchOut struct {
	Address     string `json:"address"`
	BareAddress string `json:"bare_address"`
	Results     []struct {
		Scenario  string   `json:"scenario"`
		Ops       uint64   `json:"ops"`
		OpsPerSec float64  `json:"ops_per_sec"`
		Errors    uint64   `json:"errors"`
		Messages  []string `json:"error_messages"`
		Ratio     *float64 `json:"ratio_to_bare"`
		Skipped   string   `json:"skipped"`
		Latency   struct {
			P50, P90, P99, Max float64
		} `json:"latency_ms"`
	} `json:"results"`
}

// benchCmd is `ward bench args…` against addr with the root token.
func benchCmd(ctx context.Context, t *testing.T, addr string, args ...string) (*exec.Cmd, *bytes.Buffer, *syncBuffer) {
	t.Helper()
	wardPath, err := exec.LookPath("ward")
	if err != nil {
		t.Fatalf("ward is not on PATH: %v", err)
	}
	cmd := exec.CommandContext(ctx, wardPath, append([]string{"bench"}, args...)...)
	cmd.Env = append(os.Environ(), "WARD_ADDR="+addr, "WARD_TOKEN=root", "HOME="+t.TempDir())
	stdout, stderr := &bytes.Buffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

// wantNoBenchLeftovers fails if a mount, auth method, policy or token the
// bench made is still on the server.
func wantNoBenchLeftovers(t *testing.T, c *lcClient) {
	t.Helper()
	for _, p := range []string{"sys/mounts", "sys/auth"} {
		for path := range lcMap(t, c.must(http.StatusOK, "GET", p, nil), "data") {
			if strings.HasPrefix(path, "bench-") {
				t.Errorf("%s still lists %s after the bench", p, path)
			}
		}
	}
	keys, _ := lcMap(t, c.must(http.StatusOK, "GET", "sys/policies/acl?list=true", nil), "data")["keys"].([]any)
	for _, k := range keys {
		if strings.HasPrefix(k.(string), "bench-") {
			t.Errorf("policy %s is left after the bench", k)
		}
	}
	// The dev server's only token is root: every token the load made
	// (workload token, children, logins, wrapping tokens) is revoked.
	acc, _ := lcMap(t, c.must(http.StatusOK, "GET", "auth/token/accessors?list=true", nil), "data")["keys"].([]any)
	if len(acc) != 1 {
		t.Errorf("%d token accessors after the bench, want 1 (root's)", len(acc))
	}
}

func TestBenchAllScenariosAgainstDev(t *testing.T) {
	srv := startDev(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := benchCmd(ctx, t, srv.Addr, "-scenario=all", "-compare-bare",
		"-duration=200ms", "-warmup=0", "-concurrency=4", "-keys=50", "-value-size=64", "-format=json")
	if err := cmd.Run(); err != nil {
		t.Fatalf("ward bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	var out benchOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, stdout)
	}
	if out.Address != srv.Addr || !strings.HasPrefix(out.BareAddress, "http://127.0.0.1:") {
		t.Errorf("address %q, bare address %q", out.Address, out.BareAddress)
	}
	want := []string{"bare", "kv2-read", "kv2-write", "kv2-mixed", "transit-encrypt", "wrap-unwrap", "token-create", "approle-login"}
	if len(out.Results) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(out.Results), len(want), stdout)
	}
	for i, r := range out.Results {
		if r.Scenario != want[i] {
			t.Errorf("result %d is %s, want %s", i, r.Scenario, want[i])
		}
		if r.Skipped != "" || r.Ops == 0 || r.OpsPerSec <= 0 || r.Errors != 0 || len(r.Messages) != 0 {
			t.Errorf("%s: ops %d (%v/s), errors %d %q, skipped %q; want ops and no errors",
				r.Scenario, r.Ops, r.OpsPerSec, r.Errors, r.Messages, r.Skipped)
		}
		l := r.Latency
		if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s: latencies not ordered: %+v", r.Scenario, l)
		}
		if (r.Ratio == nil) != (r.Scenario == "bare") || r.Ratio != nil && *r.Ratio <= 0 {
			t.Errorf("%s: ratio to bare %v", r.Scenario, r.Ratio)
		}
	}
	wantNoBenchLeftovers(t, newLCClient(t, srv.Addr, "root"))
}

func TestBenchCleansUpOnInterrupt(t *testing.T) {
	srv := startDev(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := benchCmd(ctx, t, srv.Addr, "-scenario=kv2-write,transit-encrypt",
		"-duration=1m", "-warmup=0", "-concurrency=2", "-keys=20")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "bench: kv2-write:") {
		if time.Now().After(deadline) {
			t.Fatalf("the load did not start within 30s; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("ward bench after Ctrl-C: %v, want exit status 1\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "error: bench: interrupted") || !strings.Contains(stderr.String(), "bench: cleaning up") {
		t.Errorf("stderr does not report the interruption and cleanup:\n%s", stderr)
	}
	if strings.Contains(stdout.String(), "transit-encrypt") {
		t.Errorf("the scenario after the interruption ran:\n%s", stdout)
	}
	wantNoBenchLeftovers(t, newLCClient(t, srv.Addr, "root"))
}

// barePID waits for the bench's stderr to name the bare server's process
// and address.
func barePID(t *testing.T, stderr *syncBuffer) (int, string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^bench: bare server: pid (\d+) on (http://127\.0\.0\.1:\d+)$`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			pid, _ := strconv.Atoi(m[1])
			return pid, m[2]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bare server was not reported within 30s; stderr:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStat reads process pid's state letter and parent from /proc; ok is
// false when there is no such process.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid …"; comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

// alive reports whether process pid exists and has not exited (a zombie
// left to a parent that does not reap it counts as gone).
func alive(pid int) bool {
	st, _, ok := procStat(pid)
	return ok && st != 'Z' && st != 'X'
}

func needProc(t *testing.T) {
	if _, _, ok := procStat(os.Getpid()); !ok {
		t.Skip("needs /proc")
	}
}

func TestBenchBareRunsInItsOwnProcess(t *testing.T) {
	needProc(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, stdout, stderr := benchCmd(ctx, t, "http://127.0.0.1:1", "-bare",
		"-duration=500ms", "-warmup=0", "-concurrency=2", "-format=json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid, addr := barePID(t, stderr)
	st, ppid, ok := procStat(pid)
	if !ok || pid == cmd.Process.Pid || ppid != cmd.Process.Pid {
		t.Errorf("bare server pid %d (found %v, state %c, parent %d); tool pid %d: want a live child of the tool",
			pid, ok, st, ppid, cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ward bench -bare: %v\nstderr:\n%s", err, stderr)
	}
	var out benchOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, stdout)
	}
	if out.BareAddress != addr || len(out.Results) != 1 || out.Results[0].Ops == 0 || out.Results[0].Errors != 0 {
		t.Errorf("bare address %q (stderr said %s), results %+v", out.BareAddress, addr, out.Results)
	}
	if alive(pid) {
		t.Errorf("bare server pid %d is still running after the tool exited", pid)
	}
}

func TestBenchBareServerDiesWithTheTool(t *testing.T) {
	needProc(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, _, stderr := benchCmd(ctx, t, "http://127.0.0.1:1", "-bare", "-duration=1m", "-warmup=0", "-concurrency=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid, addr := barePID(t, stderr)
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Get(addr + "/v1/x")
	if err != nil {
		t.Fatalf("bare server at %s: %v", addr, err)
	}
	resp.Body.Close()
	// kill -9: the tool cannot stop its child; the child must notice
	// its stdin closing.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("bare server pid %d still runs 10s after the tool was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, err := cl.Get(addr + "/v1/x"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after its process ended", addr)
	}
}
