package storage

import (
	"context"
	"errors"
	"io"
)

// Errors of replicated backends, which their own errors wrap.
var (
	// ErrNotLeader: the operation needs the leader, and this node is not.
	ErrNotLeader = errors.New("storage: this node is not the leader")
	// ErrBootstrapped: Bootstrap on a node that already has a cluster.
	ErrBootstrapped = errors.New("storage: node already belongs to a cluster")
	// ErrInvalidSnapshot: a snapshot to restore is damaged or not one.
	ErrInvalidSnapshot = errors.New("storage: not a valid snapshot")
)

// HA is implemented by replicated backends (raft): several servers share
// the data, and only the leader reads and writes through the Backend
// methods. Core makes the leader the active server and the others
// standbys that forward requests to it.
type HA interface {
	Backend
	// LeaderCh returns a channel that reports this node's leadership:
	// the current state first, then every change (true = leader, ready
	// to serve linearizable reads and writes).
	LeaderCh() <-chan bool
	// IsLeader reports whether this node is the ready leader now.
	IsLeader() bool
	// Leader returns the current leader's node ID and cluster address,
	// or empty strings when none is known.
	Leader() (id, addr string)
	// NodeID is this node's ID.
	NodeID() string
	// Local is a read-only view of this node's own copy, without a
	// leadership check: possibly stale on a follower. Standbys read the
	// seal records, the keyring and the active node's address through it.
	Local() Backend
	// Joined reports whether this node belongs to a cluster (it has
	// replicated state, though its local copy may still be catching up).
	Joined() bool
	// Bootstrap makes a node with no cluster the single voter of a new
	// one and waits until it leads. It fails with an error wrapping
	// ErrBootstrapped when the node already belongs to a cluster.
	Bootstrap(ctx context.Context) error
	// StepDown hands leadership to another node; ErrNotLeader when this
	// node does not lead.
	StepDown(ctx context.Context) error

	// Configuration lists the cluster's members as this node knows them.
	Configuration(ctx context.Context) ([]Peer, error)
	// AddVoter adds (or updates) a voting member; leader only.
	AddVoter(ctx context.Context, id, addr string) error
	// RemovePeer removes a member; leader only.
	RemovePeer(ctx context.Context, id string) error
	// SaveSnapshot streams a snapshot of the whole store; leader only.
	SaveSnapshot(ctx context.Context, w io.Writer) error
	// RestoreSnapshot replaces the whole store, on every node, with a
	// snapshot made by SaveSnapshot; leader only. A damaged snapshot is
	// an error wrapping ErrInvalidSnapshot. verify, when not nil, reads
	// the snapshot through a read-only view first and may refuse it;
	// nothing changes unless it returns nil.
	RestoreSnapshot(ctx context.Context, r io.Reader, verify func(Backend) error) error
}

// Peer is one member of a replicated cluster.
type Peer struct {
	NodeID  string `json:"node_id"`
	Address string `json:"address"` // cluster address, host:port
	Leader  bool   `json:"leader"`
	Voter   bool   `json:"voter"`
}
