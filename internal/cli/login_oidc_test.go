package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

// lockedBuffer is a strings.Builder safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeOIDCWard answers auth/oidc/oidc/auth_url and oidc/callback the way
// Ward does, with an authorize page on the same server that sends the
// browser straight back with a code.
type fakeOIDCWard struct {
	srv         *httptest.Server
	mu          sync.Mutex
	redirect    string
	clientNonce string
	role        string
	callbacks   int
}

func newFakeOIDCWard(t *testing.T) *fakeOIDCWard {
	f := &fakeOIDCWard{}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/auth/oidc/oidc/auth_url", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.redirect, f.clientNonce, f.role = in["redirect_uri"], in["client_nonce"], in["role"]
		f.mu.Unlock()
		u := f.srv.URL + "/authorize?" + url.Values{"redirect_uri": {in["redirect_uri"]}, "state": {"st-1"}}.Encode()
		json.NewEncoder(w).Encode(api.Secret{Data: map[string]any{"auth_url": u}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		u, _ := url.Parse(r.URL.Query().Get("redirect_uri"))
		u.RawQuery = url.Values{"state": {r.URL.Query().Get("state")}, "code": {"code-1"}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("GET /v1/auth/oidc/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.callbacks++
		ok := q.Get("state") == "st-1" && q.Get("code") == "code-1" && q.Get("client_nonce") == f.clientNonce && r.Header.Get("X-Vault-Token") == ""
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":["Expired or missing OAuth state."]}`))
			return
		}
		json.NewEncoder(w).Encode(api.Secret{Auth: &api.Auth{ClientToken: "hvs.oidc", Policies: []string{"default", "people"}}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func newLoginCmd(t *testing.T, stdin string, args ...string) (*cmd, *lockedBuffer) {
	stderr := &lockedBuffer{}
	a := &app{stdin: strings.NewReader(stdin), stdout: io.Discard, stderr: stderr}
	c := a.newCmd(&command{name: "login"})
	c.args = args
	return c, stderr
}

func TestLoginOIDC(t *testing.T) {
	f := newFakeOIDCWard(t)
	cl, err := client.New(&client.Config{Address: f.srv.URL, Token: "hvs.stale"})
	if err != nil {
		t.Fatal(err)
	}
	c, stderr := newLoginCmd(t, "", "role=people", "port=0", "skip_browser=true", "timeout=20s")
	type result struct {
		auth *api.Auth
		err  error
	}
	done := make(chan result, 1)
	go func() {
		a, err := c.loginOIDC(cl, "oidc")
		done <- result{a, err}
	}()

	// Play the browser: wait for the URL, open it, follow the redirects
	// to the CLI's callback listener.
	urlLine := regexp.MustCompile(`(?m)^    (http\S+)$`)
	var authURL string
	for deadline := time.Now().Add(10 * time.Second); authURL == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlLine.FindStringSubmatch(stderr.String()); m != nil {
			authURL = m[1]
		}
	}
	if authURL == "" {
		t.Fatalf("no URL printed:\n%s", stderr.String())
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "login complete") {
		t.Errorf("browser page %s: %s", resp.Status, page)
	}
	r := <-done
	if r.err != nil || r.auth == nil || r.auth.ClientToken != "hvs.oidc" {
		t.Fatalf("loginOIDC = %+v, %v\n%s", r.auth, r.err, stderr.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.role != "people" || !regexp.MustCompile(`^http://localhost:\d+/oidc/callback$`).MatchString(f.redirect) || len(f.clientNonce) < 20 {
		t.Errorf("auth_url request: role %q redirect %q nonce %q", f.role, f.redirect, f.clientNonce)
	}
}

func TestLoginOIDCFailures(t *testing.T) {
	f := newFakeOIDCWard(t)
	cl, _ := client.New(&client.Config{Address: f.srv.URL})

	c, _ := newLoginCmd(t, "", "bogus=1")
	if _, err := c.loginOIDC(cl, "oidc"); err == nil || !strings.Contains(err.Error(), `unknown login argument "bogus"`) {
		t.Errorf("unknown argument: %v", err)
	}
	c, _ = newLoginCmd(t, "", "port=0", "skip_browser=true", "timeout=300ms")
	if _, err := c.loginOIDC(cl, "oidc"); err == nil || !strings.Contains(err.Error(), "no callback from the provider") {
		t.Errorf("timeout: %v", err)
	}
	c, _ = newLoginCmd(t, "", "port=0", "skip_browser=true")
	if _, err := c.loginOIDC(cl, "nowhere"); client.StatusCode(err) != http.StatusNotFound {
		t.Errorf("unknown mount: %v", err)
	}
}
