package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/config"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/storage/raft"
)

// clusterAddrs works out, for raft storage, where this node listens for
// raft traffic (bind, host:port), what it advertises to its peers
// (advertise, host:port) and the API address other nodes forward to.
func clusterAddrs(cfg *config.Config) (bind, advertise, apiAddr string, err error) {
	for _, l := range cfg.Listeners {
		if l.ClusterAddress != "" {
			bind = l.ClusterAddress
			break
		}
	}
	if cfg.ClusterAddr != "" {
		u, err := url.Parse(cfg.ClusterAddr)
		if err != nil || u.Host == "" {
			return "", "", "", fmt.Errorf("cluster_addr %q must be a URL such as https://10.0.0.1:8201", cfg.ClusterAddr)
		}
		advertise = u.Host
	}
	switch {
	case bind == "" && advertise == "":
		return "", "", "", errors.New(`raft storage needs a cluster address: set cluster_addr, or cluster_address in a listener block`)
	case bind == "":
		bind = advertise
	case advertise == "":
		advertise = bind
	}
	if host, _, _ := net.SplitHostPort(advertise); host == "" || net.ParseIP(host).IsUnspecified() {
		return "", "", "", fmt.Errorf("cluster address %q is not one other nodes can dial; set cluster_addr", advertise)
	}
	apiAddr = cfg.APIAddr
	if apiAddr == "" && len(cfg.Listeners) > 0 {
		l := cfg.Listeners[0]
		scheme := "https"
		if l.TLSDisable {
			scheme = "http"
		}
		apiAddr = scheme + "://" + l.Address
	}
	return bind, advertise, apiAddr, nil
}

// openRaft opens raft storage in s.Path. A node without node_id gets a
// random one, kept in <path>/node-id so that it survives restarts. It
// returns the certificate raft traffic uses (nil without TLS), which
// SIGHUP reloads.
func openRaft(cfg *config.Config, log *slog.Logger) (*raft.Backend, *certReloader, error) {
	bind, advertise, _, err := clusterAddrs(cfg)
	if err != nil {
		return nil, nil, err
	}
	id := cfg.Storage.NodeID
	if id == "" {
		if id, err = persistentNodeID(cfg.Storage.Path); err != nil {
			return nil, nil, err
		}
	}
	tlsConf, cert, err := raftTLS(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	b, err := raft.Open(context.Background(), raft.Options{
		Dir: cfg.Storage.Path, NodeID: id, ClusterAddr: advertise, BindAddr: bind, Logger: log, TLS: tlsConf,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open raft storage: %w", err)
	}
	return b, cert, nil
}

// raftTLS is the mutual TLS of raft traffic: the cluster listener's
// certificate as this node's identity, served through a reloader so that
// SIGHUP replaces it as it does the API's, and tls_client_ca_file as the
// CA every node's certificate must chain to. A listener with tls_disable
// leaves raft in plain TCP, with a warning.
func raftTLS(cfg *config.Config, log *slog.Logger) (*tls.Config, *certReloader, error) {
	l := cfg.Listeners[0]
	for _, c := range cfg.Listeners {
		if c.ClusterAddress != "" {
			l = c
			break
		}
	}
	if l.TLSDisable {
		log.Warn("server: raft traffic between nodes is not encrypted or authenticated (the listener sets tls_disable); keep the cluster port on a private network")
		return nil, nil, nil
	}
	if l.TLSClientCAFile == "" {
		return nil, nil, fmt.Errorf(`listener "tcp" %s: raft storage needs tls_client_ca_file: the CA that signed every node's certificate, which raft traffic is authenticated with`, l.Address)
	}
	cert, err := newCertReloader(l.TLSCertFile, l.TLSKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("raft TLS: %w", err)
	}
	pem, err := os.ReadFile(l.TLSClientCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("raft TLS: tls_client_ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("raft TLS: tls_client_ca_file %s holds no PEM certificate", l.TLSClientCAFile)
	}
	conf := &tls.Config{
		GetCertificate:       cert.get,
		GetClientCertificate: cert.getClient,
		ClientCAs:            pool,
		MinVersion:           tls.VersionTLS13,
	}
	return conf, cert, nil
}

func persistentNodeID(dir string) (string, error) {
	path := filepath.Join(dir, "node-id")
	if raw, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("raft storage: %w", err)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := "ward-" + hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("raft storage: %w", err)
	}
	return id, nil
}

// forwardTransport is how a standby reaches the active node: from this
// node's own API address, trusting the system roots, the certificate file
// of this node's first TLS listener and its tls_client_ca_file (cluster
// nodes share a CA).
func forwardTransport(cfg *config.Config) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(cfg.Listeners) == 0 {
		return tr
	}
	l := cfg.Listeners[0]
	if host, _, err := net.SplitHostPort(l.Address); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
			tr.DialContext = d.DialContext
		}
	}
	if !l.TLSDisable && l.TLSCertFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range []string{l.TLSCertFile, l.TLSClientCAFile} {
			if pem, err := os.ReadFile(f); f != "" && err == nil {
				pool.AppendCertsFromPEM(pem)
			}
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	return tr
}

// retryJoin tries each retry_join leader in turn, every few seconds,
// until this node is initialized (joined, or initialized by hand) or ctx
// ends.
func retryJoin(ctx context.Context, c *core.Core, joins []config.RetryJoin, log *slog.Logger) {
	if len(joins) == 0 {
		return
	}
	for {
		if ok, err := c.Initialized(ctx); (err == nil && ok) || c.Joined() {
			return
		}
		for _, j := range joins {
			err := c.JoinRaft(ctx, j.LeaderAPIAddr)
			if err == nil {
				log.Info("server: retry_join: join started; unseal this node to finish it", "leader", j.LeaderAPIAddr)
				return
			}
			log.Warn("server: retry_join: could not join; retrying", "leader", j.LeaderAPIAddr, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}
