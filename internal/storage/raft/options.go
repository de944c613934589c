package raft

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"
)

// Defaults for the zero fields of Options. They are tuned for a LAN or
// loopback cluster: a follower notices a dead leader after 0.5–1 s (a
// random point between one and two heartbeat timeouts) and a new leader is
// usually elected within one more round trip, well under 3 s.
const (
	DefaultHeartbeatTimeout   = 500 * time.Millisecond
	DefaultElectionTimeout    = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout = 500 * time.Millisecond
	DefaultCommitTimeout      = 50 * time.Millisecond
	DefaultSnapshotThreshold  = 8192
	DefaultSnapshotInterval   = 2 * time.Minute
	DefaultTrailingLogs       = 10240
	DefaultMaxAppendEntries   = 256
	DefaultSnapshotRetain     = 2
)

// Options configures Open. Dir, NodeID and ClusterAddr are required; every
// other zero field takes the default above.
type Options struct {
	// Dir holds the node's state: raft/raft.db (log and stable store),
	// snapshots/ and fsm.db. It is created with mode 0700 if missing.
	Dir string

	// NodeID names this node in the raft configuration. It must stay the
	// same across restarts and be unique in the cluster.
	NodeID string

	// ClusterAddr is the host:port other nodes dial for raft traffic. It
	// is advertised in the configuration, so it must be an address peers
	// can reach (not 0.0.0.0). Port 0 picks a free port; Addr reports it.
	ClusterAddr string

	// BindAddr is where the raft listener binds, when it differs from
	// ClusterAddr (for example "0.0.0.0:8201" behind NAT). "" means
	// ClusterAddr.
	BindAddr string

	// TLS, when set, makes raft traffic mutual TLS: the node listens and
	// dials with TLS.Certificates (or GetCertificate and
	// GetClientCertificate, to change it at run time) and accepts only
	// peers whose certificate chains to TLS.ClientCAs (and, dialing,
	// TLS.RootCAs). nil is plain TCP, for a private network.
	TLS *tls.Config

	// Logger receives raft's own log lines (hclog levels mapped to slog:
	// trace and debug to Debug, info to Info, and so on). nil discards.
	Logger *slog.Logger

	// HeartbeatTimeout is how long a follower waits without contact
	// before it starts an election; ElectionTimeout bounds a candidate's
	// wait for votes; LeaderLeaseTimeout is how long a leader keeps
	// leading without hearing from a quorum before it steps down. The
	// lease must not exceed the heartbeat timeout, and the election
	// timeout must not be below it.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// CommitTimeout is the longest a leader waits before sending an
	// otherwise idle heartbeat that carries the commit index.
	CommitTimeout time.Duration

	// SnapshotThreshold is the number of log entries since the last
	// snapshot that triggers a new one; SnapshotInterval is how often the
	// threshold is checked. TrailingLogs entries stay in the log after a
	// snapshot so a briefly lagging follower catches up from the log
	// rather than by a full snapshot transfer.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64

	// MaxAppendEntries caps the entries sent in one replication request
	// and the writes grouped into one log append (and one fsync).
	MaxAppendEntries int

	// SnapshotRetain is how many snapshots are kept in snapshots/.
	SnapshotRetain int
}

// withDefaults returns a copy of o with defaults filled in, or an error
// naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("raft: open: path is empty; set the storage directory")
	}
	if o.NodeID == "" {
		return o, errors.New("raft: open: node_id is empty; give every node a stable, unique id")
	}
	if o.ClusterAddr == "" {
		return o, errors.New("raft: open: cluster_addr is empty; set the host:port peers dial for raft")
	}
	host, _, err := net.SplitHostPort(o.ClusterAddr)
	if err != nil {
		return o, fmt.Errorf("raft: open: cluster_addr %q: %w", o.ClusterAddr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return o, fmt.Errorf("raft: open: cluster_addr %q is not an address peers can dial; use a specific host and set BindAddr for a wildcard bind", o.ClusterAddr)
	}
	if o.BindAddr == "" {
		o.BindAddr = o.ClusterAddr
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&o.HeartbeatTimeout, DefaultHeartbeatTimeout)
	setDefault(&o.ElectionTimeout, DefaultElectionTimeout)
	setDefault(&o.LeaderLeaseTimeout, min(DefaultLeaderLeaseTimeout, o.HeartbeatTimeout))
	setDefault(&o.CommitTimeout, DefaultCommitTimeout)
	setDefault(&o.SnapshotThreshold, DefaultSnapshotThreshold)
	setDefault(&o.SnapshotInterval, DefaultSnapshotInterval)
	setDefault(&o.TrailingLogs, DefaultTrailingLogs)
	setDefault(&o.MaxAppendEntries, DefaultMaxAppendEntries)
	setDefault(&o.SnapshotRetain, DefaultSnapshotRetain)
	return o, nil
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// raftConfig builds hashicorp/raft's configuration from complete options.
func (o Options) raftConfig(notify chan bool, restoreOnStart bool) (*hraft.Config, error) {
	c := hraft.DefaultConfig()
	c.LocalID = hraft.ServerID(o.NodeID)
	c.Logger = newHCLogger(o.Logger.With("component", "raft"))
	c.HeartbeatTimeout = o.HeartbeatTimeout
	c.ElectionTimeout = o.ElectionTimeout
	c.LeaderLeaseTimeout = o.LeaderLeaseTimeout
	c.CommitTimeout = o.CommitTimeout
	c.SnapshotThreshold = o.SnapshotThreshold
	c.SnapshotInterval = o.SnapshotInterval
	c.TrailingLogs = o.TrailingLogs
	c.MaxAppendEntries = o.MaxAppendEntries
	c.NotifyCh = notify
	c.NoSnapshotRestoreOnStart = !restoreOnStart
	if err := hraft.ValidateConfig(c); err != nil {
		return nil, fmt.Errorf("raft: open: %w", err)
	}
	return c, nil
}
