package raft

import (
	"context"
	"errors"
	"fmt"

	hraft "github.com/hashicorp/raft"

	"github.com/wardsec/ward/internal/storage"
)

// Server is one member of the raft configuration, shaped like an entry of
// Vault's sys/storage/raft/configuration "servers" list.
type Server = storage.Peer

// Configuration returns the cluster's members as this node knows them (on
// the leader, the latest configuration), in configuration order.
func (b *Backend) Configuration(ctx context.Context) ([]Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("raft: configuration: %w", err)
	}
	if b.closed.Load() {
		return nil, fmt.Errorf("raft: configuration: %w", ErrClosed)
	}
	f := b.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft: configuration: %w", b.mapErr(err))
	}
	_, leaderID := b.raft.LeaderWithID()
	servers := f.Configuration().Servers
	out := make([]Server, 0, len(servers))
	for _, s := range servers {
		out = append(out, Server{
			NodeID:  string(s.ID),
			Address: string(s.Address),
			Leader:  s.ID == leaderID,
			Voter:   s.Suffrage == hraft.Voter,
		})
	}
	return out, nil
}

// AddVoter adds node id at cluster address addr as a voter, or updates the
// address of an existing member, and returns once the new configuration is
// committed. The node then catches up from the leader by log replication
// or a snapshot. Only the leader can add voters (ErrNotLeader elsewhere).
func (b *Backend) AddVoter(ctx context.Context, id, addr string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: add voter %q: %w", id, err)
	}
	if id == "" || addr == "" {
		return fmt.Errorf("raft: add voter %q at %q: node id and address are required", id, addr)
	}
	if b.closed.Load() {
		return fmt.Errorf("raft: add voter %q: %w", id, ErrClosed)
	}
	err := b.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, timeout(ctx)).Error()
	if err != nil {
		return fmt.Errorf("raft: add voter %q at %s: %w", id, addr, b.mapErr(err))
	}
	b.opts.Logger.Info("raft: added voter", "node_id", id, "address", addr)
	return nil
}

// RemovePeer removes node id from the configuration and returns once the
// change is committed; ErrUnknownPeer if id is not a member. Removing the
// leader itself makes it step down; a removed node shuts its raft down and
// answers ErrNotLeader from then on. Only the leader can remove peers.
func (b *Backend) RemovePeer(ctx context.Context, id string) error {
	servers, err := b.Configuration(ctx)
	if err != nil {
		return fmt.Errorf("raft: remove peer %q: %w", id, errors.Unwrap(err))
	}
	if b.raft.State() != hraft.Leader {
		return fmt.Errorf("raft: remove peer %q: %w", id, ErrNotLeader)
	}
	found := false
	for _, s := range servers {
		found = found || s.NodeID == id
	}
	if !found {
		return fmt.Errorf("raft: remove peer %q: %w", id, ErrUnknownPeer)
	}
	if err := b.raft.RemoveServer(hraft.ServerID(id), 0, timeout(ctx)).Error(); err != nil {
		return fmt.Errorf("raft: remove peer %q: %w", id, b.mapErr(err))
	}
	b.opts.Logger.Info("raft: removed peer", "node_id", id)
	return nil
}
