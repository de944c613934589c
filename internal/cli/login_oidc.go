package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

// OIDC login defaults, Vault's: the CLI's callback listens on port 8250
// and the provider sends the browser to http://localhost:8250/oidc/callback,
// which the role's allowed_redirect_uris must list.
const (
	oidcDefaultPort    = "8250"
	oidcDefaultTimeout = 2 * time.Minute
)

// loginOIDC logs in with the OIDC authorization-code flow:
//
//	ward login -method=oidc [role=R] [mount=M] [port=8250] [skip_browser=true] [timeout=2m]
//
// It listens on 127.0.0.1:port, asks auth/<mount>/oidc/auth_url for the
// provider's URL (redirect_uri http://localhost:port/oidc/callback),
// prints it and tries to open a browser, then waits for the provider to
// send the browser back and hands state and code to oidc/callback.
func (c *cmd) loginOIDC(cl *client.Client, mount string) (*api.Auth, error) {
	kv, err := c.loginArgs("role", "mount", "port", "listenaddress", "callbackhost", "callbackport", "skip_browser", "timeout")
	if err != nil {
		return nil, err
	}
	mount = strings.Trim(firstNonEmpty(kv["mount"], mount), "/")
	port := firstNonEmpty(kv["port"], oidcDefaultPort)
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, usageErr("port must be a TCP port number")
	}
	timeout := oidcDefaultTimeout
	if kv["timeout"] != "" {
		if timeout, err = time.ParseDuration(kv["timeout"]); err != nil || timeout <= 0 {
			return nil, usageErr(`timeout must be a duration such as "2m"`)
		}
	}
	skipBrowser, _ := strconv.ParseBool(kv["skip_browser"])

	ln, err := net.Listen("tcp", net.JoinHostPort(firstNonEmpty(kv["listenaddress"], "127.0.0.1"), port))
	if err != nil {
		return nil, withHints(fmt.Errorf("oidc login: listen for the callback: %w", err),
			"another login may be waiting on this port; pick another with port=N (the role's allowed_redirect_uris must allow it)")
	}
	defer ln.Close()
	if port == "0" {
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	redirect := fmt.Sprintf("http://%s/oidc/callback",
		net.JoinHostPort(firstNonEmpty(kv["callbackhost"], "localhost"), firstNonEmpty(kv["callbackport"], port)))

	nonce := rand.Text()
	// Login paths need no token: send none, so a stale one cannot interfere.
	anon := cl.WithToken("").WithWrapTTL("")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	authPath := "auth/" + mount + "/oidc/auth_url"
	sec, err := anon.Write(ctx, authPath, map[string]any{"role": kv["role"], "redirect_uri": redirect, "client_nonce": nonce})
	if err != nil {
		return nil, oidcHint(err, mount)
	}
	var authURL string
	if sec != nil {
		authURL, _ = sec.Data["auth_url"].(string)
	}
	if authURL == "" {
		return nil, fmt.Errorf("oidc login: %s returned no auth_url; check the role and the mount's OIDC config", authPath)
	}

	results := make(chan oidcResult, 1)
	srv := &http.Server{
		Handler:           oidcCallbackHandler(ctx, cl.WithToken(""), mount, nonce, results),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	defer func() {
		// Shutdown, not Close: the callback's page must reach the browser
		// before the listener goes away.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(c.stderr, "Complete the login with your OIDC provider. Open this URL in a browser:\n\n    %s\n\n", authURL)
	if !skipBrowser {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(c.stderr, "(could not open a browser: %v; open the URL yourself)\n\n", err)
		}
	}
	fmt.Fprintf(c.stderr, "Waiting for the OIDC callback on %s ...\n", redirect)
	select {
	case r := <-results:
		if r.err != nil {
			return nil, r.err
		}
		return r.auth, nil
	case <-ctx.Done():
		return nil, withHints(fmt.Errorf("oidc login: no callback from the provider within %v", timeout),
			"finish the login in the browser sooner, or give more time with timeout=5m")
	}
}

type oidcResult struct {
	auth *api.Auth
	err  error
}

// oidcCallbackHandler answers the browser's return from the provider: it
// passes state and code to the server, reports the outcome on results
// (once) and shows the user a short page.
func oidcCallbackHandler(ctx context.Context, cl *client.Client, mount, nonce string, results chan<- oidcResult) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		data := url.Values{"state": {q.Get("state")}, "code": {q.Get("code")}, "client_nonce": {nonce}}
		for _, k := range []string{"error", "error_description"} {
			if v := q.Get(k); v != "" {
				data.Set(k, v)
			}
		}
		sec, err := cl.ReadWithData(ctx, "auth/"+mount+"/oidc/callback", data)
		var res oidcResult
		switch {
		case err != nil:
			res.err = oidcHint(err, mount)
		case sec == nil || sec.Auth == nil:
			res.err = fmt.Errorf("oidc login: the callback returned no token (a wrapped response? unwrap it with `ward unwrap`)")
		default:
			res.auth = sec.Auth
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>Ward login failed</title><h1>Ward login failed</h1><p>%s</p><p>See the terminal for details.</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!doctype html><title>Ward login complete</title><h1>Ward login complete</h1><p>You may close this window and return to the terminal.</p>")
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case results <- res:
		default: // a second callback after the first: the first one counts
		}
	})
	return mux
}

// oidcHint adds the usual next steps to a failed auth_url or callback.
func oidcHint(err error, mount string) error {
	switch client.StatusCode(err) {
	case http.StatusForbidden, http.StatusNotFound:
		return withHints(err, fmt.Sprintf("is a jwt or oidc auth method enabled at auth/%s/? `ward auth list` shows the enabled ones; -path picks another", mount))
	case http.StatusBadRequest:
		if strings.Contains(err.Error(), "redirect_uri") {
			return withHints(err, "add the redirect URI above to the role's allowed_redirect_uris, or pick a listed port with port=N")
		}
	}
	return err
}

// openBrowser asks the desktop to open u; it does not wait for the browser.
func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; its exit status does not matter
	return nil
}

// loginArgs parses KEY=VALUE login arguments, allowing only the given keys.
func (c *cmd) loginArgs(allowed ...string) (map[string]string, error) {
	p := &dataParser{stdin: c.stdin}
	data, err := p.parse(c.args)
	var ie inputError
	if errors.As(err, &ie) {
		return nil, err
	}
	if err != nil {
		return nil, usageErr(err.Error())
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			return nil, usageErr(fmt.Sprintf("unknown login argument %q; this method takes %s", k, strings.Join(allowed, ", ")))
		}
		s, ok := v.(string)
		if !ok {
			return nil, usageErr(fmt.Sprintf("login argument %q must be given once, as a string", k))
		}
		out[k] = s
	}
	return out, nil
}
