package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

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

// hints suggests next steps for the common failures.
func (c *cmd) hints(err error) []string {
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
		return []string{fmt.Sprintf("is the server running? WARD_ADDR is %s; set WARD_ADDR or -address to reach another one", c.address)}
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
		tok, _ := resolveToken()
		if tok == "" {
			return []string{"no token is set: run `ward login` or set WARD_TOKEN"}
		}
		return []string{
			"check that WARD_TOKEN (or the token saved by `ward login`) is valid and its policies allow this path",
			"`ward token capabilities PATH` shows what the token may do there",
		}
	case re.StatusCode == http.StatusNotFound && strings.Contains(msg, `no handler for route "auth/`):
		return []string{"no auth method is enabled there: `ward auth list` shows the enabled ones"}
	case re.StatusCode == http.StatusNotFound && strings.Contains(msg, "no handler for route") &&
		!strings.Contains(msg, `no handler for route "sys/`):
		return []string{"nothing is mounted there: `ward secrets list` shows the mounted secrets engines"}
	case re.StatusCode == http.StatusTooManyRequests:
		return []string{"the server is rate limiting requests; retry later"}
	case strings.Contains(msg, "check-and-set"):
		return []string{"the key changed since you read it: read it again and retry with -cas set to its current version"}
	}
	return nil
}
