package sys

import (
	"context"

	"github.com/wardsec/ward/internal/engine"
)

// raftProtocolVersion is the raft protocol every member speaks
// (hashicorp/raft protocol 3), shown as each server's protocol_version.
// Vault shows the same number, though as the control character "\u0003".
const raftProtocolVersion = "3"

func (b *backend) raftPaths() []engine.Path {
	return []engine.Path{
		{
			Pattern: "storage/raft/configuration",
			Summary: "List the members of the raft cluster.",
			Read:    b.raftConfiguration,
		},
		{
			Pattern: "storage/raft/remove-peer",
			Summary: "Remove a member from the raft cluster.",
			Write:   b.raftRemovePeer,
		},
		{
			Pattern: "step-down",
			Summary: "Make the active node give up its role to a standby.",
			Sudo:    true,
			Write:   b.stepDown,
		},
	}
}

func (b *backend) raftConfiguration(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	peers, err := b.core.RaftConfiguration(ctx)
	if err != nil {
		return nil, err
	}
	servers := make([]any, len(peers))
	for i, p := range peers {
		servers[i] = map[string]any{
			"node_id":          p.NodeID,
			"address":          p.Address,
			"leader":           p.Leader,
			"voter":            p.Voter,
			"protocol_version": raftProtocolVersion,
		}
	}
	// Vault shows the raft index of the configuration; the storage
	// contract does not carry it, so it is 0.
	return engine.DataResponse(map[string]any{
		"config": map[string]any{"index": 0, "servers": servers},
	}), nil
}

type removePeerInput struct {
	ServerID string `json:"server_id"`
	// DROperationToken is Vault Enterprise's (DR secondaries); accepted
	// and ignored.
	DROperationToken string `json:"dr_operation_token"`
}

func (b *backend) raftRemovePeer(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, warnings, err := engine.Decode[removePeerInput](req.Data)
	if err != nil {
		return nil, err
	}
	if in.ServerID == "" {
		return nil, &engine.InputError{Field: "server_id", Rule: "is required: the node_id of the member to remove"}
	}
	// Name an unknown member as bad input rather than letting the storage
	// layer fail on it.
	peers, err := b.core.RaftConfiguration(ctx)
	if err != nil {
		return nil, err
	}
	known := false
	for _, p := range peers {
		known = known || p.NodeID == in.ServerID
	}
	if !known {
		return nil, engine.BadRequest("no member of the raft cluster has server_id %q", in.ServerID)
	}
	if err := b.core.RaftRemovePeer(ctx, in.ServerID); err != nil {
		return nil, err
	}
	return withWarnings(nil, warnings), nil
}

func (b *backend) stepDown(ctx context.Context, _ *engine.Request) (*engine.Response, error) {
	return nil, b.core.StepDown(ctx)
}
