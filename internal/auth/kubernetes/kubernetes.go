package kubernetes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// DefaultReviewTimeout bounds one TokenReview call, connection included.
const DefaultReviewTimeout = 10 * time.Second

var _ engine.Factory = Factory

// Factory creates the Kubernetes auth method for a mount. It does no I/O.
func Factory(_ context.Context, env engine.Env) (engine.Backend, error) {
	if env.Storage == nil {
		return nil, fmt.Errorf("create kubernetes auth method: no storage")
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &backend{
		store:   env.Storage,
		log:     logger,
		mount:   env.MountPath,
		timeout: DefaultReviewTimeout,
	}
	b.Mux = engine.NewMux(
		engine.Path{
			Pattern: "config",
			Summary: "Configure how to reach the Kubernetes TokenReview API.",
			Read:    b.readConfig,
			Write:   b.writeConfig,
		},
		engine.Path{
			Pattern: "role",
			Summary: "List the roles.",
			List:    b.listRoles,
		},
		engine.Path{
			Pattern: "role/{name}",
			Summary: "Bind service account names and namespaces to token settings.",
			Read:    b.readRole,
			Write:   b.writeRole,
			Delete:  b.deleteRole,
			Exists:  b.roleExists,
		},
		engine.Path{
			Pattern:         "login",
			Summary:         "Log in with a service account token (role, jwt).",
			Write:           b.login,
			Unauthenticated: true,
		},
	)
	return b, nil
}

type backend struct {
	*engine.Mux
	store   storage.Backend
	log     *slog.Logger
	mount   string
	timeout time.Duration

	mu        sync.Mutex
	clientKey string // host and CA the cached client was built for
	client    *http.Client
}

// httpClient returns a client that trusts c's CA (the system roots when it
// has none), reusing the one built for the same host and CA.
func (b *backend) httpClient(c *config) (*http.Client, error) {
	key := c.Host + "\x00" + c.CACert
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client != nil && b.clientKey == key {
		return b.client, nil
	}
	var roots *x509.CertPool
	if c.CACert != "" {
		pool, err := certPool(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("kubernetes_ca_cert: %w", err)
		}
		roots = pool
	}
	dialer := &net.Dialer{Timeout: b.timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		// No proxy: the API server is reached directly, as Vault does.
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   b.timeout,
		ResponseHeaderTimeout: b.timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	if b.client != nil {
		b.client.CloseIdleConnections()
	}
	b.client = &http.Client{
		Transport: transport,
		Timeout:   b.timeout,
		// A redirect would carry the bearer token elsewhere: refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	b.clientKey = key
	return b.client, nil
}

// Close drops idle connections to the API server. Core calls it when the
// mount is disabled or the server seals.
func (b *backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client != nil {
		b.client.CloseIdleConnections()
		b.client = nil
	}
	return nil
}
