package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
)

// DefaultAddress is the server address used when Config.Address is empty.
const DefaultAddress = "http://127.0.0.1:8200"

// DefaultTimeout bounds each request when Config.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// maxResponseBytes caps how much of a response body the client reads.
const maxResponseBytes = 64 << 20

// Config says how to reach a server. It is plain data: the client never
// reads environment variables or flags; the caller (for example Ward's CLI)
// fills the fields in. A nil *Config or a zero field means the default.
type Config struct {
	// Address is the server's base URL, http or https, for example
	// "https://ward.example.com:8200". Default DefaultAddress. A path in the
	// URL is kept as a prefix before /v1/.
	Address string

	// Token is sent as X-Vault-Token on every request when non-empty.
	Token string

	// CACert is the path of a PEM file holding the CA certificates the
	// server's certificate must chain to. Empty means the system roots.
	CACert string

	// SkipVerify disables TLS certificate verification. For tests only.
	SkipVerify bool

	// ClientCert and ClientKey are the paths of a PEM certificate and key
	// presented to the server (mutual TLS, the cert auth method). Both or
	// neither.
	ClientCert string
	ClientKey  string

	// Timeout bounds each request, response body included. Default
	// DefaultTimeout; a negative value means no timeout.
	Timeout time.Duration

	// HTTPClient, when set, is used as is and CACert, SkipVerify and
	// Timeout are ignored.
	HTTPClient *http.Client
}

// String describes the configuration with the token redacted.
func (c *Config) String() string {
	if c == nil {
		return "client.Config<nil>"
	}
	tok := ""
	if c.Token != "" {
		tok = "<redacted>"
	}
	return fmt.Sprintf("client.Config{Address:%q Token:%q CACert:%q SkipVerify:%t Timeout:%s}",
		c.Address, tok, c.CACert, c.SkipVerify, c.Timeout)
}

// Client talks to one Ward (or Vault) server. A Client is safe for
// concurrent use and never changes after New: WithToken and WithWrapTTL
// return modified copies that share the HTTP transport.
type Client struct {
	base    *url.URL
	hc      *http.Client
	token   string
	wrapTTL string
}

// New returns a client for cfg. A nil cfg means all defaults. It fails when
// the address is not an http(s) URL or the CA file holds no certificate.
func New(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("new client: parse address %q: %w", addr, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("new client: address %q: scheme must be http or https", addr)
	}
	if base.Host == "" {
		return nil, fmt.Errorf("new client: address %q has no host", addr)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	base.RawQuery = ""
	base.Fragment = ""

	hc := cfg.HTTPClient
	if hc == nil {
		hc, err = newHTTPClient(cfg)
		if err != nil {
			return nil, err
		}
	}
	return &Client{base: base, hc: hc, token: cfg.Token}, nil
}

func newHTTPClient(cfg *Config) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("new client: read CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("new client: CA file %s holds no PEM certificate", cfg.CACert)
		}
		tlsCfg.RootCAs = pool
	}
	tlsCfg.InsecureSkipVerify = cfg.SkipVerify
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, fmt.Errorf("new client: a client certificate needs both its certificate and key files")
	}
	if cfg.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("new client: load client certificate: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{pair}
	}
	tr.TLSClientConfig = tlsCfg

	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}, nil
}

// checkRedirect follows a single redirect (a standby pointing at the active
// node) and refuses to downgrade from https to http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > 1 {
		return errors.New("stopped after one redirect")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("refusing redirect from https to http")
	}
	return nil
}

// Address returns the server's base URL.
func (c *Client) Address() string { return c.base.String() }

// Token returns the token the client sends, or "" for none.
func (c *Client) Token() string { return c.token }

// WrapTTL returns the response-wrapping TTL the client requests, or "".
func (c *Client) WrapTTL() string { return c.wrapTTL }

// WithToken returns a copy of c that sends token (none when empty).
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// WithWrapTTL returns a copy of c that asks the server to wrap every
// response in a single-use token living ttl ("5m", "300"); "" turns
// wrapping off. A wrapped response carries only Secret.WrapInfo.
func (c *Client) WithWrapTTL(ttl string) *Client {
	cp := *c
	cp.wrapTTL = ttl
	return &cp
}

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("client.Client{Address:%q}", c.Address())
}

// checkToken rejects tokens that cannot travel in a header.
func checkToken(tok string) error {
	for _, r := range tok {
		if !unicode.IsPrint(r) || r > unicode.MaxASCII {
			return errors.New("token contains non-printable characters")
		}
	}
	return nil
}
