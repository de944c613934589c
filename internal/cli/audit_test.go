package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/audit"
)

// auditFake is a server with just the sys/audit endpoints, enough to
// check what the audit commands send and how they print the answers.
type auditFake struct {
	mu      sync.Mutex
	devices map[string]map[string]any
	bodies  []map[string]any
}

func newAuditFake(t *testing.T) *auditFake {
	f := &auditFake{devices: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	isolate(t, srv.URL)
	return f
}

func (f *auditFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &body)
	}
	f.bodies = append(f.bodies, body)
	if r.Header.Get("X-Vault-Token") != "root" {
		errs(w, 403, "permission denied")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch name, _ := strings.CutPrefix(path, "sys/audit/"); {
	case path == "sys/audit" && r.Method == "GET":
		data := map[string]any{}
		for p, d := range f.devices {
			data[p] = d
		}
		writeJSON(w, 200, envelope(data))
	case name != path && r.Method == "PUT":
		if _, ok := f.devices[name]; ok {
			errs(w, 400, "path already in use: an audit device is enabled at \""+name+"\"")
			return
		}
		if body["type"] != "file" && body["type"] != "socket" {
			errs(w, 400, `type: unknown audit device type "x" (supported: file, socket)`)
			return
		}
		d := map[string]any{"path": name}
		for _, k := range []string{"type", "description", "options", "local"} {
			d[k] = body[k]
		}
		if d["local"] == nil {
			d["local"] = false
		}
		f.devices[name] = d
		w.WriteHeader(204)
	case name != path && r.Method == "DELETE":
		delete(f.devices, name)
		w.WriteHeader(204)
	default:
		errs(w, 404)
	}
}

func TestAuditEnableListDisable(t *testing.T) {
	f := newAuditFake(t)
	r := must(t, runCLI(t, "", "audit", "list"), 0)
	if r.out != "No audit devices are enabled.\n" {
		t.Errorf("empty list = %q", r.out)
	}
	r = must(t, runCLI(t, "", "audit", "enable", "file", "file_path=/var/log/ward/audit.log", "mode=0640"), 0)
	contains(t, r.out, "Success! Enabled the file audit device at: file/")
	body := f.bodies[len(f.bodies)-1]
	opts, _ := body["options"].(map[string]any)
	if body["type"] != "file" || opts["file_path"] != "/var/log/ward/audit.log" || opts["mode"] != "0640" || len(opts) != 2 {
		t.Errorf("enable body = %v", body)
	}
	if _, ok := body["local"]; ok {
		t.Errorf("enable body sends local without -local: %v", body)
	}
	must(t, runCLI(t, "", "audit", "enable", "-path=/siem/", "-description=to the SIEM", "-local", "socket", "address=10.0.0.5:9090"), 0)
	if body := f.bodies[len(f.bodies)-1]; body["local"] != true || body["description"] != "to the SIEM" {
		t.Errorf("enable body = %v", body)
	}
	if _, ok := f.devices["siem/"]; !ok {
		t.Errorf("-path not used: devices %v", f.devices)
	}

	r = must(t, runCLI(t, "", "audit", "list"), 0)
	contains(t, r.out, "Path     Type      Description\n", "file/    file      n/a\n", "siem/    socket    to the SIEM\n")
	r = must(t, runCLI(t, "", "audit", "list", "-detailed"), 0)
	contains(t, r.out,
		"Path     Type      Description    Replication    Options\n",
		"file/    file      n/a            replicated     map[file_path:/var/log/ward/audit.log mode:0640]\n",
		"siem/    socket    to the SIEM    local          map[address:10.0.0.5:9090]\n")
	r = must(t, runCLI(t, "", "audit", "list", "-format=json"), 0)
	var listed map[string]map[string]any
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil || listed["siem/"]["type"] != "socket" || listed["file/"]["path"] != "file/" {
		t.Errorf("json list = %s (%v)", r.out, err)
	}

	r = must(t, runCLI(t, "", "audit", "enable", "file", "file_path=/x"), 1)
	contains(t, r.err, "error: enable audit device at file/: ", "already in use", "hint: `ward audit list` shows the enabled devices")
	r = must(t, runCLI(t, "", "audit", "enable", "-path=y", "x"), 1)
	contains(t, r.err, "unknown audit device type", "hint: TYPE is file or socket")

	r = must(t, runCLI(t, "", "audit", "disable", "siem"), 0)
	contains(t, r.out, "Success! Disabled the audit device (if it existed) at: siem/")
	if _, ok := f.devices["siem/"]; ok {
		t.Error("device not disabled")
	}

	t.Setenv("WARD_TOKEN", "nobody")
	r = must(t, runCLI(t, "", "audit", "list"), 1)
	contains(t, r.err, "code 403")
}

func TestAuditUsageErrors(t *testing.T) {
	f := newAuditFake(t)
	for _, args := range [][]string{
		{"audit", "enable"},
		{"audit", "enable", "file", "file_path"},
		{"audit", "enable", "file", "=x"},
		{"audit", "enable", "file", "a=1", "a=2"},
		{"audit", "enable", "-path=/", "file"},
		{"audit", "disable"},
		{"audit", "disable", "a", "b"},
		{"audit", "list", "extra"},
		{"audit", "verify"},
	} {
		r := runCLI(t, "", args...)
		if r.code != 2 || !strings.HasPrefix(r.err, "error: ") || !strings.Contains(r.err, "hint: run `ward audit") {
			t.Errorf("%v: code %d, stderr:\n%s", args, r.code, r.err)
		}
	}
	if len(f.bodies) != 0 {
		t.Errorf("usage errors reached the server: %v", f.bodies)
	}
}

// memDevice is an audit device writing lines to memory.
type memDevice struct{ buf bytes.Buffer }

func (m *memDevice) Write(_ context.Context, line []byte) error {
	m.buf.Write(line)
	m.buf.WriteByte('\n')
	return nil
}
func (m *memDevice) Reopen() error { return nil }
func (m *memDevice) Close() error  { return nil }

// auditLog writes n request entries through a real Broker and returns the
// lines, each with its newline.
func auditLog(t *testing.T, n int) []string {
	t.Helper()
	dev := &memDevice{}
	b := audit.NewBroker(audit.BrokerOptions{})
	if err := b.Add("mem/", dev, bytes.Repeat([]byte{7}, audit.MinKeySize), audit.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		e := &audit.Entry{Type: audit.TypeRequest, Request: &audit.Request{ID: "r", Operation: "read", Path: "secret/data/x",
			Data: map[string]any{"password": "hunter2"}}}
		if err := b.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(dev.buf.String(), "\n")
	return lines[:len(lines)-1] // after the last newline: ""
}

func TestAuditVerify(t *testing.T) {
	isolate(t, "http://127.0.0.1:1") // no server is needed
	dir := t.TempDir()
	lines := auditLog(t, 6)
	write := func(name string, ls ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(ls, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole := write("whole.log", lines...)
	last := audit.LineHash([]byte(strings.TrimSuffix(lines[5], "\n")))
	r := must(t, runCLI(t, "", "audit", "verify", whole), 0)
	if want := "ok: 6 lines, chain intact (last seq 6, last hash " + last + ")\n"; r.out != want {
		t.Errorf("verify = %q, want %q", r.out, want)
	}
	// Rotated: two files, oldest first; stdin as one of them.
	older := write("older.log", lines[:4]...)
	newer := strings.Join(lines[4:], "")
	r = must(t, runCLI(t, newer, "audit", "verify", older, "-"), 0)
	contains(t, r.out, "ok: 6 lines, chain intact (last seq 6")
	r = must(t, runCLI(t, "", "audit", "verify", "-format=json", whole), 0)
	var res verifyResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || res.Lines != 6 || res.LastSeq != 6 || res.LastHash != last {
		t.Errorf("json = %s (%v)", r.out, err)
	}

	broken := write("broken.log", lines[0], lines[1], lines[3], lines[4])
	r = must(t, runCLI(t, "", "audit", "verify", broken), 1)
	if !strings.HasPrefix(r.err, "error: "+broken+": line 3: ") || !strings.Contains(r.err, "hint: the lines before line 3 of "+broken+" are intact") {
		t.Errorf("deleted line: stderr:\n%s", r.err)
	}
	if r.out != "" {
		t.Errorf("a broken chain printed to stdout: %q", r.out)
	}
	r = must(t, runCLI(t, "", "audit", "verify", write("new-first.log", lines[4:]...), older), 1)
	contains(t, r.err, "new-first.log: line 1: ", "hint: the first line is already wrong")
	r = must(t, runCLI(t, "", "audit", "verify", older, write("gap.log", lines[5:]...)), 1)
	contains(t, r.err, "gap.log: line 1: ", "hint: "+filepath.Join(dir, "gap.log")+" does not continue the file before it")
	r = must(t, runCLI(t, "", "audit", "verify", filepath.Join(dir, "missing.log")), 1)
	contains(t, r.err, "error: verify: open ", "missing.log")
	r = must(t, runCLI(t, "", "audit", "verify", "-", "-"), 2)
	contains(t, r.err, "standard input (-) can be read only once")

	// A restart of a device that cannot read its head back starts a new
	// chain: accepted, with a warning naming the line.
	restarted := write("restarted.log", append(append([]string(nil), lines[:3]...), auditLog(t, 2)...)...)
	r = must(t, runCLI(t, "", "audit", "verify", restarted), 0)
	contains(t, r.out, "ok: 5 lines, chain intact (last seq 2")
	contains(t, r.err, "warning: "+restarted+": line 4 starts a new chain")
}
