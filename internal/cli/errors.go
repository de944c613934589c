package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wardsec/ward/client"
)

// fail prints err as an "error:" line followed by "hint:" lines saying
// what to do next, and returns exit code 1.
func (c *cmd) fail(err error) int {
	fmt.Fprintf(c.stderr, "error: %v\n", err)
	for _, h := range c.hints(err) {
		fmt.Fprintf(c.stderr, "hint: %s\n", h)
	}
	return exitError
}

// failf is fail with a formatted message.
func (c *cmd) failf(format string, args ...any) int {
	return c.fail(fmt.Errorf(format, args...))
}

// hintedError is an error that carries its own next steps.
type hintedError struct {
	err   error
	hints []string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHints attaches hints to err for fail to print.
func withHints(err error, hints ...string) error {
	return &hintedError{err: err, hints: hints}
}

// hints suggests next steps for the common failures.
func (c *cmd) hints(err error) []string {
	var he *hintedError
	if errors.As(err, &he) {
		return he.hints
	}
	var re *client.ResponseError
	if errors.As(err, &re) {
		return c.responseHints(re)
	}
	var uae x509.UnknownAuthorityError
	var cve *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return []string{fmt.Sprintf("is a server running at %s? Set WARD_ADDR or -address to reach another one", c.address)}
	case errors.As(err, &dnsErr):
		return []string{fmt.Sprintf("check the host name in WARD_ADDR (now %s)", c.address)}
	case errors.As(err, &hostErr):
		return []string{"the server's certificate is not valid for this host name; use the name it was issued for in WARD_ADDR"}
	case errors.As(err, &uae) || errors.As(err, &cve):
		return []string{"set WARD_CACERT (or -ca-cert) to the CA certificate that signed the server's certificate"}
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return []string{"the server speaks plain HTTP: use an http:// address in WARD_ADDR"}
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return []string{"the server speaks plain HTTP: use an http:// address in WARD_ADDR"}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return []string{fmt.Sprintf("the server at %s did not answer in time", c.address)}
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *cmd) responseHints(re *client.ResponseError) []string {
	msg := strings.ToLower(strings.Join(re.Errors, " "))
	switch {
	case re.Sealed():
		return []string{"the server is sealed: unseal it with `ward operator unseal` (a new server first needs `ward operator init`)"}
	case re.StatusCode == http.StatusForbidden:
		return c.forbiddenHints(re)
	case re.StatusCode == http.StatusNotFound && strings.Contains(msg, `no handler for route "auth/`):
		return []string{"no auth method is enabled there: `ward auth list` shows the enabled ones"}
	case re.StatusCode == http.StatusNotFound && strings.Contains(msg, "no handler for route") &&
		!strings.Contains(msg, `no handler for route "sys/`):
		return []string{"nothing is mounted there: `ward secrets list` shows the mounted secrets engines"}
	case re.StatusCode == http.StatusTooManyRequests:
		return []string{"the server is rate limiting requests; retry later"}
	case strings.Contains(msg, "check-and-set"):
		return []string{"the key changed since you read it: read it again and retry with -cas set to its current version"}
	case strings.Contains(msg, "wrapping token is not valid"):
		return []string{"a wrapping token can be unwrapped only once, before its TTL ends; if you did not unwrap it yourself, someone else may have seen the secret"}
	case strings.Contains(msg, "already in use"):
		return []string{"`ward secrets list` and `ward auth list` show what is mounted; choose another -path"}
	case strings.Contains(msg, "unknown secrets engine type") || strings.Contains(msg, "unknown auth method type"):
		return []string{"check the spelling of TYPE: this server has no engine of that type"}
	case strings.Contains(msg, "subset of parent"):
		return []string{"a token can give its children only policies it has itself; `ward token lookup` shows yours"}
	case strings.Contains(msg, "no mount at"):
		return []string{"`ward secrets list` shows the mounted secrets engines"}
	}
	return nil
}

// forbiddenHints explains a 403: no token, or a token whose policies do
// not allow the request. For a refused write it asks the server what the
// token may do there, to name the common case of a policy that allows
// adding secrets but not overwriting them.
func (c *cmd) forbiddenHints(re *client.ResponseError) []string {
	tok, _ := resolveToken()
	if tok == "" {
		if v, ok := os.LookupEnv("WARD_TOKEN"); ok && v == "" && os.Getenv("VAULT_TOKEN") != "" {
			return []string{"WARD_TOKEN is set to the empty string, which hides VAULT_TOKEN: unset WARD_TOKEN to use VAULT_TOKEN, or run `ward login`"}
		}
		return []string{"no token is set: run `ward login` or set WARD_TOKEN"}
	}
	path := apiPath(re.URL)
	if path == "" {
		return []string{"check that WARD_TOKEN (or the token saved by `ward login`) is valid and its policies allow this request"}
	}
	first := fmt.Sprintf("check that WARD_TOKEN (or the token saved by `ward login`) is valid and its policies allow %s on %s", re.Method, path)
	if kvPath, ok := strings.CutPrefix(path, "sys/internal/ui/mounts/"); ok {
		// The KV commands' mount lookup: refused when nothing is mounted
		// there, or when the token may do nothing at all under the mount.
		return []string{
			"is a secrets engine mounted there? `ward secrets list` shows the mounts",
			fmt.Sprintf("if so, check that WARD_TOKEN (or the token saved by `ward login`) is valid and its policies allow something under %s", kvPath),
		}
	}
	if re.Method == http.MethodPut || re.Method == http.MethodPost {
		if caps := c.selfCapabilities(path); slices.Contains(caps, "create") && !slices.Contains(caps, "update") {
			first = fmt.Sprintf("your token may create %s but not update it: its policy lets it add new secrets there, not overwrite one that exists", path)
		}
	}
	return []string{first, fmt.Sprintf("`ward token capabilities %s` shows what the token may do there", path)}
}

// selfCapabilities asks for the current token's capabilities on path,
// returning nil when that fails too.
func (c *cmd) selfCapabilities(path string) []string {
	cl, err := c.client()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	caps, err := cl.WithWrapTTL("").Sys().Capabilities(ctx, "", path)
	if err != nil {
		return nil
	}
	return caps
}

// apiPath returns the API path of a request URL ("secret/data/x" for
// "http://host/v1/secret/data/x?list=true"), or "" if it has none.
func apiPath(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	_, p, ok := strings.Cut(u.Path, "/v1/")
	if !ok {
		return ""
	}
	return p
}
