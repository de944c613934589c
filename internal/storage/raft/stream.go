package raft

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/wardsec/ward/internal/storage"
)

// streamLayer is raft's TCP transport: it listens on the bind address and
// dials peers from the bind address's IP, so that a node's cluster
// traffic always leaves from its own address (multi-homed hosts, and
// tests that partition one node by its address).
type streamLayer struct {
	ln        net.Listener
	advertise net.Addr
	dialer    net.Dialer
	// tls, when set, wraps every connection in mutual TLS.
	tls *tls.Config
}

func newStreamLayer(bind string, advertise net.Addr, tlsConf *tls.Config) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if tlsConf != nil {
		tlsConf = clusterTLS(tlsConf)
		ln = tls.NewListener(ln, tlsConf)
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	s := &streamLayer{ln: ln, advertise: advertise, tls: tlsConf}
	if host, _, err := net.SplitHostPort(bind); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			s.dialer.LocalAddr = &net.TCPAddr{IP: ip}
		}
	}
	return s, nil
}

func (s *streamLayer) Accept() (net.Conn, error) { return s.ln.Accept() }
func (s *streamLayer) Close() error              { return s.ln.Close() }
func (s *streamLayer) Addr() net.Addr            { return s.advertise }

// Dial connects to a peer's advertised cluster address.
func (s *streamLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := s.dialer
	d.Timeout = timeout
	if s.tls == nil {
		return d.Dial("tcp", string(address))
	}
	return tls.DialWithDialer(&d, "tcp", string(address), s.tls)
}

// clusterTLS is conf set up for mutual TLS among cluster nodes: both
// sides present their certificate and accept a peer whose chain leads to
// the cluster CA (ClientCAs, or RootCAs). Names are not checked: the CA is
// the cluster's own, so any certificate it signed is a member, whatever
// address the node is reached at.
func clusterTLS(conf *tls.Config) *tls.Config {
	c := conf.Clone()
	pool := c.ClientCAs
	if pool == nil {
		pool = c.RootCAs
	}
	c.ClientCAs, c.RootCAs = pool, pool
	c.ClientAuth = tls.RequireAnyClientCert // verified by VerifyConnection, any key usage
	if c.MinVersion < tls.VersionTLS13 {
		c.MinVersion = tls.VersionTLS13
	}
	c.InsecureSkipVerify = true // the chain is checked below, without names
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("raft: the peer sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		for _, ic := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(ic)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return fmt.Errorf("raft: the peer's certificate is not from the cluster CA: %w", err)
		}
		return nil
	}
	return c
}

// Local returns a read-only view of this node's own copy of the data, with
// no leadership check: on a follower it may lag the leader. It is for
// what a standby needs before it can serve (the seal records, the keyring
// to check an unseal key, the active node's address); everything else
// reads through the Backend itself. Writes through the view fail with
// ErrNotLeader.
func (b *Backend) Local() storage.Backend { return localView{b.fsm} }

// localView reads a state file directly: this node's (Local), or a
// snapshot's being checked before a restore.
type localView struct{ f *fsm }

func (v localView) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	val, ok, err := v.f.get(key)
	if err != nil {
		return nil, fmt.Errorf("raft: local get %q: %w", key, err)
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return val, nil
}

func (v localView) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return v.f.list(prefix)
}

func (v localView) Put(context.Context, string, []byte) error {
	return fmt.Errorf("raft: local view is read-only: %w", ErrNotLeader)
}

func (v localView) Delete(context.Context, string) error {
	return fmt.Errorf("raft: local view is read-only: %w", ErrNotLeader)
}

var _ storage.HA = (*Backend)(nil)

// Joined reports whether this node belongs to a cluster: it has raft
// state (a log or a snapshot), from a bootstrap or from a leader that
// added it. Its local data may still be catching up.
func (b *Backend) Joined() bool {
	if b.closed.Load() {
		return false
	}
	last, err := b.lastIndex()
	return err == nil && last > 0
}
