package client

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/wardsec/ward/api"
)

// RaftJoin asks the server this client talks to (a new, uninitialized raft
// node) to join the cluster whose node answers at leaderAPIAddr. A node
// with Shamir seal completes the join once it is given the cluster's
// unseal key shares (Sys.Unseal); one with an auto-unseal seal completes
// it at once. It needs no token.
func (s *Sys) RaftJoin(ctx context.Context, leaderAPIAddr string) (*api.RaftJoinResponse, error) {
	var out api.RaftJoinResponse
	req := &request{method: http.MethodPost, path: "sys/storage/raft/join", body: api.RaftJoinRequest{LeaderAPIAddr: leaderAPIAddr}}
	if err := s.c.doJSON(ctx, req, &out); err != nil {
		return nil, fmt.Errorf("raft join: %w", err)
	}
	return &out, nil
}

// RaftConfiguration lists the members of the raft cluster
// (sys/storage/raft/configuration): node ID, cluster address, and whether
// each leads and votes.
func (s *Sys) RaftConfiguration(ctx context.Context) (*api.RaftConfiguration, error) {
	sec, err := s.c.Read(ctx, "sys/storage/raft/configuration")
	if err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("raft configuration: %w", ErrNotFound)
	}
	var cfg api.RaftConfiguration
	if err := DecodeData(sec, &cfg); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	return &cfg, nil
}

// RaftRemovePeer removes the member with node ID serverID from the raft
// cluster. The active node cannot remove itself: step it down first.
func (s *Sys) RaftRemovePeer(ctx context.Context, serverID string) error {
	body := map[string]any{"server_id": serverID}
	if _, err := s.c.call(ctx, &request{method: http.MethodPost, path: "sys/storage/raft/remove-peer", body: body}); err != nil {
		return fmt.Errorf("raft remove peer %s: %w", serverID, err)
	}
	return nil
}

// StepDown makes the active node give up its role (sys/step-down):
// another node of the cluster becomes active within seconds. Sent to a
// standby, it is forwarded to the active node. Needs sudo on
// sys/step-down.
func (s *Sys) StepDown(ctx context.Context) error {
	if _, err := s.c.doOK(ctx, &request{method: http.MethodPut, path: "sys/step-down"}); err != nil {
		return fmt.Errorf("step down: %w", err)
	}
	return nil
}

// RaftSnapshot streams a snapshot of the whole cluster's storage into w
// and returns its size. The snapshot holds every value as the barrier
// encrypted it: restoring it needs the unseal keys (or auto-unseal seal)
// of the cluster it came from. A snapshot cut short by a failure is an
// error; w then holds a partial file, which a restore refuses.
//
// The client's Config.Timeout bounds the whole transfer: give a client
// for large snapshots a longer one, or a negative one for none.
func (s *Sys) RaftSnapshot(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := s.c.send(ctx, &request{method: http.MethodGet, path: "sys/storage/raft/snapshot"})
	if err != nil {
		return 0, fmt.Errorf("raft snapshot: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("raft snapshot: %w", s.c.failed(resp))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("raft snapshot: after %d bytes: %w", n, err)
	}
	return n, nil
}

// RaftRestore replaces the whole cluster's storage with the snapshot read
// from r, streaming it. A snapshot of this cluster restores in place.
// With force, it may come from another cluster (whose keys do not open
// it here); the server then seals itself, and must be unsealed with the
// key shares of the cluster the snapshot came from. Writes made since
// the snapshot was taken are lost.
//
// As with RaftSnapshot, the client's Config.Timeout bounds the transfer.
func (s *Sys) RaftRestore(ctx context.Context, r io.Reader, force bool) error {
	path := "sys/storage/raft/snapshot"
	if force {
		path = "sys/storage/raft/snapshot-force"
	}
	header := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := s.c.send(ctx, &request{method: http.MethodPost, path: path, body: r, header: header})
	if err != nil {
		return fmt.Errorf("raft restore: %w", err)
	}
	defer resp.Body.Close()
	// A redirect the HTTP client could not follow (it cannot send a
	// streamed body twice) is a failure too, not a success.
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("raft restore: %w", s.c.failed(resp))
	}
	return nil
}

// failed turns an unsuccessful answer into a *ResponseError, reading at
// most maxResponseBytes of its body.
func (c *Client) failed(resp *http.Response) *ResponseError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	e := c.responseError(resp.Request, resp.StatusCode, b)
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		e.Errors = append(e.Errors, "redirected to "+loc+"; send the request to that node")
	}
	return e
}
