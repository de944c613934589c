package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/audit/file"
)

var key = bytes.Repeat([]byte{7}, 32)

// logTo logs n request entries through a new Broker into d, then closes
// the Broker (and d).
func logTo(t *testing.T, d audit.Device, n int, tag string) {
	t.Helper()
	b := audit.NewBroker(audit.BrokerOptions{})
	defer b.Close()
	if err := b.Add("file/", d, key, audit.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	logN(t, b, n, tag)
}

func logN(t *testing.T, b *audit.Broker, n int, tag string) {
	t.Helper()
	for i := range n {
		e := &audit.Entry{Type: audit.TypeRequest, Request: &audit.Request{ID: fmt.Sprint(tag, i), Operation: "read", Path: "secret/x",
			Data: map[string]any{"password": "CANARY-" + tag}}}
		if err := b.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, paths ...string) (*audit.Summary, error) {
	t.Helper()
	var files []audit.NamedReader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, audit.NamedReader{Name: filepath.Base(p), R: f})
	}
	return audit.Verify(files)
}

func mustNew(t *testing.T, path string) *file.Device {
	t.Helper()
	d, err := file.New(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{"", 0}, {filepath.Join(dir, "a"), 0o700}, {filepath.Join(dir, "b"), 0o641}, {filepath.Join(dir, "c"), os.ModeSetuid | 0o600}} {
		if d, err := file.New(c.path, c.mode); err == nil {
			d.Close()
			t.Errorf("New(%q, %#o) succeeded", c.path, c.mode)
		}
	}
}

func TestModeAndDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "audit.log")
	d, err := file.New(path, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("new file: %v, %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", di.Mode())
	}
	// An existing file is set to the mode.
	mustNew(t, path).Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != file.DefaultMode {
		t.Errorf("existing file mode %v, want %v", fi.Mode(), file.DefaultMode)
	}
}

func TestLinesAndNoSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	logTo(t, mustNew(t, path), 3, "a")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(raw, []byte("\n")) != 3 || !bytes.HasSuffix(raw, []byte("\n")) {
		t.Errorf("file is not 3 lines:\n%s", raw)
	}
	if bytes.Contains(raw, []byte("CANARY")) {
		t.Error("secret in the file")
	}
	if sum, err := verify(t, path); err != nil || sum.Lines != 3 {
		t.Errorf("Verify = %+v, %v", sum, err)
	}
}

func TestChainContinuesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	logTo(t, mustNew(t, path), 3, "first")
	d := mustNew(t, path)
	h, _ := d.Head()
	if h.Seq != 3 {
		t.Errorf("Head after restart = %+v, want seq 3", h)
	}
	logTo(t, d, 2, "second")
	sum, err := verify(t, path)
	if err != nil || sum.Lines != 5 || sum.LastSeq != 5 || len(sum.Restarts) != 0 {
		t.Errorf("Verify = %+v, %v", sum, err)
	}
}

func TestTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	logTo(t, mustNew(t, path), 3, "a")
	appendTo(t, path, `{"time":"2025-01-01T00:00:00Z","type":"requ`) // a crash mid-write
	d := mustNew(t, path)
	if h, _ := d.Head(); h.Seq != 3 {
		t.Errorf("Head = %+v, want the last complete line's seq 3", h)
	}
	logTo(t, d, 2, "b")
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 6 || !strings.HasSuffix(lines[3], `"type":"requ`) {
		t.Fatalf("torn line does not stand alone:\n%s", raw)
	}
	var ce *audit.ChainError
	if _, err := verify(t, path); !errors.As(err, &ce) || ce.Line != 4 || !strings.Contains(ce.Reason, "not valid JSON") {
		t.Errorf("Verify = %v, want line 4 flagged", err)
	}
	// Past the torn line, the chain links to line 3.
	h3, _ := audit.HeadOf([]byte(lines[2]))
	if !strings.Contains(lines[4], `"seq":4,"prev_hash":"`+h3.Hash+`"`) {
		t.Errorf("line 5 does not continue line 3: %s", lines[4])
	}
}

func TestOnlyATornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	appendTo(t, path, `{"ty`)
	d := mustNew(t, path)
	if h, _ := d.Head(); h != (audit.ChainHead{}) {
		t.Errorf("Head = %+v, want a new chain", h)
	}
	logTo(t, d, 1, "a")
	var ce *audit.ChainError
	if _, err := verify(t, path); !errors.As(err, &ce) || ce.Line != 1 {
		t.Errorf("Verify = %v, want line 1 flagged", err)
	}
}

func TestRefusesAForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syslog")
	appendTo(t, path, "Jan  1 00:00:00 host kernel: hello\n")
	if d, err := file.New(path, 0); err == nil {
		d.Close()
		t.Fatal("New on a file that is not an audit log succeeded")
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	b := audit.NewBroker(audit.BrokerOptions{})
	defer b.Close()
	if err := b.Add("file/", mustNew(t, path), key, audit.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	logN(t, b, 3, "a")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	logN(t, b, 1, "b") // still to the renamed file, until SIGHUP
	if err := b.Reopen(); err != nil {
		t.Fatal(err)
	}
	logN(t, b, 3, "c")
	sum, err := verify(t, path+".1", path)
	if err != nil || sum.Lines != 7 || sum.LastSeq != 7 {
		t.Errorf("Verify(old, new) = %+v, %v", sum, err)
	}
	if sum, _ := verify(t, path+".1"); sum.Lines != 4 {
		t.Errorf("old file has %d lines, want 4", sum.Lines)
	}
	var ce *audit.ChainError
	if _, err := verify(t, path); !errors.As(err, &ce) || ce.Line != 1 {
		t.Errorf("Verify(new) alone = %v, want line 1 (does not start at 1)", err)
	}
}

func TestReopenFailureKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "audit.log")
	d := mustNew(t, path)
	defer d.Close()
	ctx := context.Background()
	if err := d.Write(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	// The directory goes away and a file takes its name: reopen must fail.
	if err := os.Rename(filepath.Join(dir, "logs"), filepath.Join(dir, "old")); err != nil {
		t.Fatal(err)
	}
	appendTo(t, filepath.Join(dir, "logs"), "")
	if err := d.Reopen(); err == nil {
		t.Fatal("Reopen succeeded")
	}
	if err := d.Write(ctx, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, "old", "audit.log")); string(raw) != "one\ntwo\n" {
		t.Errorf("old file = %q", raw)
	}
}

func TestConcurrentLogsVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b := audit.NewBroker(audit.BrokerOptions{})
	defer b.Close()
	if err := b.Add("file/", mustNew(t, path), key, audit.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { logN(t, b, 1, fmt.Sprint(i)) })
	}
	wg.Wait()
	if sum, err := verify(t, path); err != nil || sum.Lines != 100 {
		t.Errorf("Verify = %+v, %v", sum, err)
	}
}

func TestCloseAndCancel(t *testing.T) {
	d := mustNew(t, filepath.Join(t.TempDir(), "audit.log"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Write(ctx, []byte("x")); err == nil {
		t.Error("Write with a cancelled context succeeded")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(context.Background(), []byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestDiscardAndStdout(t *testing.T) {
	d := mustNew(t, file.Discard)
	if err := d.Write(context.Background(), []byte("x")); err != nil {
		t.Error(err)
	}
	if h, _ := d.Head(); h != (audit.ChainHead{}) {
		t.Error("discard has a head")
	}
	d.Close()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	d, err = file.New(file.Stdout, 0)
	os.Stdout = saved
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(context.Background(), []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Reopen(); err != nil {
		t.Error(err)
	}
	d.Close()
	w.Close()
	if out, _ := io.ReadAll(r); string(out) != "{\"a\":1}\n" {
		t.Errorf("stdout got %q", out)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
