package raft

import (
	"context"
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
}

func newStreamLayer(bind string, advertise net.Addr) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	s := &streamLayer{ln: ln, advertise: advertise}
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
	return d.Dial("tcp", string(address))
}

// Local returns a read-only view of this node's own copy of the data, with
// no leadership check: on a follower it may lag the leader. It is for
// what a standby needs before it can serve (the seal records, the keyring
// to check an unseal key, the active node's address); everything else
// reads through the Backend itself. Writes through the view fail with
// ErrNotLeader.
func (b *Backend) Local() storage.Backend { return localView{b} }

type localView struct{ b *Backend }

func (v localView) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	val, ok, err := v.b.fsm.get(key)
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
	return v.b.fsm.list(prefix)
}

func (v localView) Put(context.Context, string, []byte) error {
	return fmt.Errorf("raft: local view is read-only: %w", ErrNotLeader)
}

func (v localView) Delete(context.Context, string) error {
	return fmt.Errorf("raft: local view is read-only: %w", ErrNotLeader)
}

var _ storage.HA = (*Backend)(nil)
