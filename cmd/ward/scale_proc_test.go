//go:build scale

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Process plumbing for scale_test.go: starting a server without the
// 20 ms polling of startWard, reading /proc, evicting the bolt file from
// the page cache, and the CPU profile hook.

// scaleProfileEnv, set in a server's environment, names the file the
// server writes a CPU profile to: from its start until it receives
// SIGUSR1, which scaleRestart sends after the reads and lists. Startup
// that takes a few milliseconds leaves few samples at the default 100 Hz;
// a slow one leaves enough to find the cause.
const scaleProfileEnv = "WARD_SCALE_CHILD_CPUPROFILE"

// init runs in every process of this test binary, including the servers
// it starts as "ward"; only a server given scaleProfileEnv profiles.
func init() {
	path := os.Getenv(scaleProfileEnv)
	if path == "" {
		return
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		fmt.Fprintf(os.Stderr, "scale: cpu profile: %v\n", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "scale: cpu profile: %v\n", err)
		return
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGUSR1)
	go func() {
		<-stop
		pprof.StopCPUProfile()
		if err := f.Close(); err == nil {
			_ = os.Rename(path+".tmp", path)
		}
	}()
}

// newServerProc prepares, without starting, `ward args…` as a server
// process whose API will be at addr. The binary is this test binary, or
// the one WARD_SCALE_BINARY names (a release build, to measure its memory;
// it has no profile hook).
func newServerProc(t *testing.T, addr string, args ...string) *serverProc {
	t.Helper()
	wardPath := os.Getenv("WARD_SCALE_BINARY")
	if wardPath == "" {
		var err error
		if wardPath, err = exec.LookPath("ward"); err != nil {
			t.Fatalf("ward is not on PATH: %v", err)
		}
	}
	p := &serverProc{
		t:      t,
		cmd:    exec.Command(wardPath, args...),
		Addr:   addr,
		Stdout: &syncBuffer{},
		Stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.Stdout, p.Stderr
	p.cmd.Env = append(os.Environ(), "WARD_TOKEN=", "VAULT_TOKEN=")
	return p
}

// dropFromPageCache evicts path's cached pages, so the next reader of the
// file reads it from disk. The file must not be open for writing.
func dropFromPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// procField reads a "Name: value [kB]" line of /proc/<pid>/<file> and
// returns the value, in bytes when the line says kB.
func procField(t *testing.T, pid int, file, name string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, file))
	if errors.Is(err, os.ErrPermission) {
		t.Fatalf("%v: the server makes itself non-dumpable, which hides this file from other processes; run the test as root", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != name {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/%s: %s: %v", pid, file, name, err)
		}
		if len(fields) > 2 && fields[2] == "kB" {
			n *= 1024
		}
		return n
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("/proc/%d/%s has no %s line", pid, file, name)
	return 0
}

// procMinorFaults reads minflt, field 10 of /proc/<pid>/stat: each first
// touch of a page, among them the bolt file's mapped pages.
func procMinorFaults(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, err := strconv.ParseInt(fields[7], 10, 64) // field 10 is the 8th after ")"
	if err != nil {
		t.Fatalf("/proc/%d/stat: minflt: %v", pid, err)
	}
	return n
}
