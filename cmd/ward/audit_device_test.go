package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// auWaitLine waits up to 5s for the sink to receive a line containing
// substr and returns the lines received.
func auWaitLine(t testing.TB, s *auSink, substr string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := s.Lines()
		for _, l := range lines {
			if strings.Contains(l, substr) {
				return lines
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the socket sink received no line containing %q in 5s (%d lines)", substr, len(lines))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditSocketFailClosed runs a server whose only audit device is a
// socket: with the collector gone requests are refused with a 503 and no
// data while the server stays up, and once the collector is back on the
// same port they succeed again.
func TestAuditSocketFailClosed(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	sink := auListen(t, "127.0.0.1:0", true)
	root.must(http.StatusNoContent, "PUT", "sys/audit/socket", map[string]any{
		"type":    "socket",
		"options": map[string]string{"address": sink.Addr, "socket_type": "tcp", "write_timeout": "1s"},
	})
	canary := "canary-" + lcRandHex(t, 12)
	lcPutKV(t, root, "sock", map[string]any{"v": canary})
	if got := lcGetKV(t, root, "sock")["v"]; got != canary {
		t.Fatalf("read back %v", got)
	}
	for _, l := range auWaitLine(t, sink, `"path":"secret/data/sock"`) {
		if strings.Contains(l, canary) {
			t.Fatalf("the socket device sent the canary in plain text: %s", l)
		}
	}

	sink.Close()
	// The first line written after the collector left may still be taken
	// by the kernel; within a few requests the device must notice.
	var r lcResp
	for i := 0; ; i++ {
		if r = root.do("GET", "secret/data/sock", nil); r.Status != http.StatusOK {
			break
		}
		if i == 50 {
			t.Fatal("requests still succeed 50 requests after the only audit device's collector went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	lcWantErrors(t, r, http.StatusServiceUnavailable, "audit")
	if bytes.Contains(r.Body, []byte(canary)) {
		t.Fatalf("a refused request returned the secret: %s", r.Body)
	}
	t.Logf("refused: %s", bytes.TrimSpace(r.Body))
	for i := 0; i < 3; i++ {
		r := root.do("GET", "secret/data/sock", nil)
		lcWantErrors(t, r, http.StatusServiceUnavailable, "audit")
		if bytes.Contains(r.Body, []byte(canary)) {
			t.Fatalf("a refused request returned the secret: %s", r.Body)
		}
	}
	// A write is refused before it happens.
	lcWantErrors(t, root.do("POST", "secret/data/sock", map[string]any{"data": map[string]string{"v": "overwritten"}}),
		http.StatusServiceUnavailable, "audit")
	lcAlive(t, p)
	if h := newLCClient(t, p.Addr, "").do("GET", "sys/health", nil); h.Status != http.StatusOK {
		t.Fatalf("sys/health while the audit device is down: HTTP %d: %s", h.Status, h.Body)
	}

	back := auListen(t, sink.Addr, true)
	for i := 0; ; i++ {
		if r = root.do("GET", "secret/data/sock", nil); r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("while the device recovers: HTTP %d: %s", r.Status, r.Body)
		}
		if i == 100 {
			t.Fatalf("requests still fail 100 requests (over 2s) after the collector came back: %s", r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := lcMap(t, r.json(t), "data", "data")["v"]; got != canary {
		t.Errorf("after recovery the secret is %v, want the canary: the refused write happened", got)
	}
	auWaitLine(t, back, `"path":"secret/data/sock"`)
}

// auTimedPost sends one JSON request and reports its status and how long
// it took; it does not fail the test, so goroutines may use it.
func auTimedDo(hc *http.Client, method, addr, path string, body any) (int, time.Duration, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, 0, err
		}
	}
	req, err := http.NewRequest(method, addr+"/v1/"+path, bytes.NewReader(raw))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("X-Vault-Token", "root")
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// TestAuditSlowSocket points the only audit device at a collector that
// accepts connections and never reads. Once the socket buffers are full,
// writes time out: requests fail with a 503 in bounded time, concurrent
// requests do too, and the server keeps answering.
func TestAuditSlowSocket(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	sink := auListen(t, "127.0.0.1:0", false)
	root.must(http.StatusNoContent, "PUT", "sys/audit/slow", map[string]any{
		"type":    "socket",
		"options": map[string]string{"address": sink.Addr, "write_timeout": "300ms"},
	})
	// Keys are logged as they are (only values are HMAC'd), so a 1 MiB key
	// makes a 1 MiB audit line; a few of them fill the socket buffers.
	big := map[string]any{"data": map[string]string{strings.Repeat("k", 1<<20): "v"}}
	hc := &http.Client{Timeout: 30 * time.Second}
	const bound = 5 * time.Second
	refused := false
	for i := 0; i < 64 && !refused; i++ {
		status, took, err := auTimedDo(hc, "POST", p.Addr, "secret/data/slow", big)
		if err != nil {
			t.Fatalf("request %d: %v (after %v)", i, err, took)
		}
		if took > bound {
			t.Fatalf("request %d took %v with a stalled audit socket, want under %v", i, took, bound)
		}
		switch status {
		case http.StatusOK, http.StatusNoContent:
		case http.StatusServiceUnavailable:
			refused = true
			t.Logf("request %d refused after %v", i, took)
		default:
			t.Fatalf("request %d: HTTP %d", i, status)
		}
	}
	if !refused {
		t.Fatal("64 requests of 1 MiB audit lines to a collector that never reads all succeeded")
	}

	// Concurrent requests, while the device keeps stalling, each end in
	// bounded time; the server answers sys/health meanwhile.
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan string, n+1)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, took, err := auTimedDo(hc, "POST", p.Addr, "secret/data/slow", big)
			switch {
			case err != nil:
				errs <- err.Error()
			case status != http.StatusOK && status != http.StatusServiceUnavailable:
				errs <- fmt.Sprintf("HTTP %d", status)
			case took > 3*bound:
				errs <- fmt.Sprintf("a concurrent request took %v", took)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	status, took, err := auTimedDo(hc, "GET", p.Addr, "sys/health", nil)
	if err != nil || status != http.StatusOK || took > 2*time.Second {
		t.Errorf("sys/health while audit writes stall: HTTP %d after %v (%v)", status, took, err)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	lcAlive(t, p)
}

// TestAuditNeedsSudo checks that listing, enabling and disabling audit
// devices needs sudo, and that a token with sudo on sys/audit may.
func TestAuditNeedsSudo(t *testing.T) {
	t.Parallel()
	p := startDev(t)
	root := newLCClient(t, p.Addr, "root")
	caps := `["create", "read", "update", "delete", "list"`
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/audit-nosudo",
		map[string]string{"policy": `path "sys/audit" { capabilities = ` + caps + `] }` + "\n" + `path "sys/audit/*" { capabilities = ` + caps + `] }`})
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/audit-sudo",
		map[string]string{"policy": `path "sys/audit" { capabilities = ` + caps + `, "sudo"] }` + "\n" + `path "sys/audit/*" { capabilities = ` + caps + `, "sudo"] }`})
	dir := t.TempDir()
	enable := map[string]any{"type": "file", "options": map[string]string{"file_path": dir + "/a.log"}}

	for _, pol := range []string{"audit-nosudo", "default"} {
		c := root.with(lcCreateToken(t, root, pol))
		lcWantErrors(t, c.do("PUT", "sys/audit/file", enable), http.StatusForbidden, "permission denied")
		lcWantErrors(t, c.do("GET", "sys/audit", nil), http.StatusForbidden, "permission denied")
	}
	root.must(http.StatusNoContent, "PUT", "sys/audit/file", enable)
	nosudo := root.with(lcCreateToken(t, root, "audit-nosudo"))
	lcWantErrors(t, nosudo.do("DELETE", "sys/audit/file", nil), http.StatusForbidden, "permission denied")

	sudo := root.with(lcCreateToken(t, root, "audit-sudo"))
	sudo.must(http.StatusNoContent, "PUT", "sys/audit/second",
		map[string]any{"type": "file", "options": map[string]string{"file_path": dir + "/b.log"}})
	list := lcMap(t, sudo.must(http.StatusOK, "GET", "sys/audit", nil), "data")
	if list["file/"] == nil || list["second/"] == nil || len(list) != 2 {
		t.Errorf("sys/audit = %v, want file/ and second/", list)
	}
	sudo.must(http.StatusNoContent, "DELETE", "sys/audit/second", nil)
	sudo.must(http.StatusNoContent, "DELETE", "sys/audit/file", nil)
	if list := lcMap(t, root.must(http.StatusOK, "GET", "sys/audit", nil), "data"); len(list) != 0 {
		t.Errorf("sys/audit after disabling both = %v", list)
	}
}
