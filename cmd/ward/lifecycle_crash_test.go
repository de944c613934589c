package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLifecycleKillDurability SIGKILLs a bolt server in the middle of a
// steady stream of KV writes and checks, after a restart, that every write
// the server acknowledged is there with its value.
func TestLifecycleKillDurability(t *testing.T) {
	t.Parallel()
	cfgDir, dataDir := t.TempDir(), t.TempDir()
	hcl := lcBoltHCL(dataDir)
	p := startConfig(t, cfgDir, hcl)
	c := newLCClient(t, p.Addr, "")
	keys := lcInit(t, c, 3, 2)
	lcUnseal(t, c, keys.Hex[0], keys.Hex[1])
	root := c.with(keys.Root)
	lcEnableKV2(t, root)

	// Two writers: one creates a new secret per write, one keeps
	// overwriting a single secret. Each records only what was
	// acknowledged with 200.
	const writers = 2
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // path -> value
		lastCtr = -1                  // last acknowledged value of "counter"
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	// A client that does not fail the test when the server dies mid-request.
	hc := &http.Client{Timeout: 5 * time.Second}
	write := func(path, value string) bool {
		r, err := lcTryPost(hc, p.Addr, keys.Root, "secret/data/"+path, map[string]any{"data": map[string]string{"v": value}})
		return err == nil && r.Status == http.StatusOK
	}
	wg.Add(writers)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			path, value := fmt.Sprintf("crash/k%04d", i), fmt.Sprintf("value-%d-%d", i, i*7919)
			if !write(path, value) {
				return
			}
			mu.Lock()
			acked[path] = value
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if !write("crash/counter", strconv.Itoa(i)) {
				return
			}
			mu.Lock()
			lastCtr = i
			mu.Unlock()
		}
	}()

	// Let the writes run, then pull the plug while they are in flight.
	deadline := time.Now().Add(3 * time.Second)
	for {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
	}
	p.Kill()
	close(stop)
	wg.Wait()
	if len(acked) == 0 || lastCtr < 0 {
		t.Fatalf("no write was acknowledged before the kill (%d, %d)\n%s", len(acked), lastCtr, p.Stderr.String())
	}
	t.Logf("%d new secrets and %d overwrites acknowledged before SIGKILL", len(acked), lastCtr+1)

	p = startConfig(t, cfgDir, hcl)
	c = newLCClient(t, p.Addr, "")
	lcUnseal(t, c, keys.Base64[2], keys.Hex[1])
	root = c.with(keys.Root)
	for path, want := range acked {
		if got := lcGetKV(t, root, path); got["v"] != want {
			t.Errorf("%s after SIGKILL: %v, want %q", path, got, want)
		}
	}
	// The counter holds the last acknowledged value, or the one that was
	// in flight when the server died; its version matches the value.
	resp := root.must(http.StatusOK, "GET", "secret/data/crash/counter", nil)
	got, err := strconv.Atoi(fmt.Sprint(lcMap(t, resp, "data", "data")["v"]))
	if err != nil || got < lastCtr || got > lastCtr+1 {
		t.Fatalf("counter after SIGKILL = %v, want %d or %d", lcMap(t, resp, "data", "data")["v"], lastCtr, lastCtr+1)
	}
	if v := lcInt(t, lcMap(t, resp, "data", "metadata"), "version"); v != got+1 {
		t.Fatalf("counter value %d has version %d, want %d", got, v, got+1)
	}
	// The server is healthy after the crash: it takes new writes.
	lcPutKV(t, root, "crash/after", map[string]any{"ok": true})
}
