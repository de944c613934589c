// Package raft is Ward's replicated storage: a storage.Backend kept
// identical on 3 or 5 nodes by github.com/hashicorp/raft, so that losing a
// minority of nodes loses no acknowledged write and a new leader takes over
// within about a second.
//
// # Starting a cluster
//
// Every node calls Open with its own directory, a stable node id and the
// cluster address peers dial. A node with no raft state waits to be told
// what cluster it is in:
//
//	b, err := raft.Open(ctx, raft.Options{Dir: dir, NodeID: "node1", ClusterAddr: "10.0.0.1:8201"})
//	// first node only, once (operator init):
//	err = b.Bootstrap(ctx)
//	// on the leader, for each joiner (its join request carries id and address):
//	err = leader.AddVoter(ctx, "node2", "10.0.0.2:8201")
//
// A node restarted from its directory rejoins on its own and catches up by
// log replication, or by a snapshot if the leader has trimmed its log.
// RemovePeer, Configuration (the sys/storage/raft/configuration list) and
// StepDown cover the rest of membership.
//
// # Who serves requests
//
// Only the leader serves. On any other node Get, List, Put, Delete, Batch,
// the snapshot calls, AddVoter, RemovePeer and StepDown fail with
// ErrNotLeader; the HTTP layer forwards client requests to the leader, and
// this package never forwards. Leader names the leader; LeaderCh and
// IsLeader report this node's own state. A node counts as leader only once
// it is "ready": elected, and with a barrier entry of its term applied, so
// every write of earlier terms is in its state.
//
// # Guarantees
//
// Writes: Put, Delete and Batch append one log entry and return nil only
// once it is committed — in the fsync'd log of a quorum — and applied to
// this node's state. Batch applies several ops atomically in one entry
// (storage declares no transaction interface, so Batch is this package's
// own). ErrNotLeader means the write was not applied; ErrLeadershipLost
// (which also matches ErrNotLeader) and a context that ended mid-wait mean
// the outcome is unknown.
//
// Reads are linearizable: a Get or List sees every write acknowledged
// before it began, on any node, across failovers. Before reading local
// state the leader confirms, in the same term it became ready in, that a
// quorum still follows it (raft's VerifyLeader: one heartbeat round). The
// cost is one round trip to the nearest quorum per read, but concurrent
// reads share a round: a read waits for the next round to start, so under
// load a round serves every read that arrived while the previous one was in
// flight. On a single node the check is local. A leader cut off from its
// quorum fails reads with ErrNotLeader rather than serve stale data.
//
// # Files in Dir
//
//	raft/raft.db  log and stable store (hashicorp/raft-boltdb, bbolt, fsync'd)
//	snapshots/    raft's file snapshot store; SnapshotRetain are kept
//	fsm.db        the state: a bbolt file, bucket "kv" for keys and values,
//	              bucket "meta" for the last applied index and a clean flag
//
// fsm.db is a cache of the log: its commits skip fsync. Close stores a
// clean flag with a synced commit; Open keeps the file only if the flag is
// there (and the file is not ahead of the log), clears it, and otherwise
// deletes the file and lets raft rebuild it from the latest snapshot plus
// the log. So a crash or power loss costs a rebuild, never a torn state.
// Each commit records the index of the last command applied, and entries
// at or below it are skipped, so the replay after a clean restart applies
// nothing twice. A failure to write fsm.db panics (fail-stop, like raft's
// own restore): the node's state would otherwise silently diverge, and a
// restart rebuilds it. A malformed command gets an error response on every
// node alike.
//
// # Log entries
//
// One entry per write: a version byte (1), a uvarint op count, then per op
// a kind byte (1 put, 2 delete), the uvarint-prefixed key and, for a put,
// the uvarint-prefixed value. Values are barrier ciphertext; Op.String and
// the logs show keys and value lengths, never values.
//
// # Snapshots
//
// Raft snapshots stream the bbolt file (a read transaction's WriteTo);
// Restore writes the stream to a temporary file, checks it, and renames it
// over fsm.db. SaveSnapshot gives operators the same state in a file:
// "WARDRAFT", a format version, a JSON header (index, term, size, node),
// the state, and a SHA-256 of all of it. RestoreSnapshot checks the
// format, checksum and bbolt page structure in a temporary copy before
// raft sees it, then replaces the state on every node (raft.Restore on the
// leader, installed on the followers). A snapshot holds exactly what
// storage holds, so no plaintext secret.
//
// # Tunables
//
// Zero Options fields take defaults for a LAN: heartbeat and election
// timeouts 500ms and leader lease 500ms (a dead leader is noticed in 0.5–1
// s, and TestFailover measures writes resuming about 1 s after the leader
// stops), snapshots every 8192 entries checked every 2 minutes, 10240
// trailing log entries kept for lagging followers, up to 256 entries per
// append. Raise the timeouts for links with higher latency or for hosts
// with long pauses; a lease below the heartbeat timeout makes a cut-off
// leader step down sooner.
package raft
