package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// transitFake answers encrypt and decrypt at the mounts transit/ and crypto/
// with a reversible stand-in for encryption: the ciphertext is
// "vault:v1:" + base64(context + "|" + plaintext), so a test can see what
// reached the server and a wrong context fails as it would for real.
type transitFake struct {
	mu   sync.Mutex
	reqs []fakeReq
}

func newTransitFake(t *testing.T) *transitFake {
	f := &transitFake{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	isolate(t, srv.URL)
	return f
}

func (f *transitFake) last(t *testing.T) fakeReq {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return f.reqs[len(f.reqs)-1]
}

func (f *transitFake) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		errs(w, 400, "failed to parse JSON input")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeReq{Method: r.Method, Path: path, Token: r.Header.Get("X-Vault-Token"), Body: body})
	f.mu.Unlock()
	if r.Header.Get("X-Vault-Token") != "root" {
		errs(w, 403, "permission denied")
		return
	}
	ctx := ""
	if c, ok := body["context"].(string); ok {
		b, _ := base64.StdEncoding.DecodeString(c)
		ctx = string(b)
	}
	mount, op, _ := strings.Cut(path, "/")
	op, key, _ := strings.Cut(op, "/")
	switch {
	case mount != "transit" && mount != "crypto":
		errs(w, 404, `no handler for route "`+path+`". route entry not found.`)
	case key == "nokey":
		errs(w, 400, "encryption key not found")
	case key == "retired":
		errs(w, 400, "invalid ciphertext: key version 1 is below the key's min_decryption_version (2)")
	case op == "encrypt":
		pt, err := base64.StdEncoding.DecodeString(body["plaintext"].(string))
		if err != nil {
			errs(w, 400, "failed to base64-decode plaintext")
			return
		}
		ct := "vault:v1:" + base64.StdEncoding.EncodeToString([]byte(ctx+"|"+string(pt)))
		writeJSON(w, 200, envelope(map[string]any{"ciphertext": ct, "key_version": 1}))
	case op == "decrypt":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(body["ciphertext"].(string), "vault:v1:"))
		gotCtx, pt, ok := strings.Cut(string(raw), "|")
		if err != nil || !ok || gotCtx != ctx {
			errs(w, 400, "cipher: message authentication failed")
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"plaintext": base64.StdEncoding.EncodeToString([]byte(pt))}))
	default:
		errs(w, 404, `no handler for route "`+path+`". route entry not found.`)
	}
}

func TestTransitEncrypt(t *testing.T) {
	f := newTransitFake(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "blob")
	os.WriteFile(bin, []byte("\x00\xffbinary\n"), 0o600)

	r := must(t, runCLI(t, "", "transit", "encrypt", "app", "hello"), 0)
	ct := "vault:v1:" + base64.StdEncoding.EncodeToString([]byte("|hello"))
	row(t, r.out, "ciphertext", ct)
	row(t, r.out, "key_version", "1")
	if req := f.last(t); req.Method != "PUT" || req.Path != "transit/encrypt/app" || len(req.Body) != 1 {
		t.Errorf("request = %+v", req)
	}

	// Stdin and files are sent byte for byte: no newline is trimmed.
	for _, args := range [][]string{{"app", "-"}, {"app", "@" + bin}, {"-file=" + bin, "app"}} {
		stdin := "\x00\xffbinary\n"
		must(t, runCLI(t, stdin, append([]string{"transit", "encrypt"}, args...)...), 0)
		if got := f.last(t).Body["plaintext"]; got != base64.StdEncoding.EncodeToString([]byte(stdin)) {
			t.Errorf("%v: plaintext sent = %v", args, got)
		}
	}
	must(t, runCLI(t, "", "transit", "encrypt", "app", `\@literal`), 0)
	if got := f.last(t).Body["plaintext"]; got != base64.StdEncoding.EncodeToString([]byte("@literal")) {
		t.Errorf(`\@ escape: plaintext sent = %v`, got)
	}

	r = must(t, runCLI(t, "s3cret", "transit", "encrypt", "-mount=/crypto/", "-context=tenant-7", "-key-version=2", "-field=ciphertext", "orders", "-"), 0)
	want := "vault:v1:" + base64.StdEncoding.EncodeToString([]byte("tenant-7|s3cret")) + "\n"
	if r.out != want {
		t.Errorf("-field=ciphertext printed %q, want %q", r.out, want)
	}
	req := f.last(t)
	if req.Path != "crypto/encrypt/orders" || req.Body["context"] != base64.StdEncoding.EncodeToString([]byte("tenant-7")) ||
		req.Body["key_version"] != 2.0 {
		t.Errorf("request = %+v", req)
	}

	r = must(t, runCLI(t, "", "transit", "encrypt", "-format=json", "app", "x"), 0)
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.out), &env); err != nil || env.Data["ciphertext"] == nil {
		t.Errorf("json output %q: %v", r.out, err)
	}
}

func TestTransitDecrypt(t *testing.T) {
	f := newTransitFake(t)
	dir := t.TempDir()
	secret := "\x00\xffline one\nline two\n"
	ct := "vault:v1:" + base64.StdEncoding.EncodeToString([]byte("|"+secret))
	ctFile := filepath.Join(dir, "ct")
	os.WriteFile(ctFile, []byte(ct+"\n"), 0o600)

	// Raw bytes out, exactly; the ciphertext's trailing newline is ignored.
	for _, args := range [][]string{{"app", ct}, {"app", "@" + ctFile}, {"app", "-"}, {"-file", ctFile, "app"}} {
		r := must(t, runCLI(t, ct+"\n", append([]string{"transit", "decrypt"}, args...)...), 0)
		if r.out != secret {
			t.Errorf("%v: decrypt printed %q, want %q", args, r.out, secret)
		}
		if got := f.last(t).Body["ciphertext"]; got != ct {
			t.Errorf("%v: ciphertext sent = %q", args, got)
		}
	}
	r := must(t, runCLI(t, "", "transit", "decrypt", "-base64", "app", ct), 0)
	if r.out != base64.StdEncoding.EncodeToString([]byte(secret))+"\n" {
		t.Errorf("-base64 printed %q", r.out)
	}
	r = must(t, runCLI(t, "", "transit", "decrypt", "-format=json", "app", ct), 0)
	if !strings.Contains(r.out, `"plaintext": "`+base64.StdEncoding.EncodeToString([]byte(secret))+`"`) {
		t.Errorf("json output = %s", r.out)
	}

	ctxCT := "vault:v1:" + base64.StdEncoding.EncodeToString([]byte("t7|hi"))
	r = must(t, runCLI(t, "", "transit", "decrypt", "-context=t7", "-mount=crypto", "app", ctxCT), 0)
	if r.out != "hi" || f.last(t).Path != "crypto/decrypt/app" {
		t.Errorf("with context: %q to %s", r.out, f.last(t).Path)
	}
	// The wrong context fails like a tampered ciphertext, with a hint.
	r = must(t, runCLI(t, "", "transit", "decrypt", "app", ctxCT), 1)
	contains(t, r.err, "error: ", "message authentication failed", "hint: the ciphertext was changed, or was made with another key, -context or mount")
	if r.out != "" {
		t.Errorf("a failed decrypt printed %q", r.out)
	}
	r = must(t, runCLI(t, "", "transit", "decrypt", "retired", ct), 1)
	contains(t, r.err, "hint: the key's min_decryption_version refuses this version")
	r = must(t, runCLI(t, "", "transit", "decrypt", "nokey", ct), 1)
	contains(t, r.err, "hint: `ward list transit/keys` shows the keys")
	r = must(t, runCLI(t, "", "transit", "decrypt", "-mount=nothing", "app", ct), 1)
	contains(t, r.err, "no handler for route", "hint: nothing is mounted there")
	t.Setenv("WARD_TOKEN", "other")
	r = must(t, runCLI(t, "", "transit", "decrypt", "app", ct), 1)
	contains(t, r.err, "permission denied", "hint: check that WARD_TOKEN")
}

func TestTransitUsage(t *testing.T) {
	setupDir := t.TempDir()
	newTransitFake(t)
	for _, args := range [][]string{
		{"transit", "encrypt", "app"},                                    // no INPUT
		{"transit", "encrypt", "-file=x", "app", "y"},                    // both
		{"transit", "encrypt", "transit/app", "x"},                       // a path, not a key
		{"transit", "encrypt", "-key-version=-1", "app", "x"},            // negative version
		{"transit", "encrypt", "app", "x", "y"},                          // extra argument
		{"transit", "decrypt", "app", "hunter2-not-a-ciphertext"},        // plaintext by mistake
		{"transit", "decrypt", "-key-version=2", "app", "vault:v1:AAAA"}, // encrypt-only flag
	} {
		r := runCLI(t, "", args...)
		if r.code != 2 || !strings.HasPrefix(r.err, "error: ") || !strings.Contains(r.err, "hint: run `ward transit ") {
			t.Errorf("%v: code %d, stderr %q", args, r.code, r.err)
		}
		if strings.Contains(r.err, "hunter2") {
			t.Errorf("%v: stderr echoes the input: %s", args, r.err)
		}
	}
	// A file that cannot be read is a failure (1), not a usage error.
	r := must(t, runCLI(t, "", "transit", "encrypt", "app", "@"+filepath.Join(setupDir, "missing")), 1)
	contains(t, r.err, "error: ", "missing")
	must(t, runCLI(t, "", "transit", "encrypt", "-file="+filepath.Join(setupDir, "missing"), "app"), 1)

	r = must(t, runCLI(t, "", "transit", "encrypt", "-h"), 0)
	contains(t, r.out, "-context", "-key-version", "-mount", "-file", "(default transit)", "Examples:")
	r = must(t, runCLI(t, "", "transit"), 0)
	contains(t, r.out, "encrypt", "decrypt")
}
