package raft

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bbolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/storage"
)

// Errors returned by Backend methods, matched with errors.Is.
var (
	// ErrNotLeader means this node is not the (ready) leader, so it
	// neither accepts writes nor serves reads; send the request to the
	// node Leader names. A write that failed with it was not applied.
	ErrNotLeader = fmt.Errorf("raft: this node is not the leader: %w", storage.ErrNotLeader)

	// ErrLeadershipLost means leadership was lost while a write was in
	// flight: it may or may not have been applied. It matches
	// ErrNotLeader too.
	ErrLeadershipLost = fmt.Errorf("%w: leadership lost with the write in flight; it may or may not have been applied", ErrNotLeader)

	// ErrClosed means Close was called.
	ErrClosed = errors.New("raft: backend is closed")

	// ErrBootstrapped means Bootstrap was called on a node that already
	// has raft state (it was bootstrapped before or has joined a cluster).
	ErrBootstrapped = fmt.Errorf("raft: node already has raft state: %w", storage.ErrBootstrapped)

	// ErrUnknownPeer means RemovePeer named a node id that is not in the
	// configuration.
	ErrUnknownPeer = errors.New("raft: no such peer in the configuration")
)

// Backend is a storage.Backend replicated by raft. See the package doc for
// what each method guarantees; all are safe for concurrent use.
type Backend struct {
	opts  Options
	raft  *hraft.Raft
	fsm   *fsm
	logs  *raftboltdb.BoltStore
	snaps *hraft.FileSnapshotStore
	trans *hraft.NetworkTransport

	lead        leadership
	verifier    verifier
	reusedState bool // Open kept fsm.db rather than rebuilding it

	closing   chan struct{} // closed by Close
	watchDone chan struct{} // closed when the leadership watcher exits
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ storage.Backend = (*Backend)(nil)

// Open starts a raft node from opts.Dir, creating the directory if needed.
// A node with no raft state does not form a cluster by itself: call
// Bootstrap on the first node, and AddVoter on the leader for each other.
// A node with state rejoins its cluster and catches up from the leader.
func Open(ctx context.Context, opts Options) (*Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("raft: open: %w", err)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Backend{opts: opts, closing: make(chan struct{}), watchDone: make(chan struct{})}
	b.lead.init()
	if err := b.open(); err != nil {
		b.release()
		return nil, err
	}
	return b, nil
}

// open builds the stores, the FSM, the transport and raft; on error the
// caller releases whatever was built.
func (b *Backend) open() error {
	o := b.opts
	logger := newHCLogger(o.Logger.With("component", "raft"))
	raftDir := filepath.Join(o.Dir, "raft")
	if err := os.MkdirAll(raftDir, 0o700); err != nil {
		return fmt.Errorf("raft: open: create %s: %w", raftDir, err)
	}
	// Temporary files of a RestoreSnapshot interrupted by a crash.
	stale, _ := filepath.Glob(filepath.Join(o.Dir, "restore-*.snap"))
	for _, f := range stale {
		os.Remove(f)
	}
	var err error
	logPath := filepath.Join(raftDir, "raft.db")
	b.logs, err = raftboltdb.New(raftboltdb.Options{
		Path:        logPath,
		BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true},
	})
	if err != nil {
		return fmt.Errorf("raft: open log store %s (is another ward server using this path?): %w", logPath, err)
	}
	b.snaps, err = hraft.NewFileSnapshotStoreWithLogger(o.Dir, o.SnapshotRetain, logger)
	if err != nil {
		return fmt.Errorf("raft: open snapshot store: %w", err)
	}
	hasState, err := hraft.HasExistingState(b.logs, b.logs, b.snaps)
	if err != nil {
		return fmt.Errorf("raft: open: read raft state: %w", err)
	}
	lastIndex, err := b.lastIndex()
	if err != nil {
		return err
	}
	fsmPath := filepath.Join(o.Dir, fsmFile)
	var reused bool
	b.fsm, reused, err = openFSM(fsmPath, o.Logger, func(applied uint64) bool {
		// A file that is ahead of the log belongs to other raft state.
		return hasState && applied <= lastIndex
	})
	if err != nil {
		return fmt.Errorf("raft: open state file %s: %w", fsmPath, err)
	}
	b.reusedState = reused
	o.Logger.Info("raft: opening node", "node_id", o.NodeID, "cluster_addr", o.ClusterAddr,
		"has_state", hasState, "fsm_reused", reused)

	notify := make(chan bool, 1)
	conf, err := o.raftConfig(notify, !reused)
	if err != nil {
		return err
	}
	tcpAddr, err := net.ResolveTCPAddr("tcp", o.ClusterAddr)
	if err != nil {
		return fmt.Errorf("raft: open: cluster_addr %q: %w", o.ClusterAddr, err)
	}
	var advertise net.Addr = tcpAddr
	if tcpAddr.Port == 0 {
		advertise = nil // advertise the port the listener picked
	}
	stream, err := newStreamLayer(o.BindAddr, advertise, o.TLS)
	if err != nil {
		return fmt.Errorf("raft: open: listen on %s: %w", o.BindAddr, err)
	}
	b.trans = hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  logger,
	})
	cache, err := hraft.NewLogCache(512, b.logs)
	if err != nil {
		return fmt.Errorf("raft: open: %w", err)
	}
	b.raft, err = hraft.NewRaft(conf, b.fsm, cache, b.logs, b.snaps, b.trans)
	if err != nil {
		return fmt.Errorf("raft: open: start raft: %w", err)
	}
	b.verifier.raft = b.raft
	go b.watchLeadership(notify)
	return nil
}

// lastIndex is the highest index in the log or the latest snapshot.
func (b *Backend) lastIndex() (uint64, error) {
	last, err := b.logs.LastIndex()
	if err != nil {
		return 0, fmt.Errorf("raft: open: read log: %w", err)
	}
	snaps, err := b.snaps.List()
	if err != nil {
		return 0, fmt.Errorf("raft: open: list snapshots: %w", err)
	}
	if len(snaps) > 0 {
		last = max(last, snaps[0].Index)
	}
	return last, nil
}

// release closes whatever open built, in reverse order.
func (b *Backend) release() error {
	var errs []error
	if b.raft != nil {
		if err := b.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("shut down raft: %w", err))
		}
	} else {
		close(b.watchDone) // the watcher never started
	}
	if b.trans != nil {
		if err := b.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close transport: %w", err))
		}
	}
	if b.fsm != nil {
		if err := b.fsm.close(); err != nil {
			errs = append(errs, fmt.Errorf("close state file: %w", err))
		}
	}
	if b.logs != nil {
		if err := b.logs.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close log store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close stops raft and closes every file. It does not hand leadership over
// first: the other nodes elect a new leader after their heartbeat timeout.
// Call StepDown before Close for a faster, planned handover. Close is
// idempotent; every method called after it fails with ErrClosed.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		close(b.closing)
		err := b.release()
		<-b.watchDone
		b.lead.closeSubscribers()
		if err != nil {
			b.closeErr = fmt.Errorf("raft: close: %w", err)
		}
	})
	return b.closeErr
}

// NodeID returns this node's id.
func (b *Backend) NodeID() string { return b.opts.NodeID }

// Addr returns the cluster address this node advertises to its peers, with
// the real port when ClusterAddr asked for port 0.
func (b *Backend) Addr() string { return string(b.trans.LocalAddr()) }

// Bootstrap makes this node the only voter of a new cluster and waits until
// it is the ready leader. It fails with ErrBootstrapped if the node already
// has raft state.
func (b *Backend) Bootstrap(ctx context.Context) error {
	if b.closed.Load() {
		return fmt.Errorf("raft: bootstrap: %w", ErrClosed)
	}
	conf := hraft.Configuration{Servers: []hraft.Server{{
		Suffrage: hraft.Voter,
		ID:       hraft.ServerID(b.opts.NodeID),
		Address:  b.trans.LocalAddr(),
	}}}
	err := b.raft.BootstrapCluster(conf).Error()
	if errors.Is(err, hraft.ErrCantBootstrap) {
		return fmt.Errorf("raft: bootstrap: %w", ErrBootstrapped)
	}
	if err != nil {
		return fmt.Errorf("raft: bootstrap: %w", err)
	}
	if err := b.WaitLeader(ctx); err != nil {
		return fmt.Errorf("raft: bootstrap: %w", err)
	}
	return nil
}

// timeout turns ctx's deadline into a raft enqueue timeout; 0 means none.
func timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 0
}

// mapErr translates hashicorp/raft's errors into this package's.
func (b *Backend) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, hraft.ErrNotLeader), errors.Is(err, hraft.ErrLeadershipTransferInProgress):
		return ErrNotLeader
	case errors.Is(err, hraft.ErrLeadershipLost), errors.Is(err, hraft.ErrAbortedByRestore):
		return ErrLeadershipLost
	case errors.Is(err, hraft.ErrRaftShutdown):
		if b.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("%w: raft has shut down (was this node removed from the cluster?)", ErrNotLeader)
	case errors.Is(err, hraft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
