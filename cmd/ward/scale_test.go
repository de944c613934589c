//go:build scale

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

const (
	scaleWriters   = 32 // concurrent writers while populating
	scalePerFolder = 1000
	scaleValueSize = 100
	scaleListReps  = 50 // warm LISTs of ten/ timed after the first
)

// TestScale measures restart and listing at scale (issue 7). The "scale"
// build tag keeps it out of `go test ./...`:
//
//	go test -tags scale -run TestScale -v -timeout 60m ./cmd/ward
//
// It fills a bolt-backed `ward server` (this test binary, run as "ward" as
// the other tests of this package run it) with N KV v2 secrets through the
// HTTP API with Vault's Go client, stops it, and restarts it several
// times, timing each step back to serving and reading the process's
// memory and I/O from /proc. docs/performance.md has the figures.
//
// Environment:
//
//	WARD_SCALE_N      secret counts, comma-separated (default 100000);
//	                  with several, startup at the largest is checked
//	                  against the smallest
//	WARD_SCALE_RUNS   restarts measured per count and cache state (default 3)
//	WARD_SCALE_DIR    keep the populated data here and reuse it on the next
//	                  run (default: a temporary directory, removed after)
//	WARD_SCALE_CPUPROFILE  a directory: each server writes there a CPU
//	                  profile from its start to the end of the population
//	                  or of the measured requests
//	WARD_SCALE_MLOCK  1: run the servers with mlock, as production does by
//	                  default (the tests of this package disable it)
//	WARD_SCALE_BINARY run this ward binary as the server instead of the
//	                  test binary (e.g. a release build, for its RSS)
//
// Secret i is app/<i/1000>/s<i%1000> with a 100-byte value naming i, so a
// folder app/<n>/ holds 1,000 secrets; the folder ten/ holds ten more.
func TestScale(t *testing.T) {
	counts := scaleCounts(t)
	runs := 3
	if s := os.Getenv("WARD_SCALE_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WARD_SCALE_RUNS=%q: want a positive integer", s)
		}
		runs = n
	}
	root := os.Getenv("WARD_SCALE_DIR")
	if root == "" {
		root = t.TempDir()
	}
	profDir := os.Getenv("WARD_SCALE_CPUPROFILE")
	if profDir != "" && os.Getenv("WARD_SCALE_BINARY") != "" {
		t.Fatal("WARD_SCALE_CPUPROFILE needs the test binary's profile hook; unset WARD_SCALE_BINARY")
	}

	var cold []scaleSummary
	for _, n := range counts {
		dir := filepath.Join(root, fmt.Sprintf("n%d", n))
		prof := ""
		if profDir != "" {
			prof = filepath.Join(profDir, fmt.Sprintf("populate-n%d.pprof", n))
		}
		m := scalePopulated(t, dir, n, prof)
		t.Logf("N=%d: bolt file %.0f MiB; populated in %.1f s (%.0f secrets/s)",
			n, float64(m.DBBytes)/(1<<20), m.PopulateSeconds, float64(n+10)/m.PopulateSeconds)
		var all []scaleRun
		for _, coldCache := range []bool{true, false} {
			for i := range runs {
				prof := ""
				if profDir != "" {
					prof = filepath.Join(profDir, fmt.Sprintf("startup-n%d-%s-%d.pprof", n, cacheName(coldCache), i))
				}
				all = append(all, scaleRestart(t, dir, m, coldCache, i, prof))
			}
		}
		t.Logf("N=%d restarts:\n%s", n, scaleTable(all))
		s := summarize(n, all)
		if s.ServeMS > 1000 {
			t.Errorf("N=%d: median cold restart, process start to first read answered, took %.0f ms; the target is 1 s", n, s.ServeMS)
		}
		cold = append(cold, s)
	}
	scaleCheckGrowth(t, cold)
}

// scaleCounts parses WARD_SCALE_N.
func scaleCounts(t *testing.T) []int {
	s := os.Getenv("WARD_SCALE_N")
	if s == "" {
		return []int{100_000}
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < scalePerFolder {
			t.Fatalf("WARD_SCALE_N=%q: want counts of at least %d, comma-separated", s, scalePerFolder)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func cacheName(cold bool) string {
	if cold {
		return "cold"
	}
	return "warm"
}

// scalePath is where secret i lives.
func scalePath(i int) string {
	return fmt.Sprintf("app/%d/s%d", i/scalePerFolder, i%scalePerFolder)
}

// scaleValue is secret i's value: scaleValueSize bytes that name i.
func scaleValue(i int) string {
	v := fmt.Sprintf("secret-%d-", i)
	return v + strings.Repeat("x", scaleValueSize-len(v))
}

// scaleManifest describes a populated data directory, so a later run can
// reuse it. It holds the test server's only unseal key and root token.
type scaleManifest struct {
	N               int     `json:"n"`
	UnsealKey       string  `json:"unseal_key"`
	RootToken       string  `json:"root_token"`
	PopulateSeconds float64 `json:"populate_seconds"`
	DBBytes         int64   `json:"db_bytes"`
}

// scalePopulated returns the manifest of dir, populating it with n secrets
// first unless an earlier run already did. A non-empty profile is where the
// server writes a CPU profile of the population.
func scalePopulated(t *testing.T, dir string, n int, profile string) scaleManifest {
	t.Helper()
	manifest := filepath.Join(dir, "scale.json")
	if raw, err := os.ReadFile(manifest); err == nil {
		var m scaleManifest
		if err := json.Unmarshal(raw, &m); err != nil || m.N != n {
			t.Fatalf("%s: not a manifest of %d secrets (%v); remove %s", manifest, n, err, dir)
		}
		t.Logf("N=%d: reusing %s", n, dir)
		return m
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p, _ := scaleStart(t, dir, profile)
	c := scaleClient(t, p.Addr, "")
	init, err := c.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	m := scaleManifest{N: n, UnsealKey: init.Keys[0], RootToken: init.RootToken}
	if st, err := c.Sys().Unseal(m.UnsealKey); err != nil || st.Sealed {
		t.Fatalf("unseal: %v %+v", err, st)
	}
	c.SetToken(m.RootToken)
	if err := c.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount secret/: %v", err)
	}
	start := time.Now()
	scaleFill(t, c, n)
	m.PopulateSeconds = time.Since(start).Seconds()
	if profile != "" {
		p.Signal(syscall.SIGUSR1)
		waitForFile(t, profile, 10*time.Second)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM after populating: exit code %d\n%s", code, p.Stderr.String())
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	m.DBBytes = fi.Size()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

// scaleFill writes secrets 0..n-1 and ten/k0..k9 with scaleWriters
// concurrent writers, one KV v2 write per secret (the API has no batch
// write), logging progress.
func scaleFill(t *testing.T, c *vaultapi.Client, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	kv := c.KVv2("secret")
	var next, done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range scaleWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n+10 || ctx.Err() != nil {
					return
				}
				path, value := "", ""
				if i < n {
					path, value = scalePath(i), scaleValue(i)
				} else {
					path, value = fmt.Sprintf("ten/k%d", i-n), scaleValue(i)
				}
				if _, err := kv.Put(ctx, path, map[string]any{"value": value}); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("put %s: %w", path, err); cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	stop := make(chan struct{})
	go func() {
		const every = 15 * time.Second
		tick := time.NewTicker(every)
		defer tick.Stop()
		var last int64
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				d := done.Load()
				t.Logf("populating: %d of %d written, %.0f/s in the last %s", d, n+10, float64(d-last)/every.Seconds(), every)
				last = d
			}
		}
	}()
	wg.Wait()
	close(stop)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// scaleRun is what one restart measured. Times are in milliseconds.
type scaleRun struct {
	Cold        bool
	StartMS     float64 // process start to sys/seal-status answered
	UnsealMS    float64 // the unseal request (the server builds its state in it)
	ReadMS      float64 // the first KV read after unseal
	ServeMS     float64 // process start to the first read answered, all of the above
	ListMS      float64 // the first LIST of ten/
	ListWarmMS  float64 // mean of scaleListReps LISTs of ten/ after it
	VmRSS       int64   // bytes, after the reads
	VmLck       int64   // bytes locked by mlock (0 unless WARD_SCALE_MLOCK=1)
	RssAnon     int64   // bytes: heap and stacks
	RssFile     int64   // bytes: the binary and the bolt file's mapped pages
	Anonymous   int64   // bytes, smaps_rollup
	ReadBytes   int64   // bytes the process made the kernel read from disk
	MinorFaults int64
}

// scaleRestart starts the server on dir, unseals it, reads one secret and
// lists ten/, and stops it. With coldCache the bolt file is dropped from
// the page cache first, as after a reboot.
func scaleRestart(t *testing.T, dir string, m scaleManifest, coldCache bool, run int, profile string) scaleRun {
	t.Helper()
	if coldCache {
		if err := dropFromPageCache(filepath.Join(dir, "data", "ward.db")); err != nil {
			t.Fatalf("drop the bolt file from the page cache: %v", err)
		}
	}
	r := scaleRun{Cold: coldCache}
	p, startDur := scaleStart(t, dir, profile)
	r.StartMS = ms(startDur)
	c := scaleClient(t, p.Addr, m.RootToken)

	t0 := time.Now()
	st, err := c.Sys().Unseal(m.UnsealKey)
	r.UnsealMS = ms(time.Since(t0))
	if err != nil || st.Sealed {
		t.Fatalf("unseal: %v %+v", err, st)
	}
	i := m.N - 1 - run*7919%m.N // another secret in each run
	t1 := time.Now()
	s, err := c.KVv2("secret").Get(t.Context(), scalePath(i))
	r.ReadMS = ms(time.Since(t1))
	r.ServeMS = r.StartMS + ms(time.Since(t0))
	if err != nil {
		t.Fatalf("read %s: %v", scalePath(i), err)
	}
	if got := s.Data["value"]; got != scaleValue(i) {
		t.Fatalf("read %s: value %q, want %q", scalePath(i), got, scaleValue(i))
	}

	for rep := range scaleListReps + 1 {
		t2 := time.Now()
		l, err := c.Logical().List("secret/metadata/ten/")
		d := ms(time.Since(t2))
		if err != nil {
			t.Fatalf("list ten/: %v", err)
		}
		if rep == 0 {
			r.ListMS = d
			keys, _ := l.Data["keys"].([]any)
			want := []any{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}
			if !slices.Equal(keys, want) {
				t.Fatalf("list ten/: %v, want %v", keys, want)
			}
			continue
		}
		r.ListWarmMS += d / scaleListReps
	}

	pid := p.cmd.Process.Pid
	r.VmRSS = procField(t, pid, "status", "VmRSS:")
	r.VmLck = procField(t, pid, "status", "VmLck:")
	r.RssAnon = procField(t, pid, "status", "RssAnon:")
	r.RssFile = procField(t, pid, "status", "RssFile:")
	r.Anonymous = procField(t, pid, "smaps_rollup", "Anonymous:")
	r.ReadBytes = procField(t, pid, "io", "read_bytes:")
	r.MinorFaults = procMinorFaults(t, pid)
	if profile != "" {
		p.Signal(syscall.SIGUSR1)
		waitForFile(t, profile, 10*time.Second)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}
	return r
}

// scaleStart starts `ward server` on dir's config and data and returns it
// with the time from starting the process to its API answering, polled
// every millisecond. A non-empty profile asks the server for a CPU
// profile from its start until SIGUSR1 (see scale_proc_test.go).
func scaleStart(t *testing.T, dir, profile string) (*serverProc, time.Duration) {
	t.Helper()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "ward.hcl")
	hcl := fmt.Sprintf(lcBoltHCL(filepath.Join(dir, "data")), addr)
	if os.Getenv("WARD_SCALE_MLOCK") == "1" {
		hcl = strings.Replace(hcl, "disable_mlock = true", "disable_mlock = false", 1)
	}
	if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newServerProc(t, "http://"+addr, "server", "-config="+cfg)
	if profile != "" {
		p.cmd.Env = append(p.cmd.Env, scaleProfileEnv+"="+profile)
	}
	c := scaleClient(t, p.Addr, "")
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	for {
		_, err := c.Sys().SealStatus()
		if err == nil {
			return p, time.Since(start)
		}
		select {
		case <-p.done:
			t.Fatalf("ward server exited early:\n%s", p.Stderr.String())
		default:
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("ward server did not answer within 30s: %v\n%s", err, p.Stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// scaleClient is a Vault API client for addr with a connection pool large
// enough for scaleWriters (the default keeps GOMAXPROCS+1 idle connections
// and would reconnect for most requests) and no retries.
func scaleClient(t *testing.T, addr, token string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	if tr, ok := cfg.HttpClient.Transport.(interface{ Clone() *http.Transport }); ok {
		tc := tr.Clone()
		tc.MaxIdleConnsPerHost = 2 * scaleWriters
		cfg.HttpClient.Transport = tc
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitForFile waits until path exists.
func waitForFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
