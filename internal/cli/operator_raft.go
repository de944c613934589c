package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "operator raft list-peers",
			synopsis: "List the members of the raft cluster",
			usage: `Usage: ward operator raft list-peers [flags]

  Lists the members of the raft cluster: each node's ID, its cluster
  address (where the other nodes reach it), whether it is the leader (the
  active node) and whether it votes. Any node answers; a standby asks the
  active node. Needs read on sys/storage/raft/configuration.

Example:
  $ ward operator raft list-peers
  Node     Address           State       Voter
  ----     -------           -----       -----
  node1    10.0.0.1:8201     leader      true
  node2    10.0.0.2:8201     follower    true`,
			run: runRaftListPeers,
		},
		&command{
			name:     "operator raft join",
			synopsis: "Make a new node join a raft cluster",
			usage: `Usage: ward operator raft join [flags] LEADER_API_ADDR

  Makes a new, uninitialized node join the cluster that a node at
  LEADER_API_ADDR (the API address of any member, best the active one)
  belongs to. Send it to the NEW node: set -address or WARD_ADDR to the
  new node's API address, not the leader's. No token is needed.

  With Shamir seal the join completes when you unseal the new node with
  the cluster's unseal keys ("ward operator unseal", as many times as the
  threshold); the keys never leave the node. With an auto-unseal seal it
  completes at once. The node then becomes a voting standby and receives
  all the cluster's data. Do not run "ward operator init" on a joining
  node. A retry_join block in the node's configuration does the same at
  start, without this command.

Example:
  $ WARD_ADDR=http://10.0.0.2:8200 ward operator raft join http://10.0.0.1:8200
  $ WARD_ADDR=http://10.0.0.2:8200 ward operator unseal`,
			run: runRaftJoin,
		},
		&command{
			name:     "operator raft remove-peer",
			synopsis: "Remove a member from the raft cluster",
			usage: `Usage: ward operator raft remove-peer [flags] NODE_ID

  Removes the member NODE_ID (as "ward operator raft list-peers" shows it)
  from the raft cluster, for a node that is gone for good or is being
  retired. The active node cannot remove itself: step it down first
  ("ward operator step-down"). Removing members shrinks the quorum: a
  cluster of 3 that loses one more node after a removal stops accepting
  writes. Stop the removed node; to bring it back, delete its raft
  directory and join it again. Needs update on sys/storage/raft/remove-peer.

Example:
  $ ward operator raft remove-peer node3`,
			run: runRaftRemovePeer,
		},
		&command{
			name:     "operator raft snapshot save",
			synopsis: "Save a snapshot of the raft cluster's data to a file",
			usage: `Usage: ward operator raft snapshot save [flags] FILE

  Saves a snapshot of all the cluster's data to FILE (created with mode
  0600, replacing an existing FILE only once the whole snapshot arrived).
  The snapshot holds every value encrypted exactly as it is stored: it
  contains no plaintext secret, and restoring it needs the unseal keys (or
  the auto-unseal seal) of this cluster. Keep the keys apart from the
  snapshots. Needs read on sys/storage/raft/snapshot.

  The server's listener max_request_duration (default 90s) bounds how long
  a snapshot may take.

Example:
  $ ward operator raft snapshot save ward-$(date +%F).snap`,
			run: runRaftSnapshotSave,
		},
		&command{
			name:     "operator raft snapshot restore",
			synopsis: "Replace the raft cluster's data with a snapshot",
			usage: `Usage: ward operator raft snapshot restore [flags] FILE

  Replaces ALL of the cluster's data with the snapshot in FILE, on every
  node. Writes made since the snapshot was saved are lost, tokens issued
  since stop working, and the cluster's audit devices become those of the
  snapshot. Needs update on sys/storage/raft/snapshot (or
  sys/storage/raft/snapshot-force with -force).

  Without -force the snapshot must come from this cluster (its data must
  open with this cluster's keys). With -force it may come from another
  cluster, for example to rebuild a lost cluster on a new node: initialize
  and unseal the new node on its own, restore with -force, and the node
  seals itself; unseal it with the unseal keys of the cluster the
  snapshot came from and log in with that cluster's tokens.

Examples:
  $ ward operator raft snapshot restore ward-2025-01-31.snap
  $ ward operator raft snapshot restore -force ward-2025-01-31.snap
  $ ward operator unseal          # with the old cluster's keys`,
			run: runRaftSnapshotRestore,
		},
		&command{
			name:     "operator step-down",
			synopsis: "Make the active node hand its role to a standby",
			usage: `Usage: ward operator step-down [flags]

  Makes the cluster's active node give up its role: another node becomes
  active within seconds and this one a standby (it stays unsealed). Use it
  before maintenance on the active node. Sent to a standby, the request
  goes to the active node. Without HA storage, or without another voter
  to take over, it does nothing. Needs a token with update and sudo on
  sys/step-down.

Example:
  $ ward operator step-down`,
			run: runOperatorStepDown,
		},
	)
}

func runRaftListPeers(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	cfg, err := cl.Sys().RaftConfiguration(context.Background())
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(cfg)
	}
	rows := make([][]string, len(cfg.Config.Servers))
	for i, s := range cfg.Config.Servers {
		state := "follower"
		if s.Leader {
			state = "leader"
		}
		rows[i] = []string{s.NodeID, s.Address, state, fmt.Sprint(s.Voter)}
	}
	columns(c.stdout, []string{"Node", "Address", "State", "Voter"}, rows)
	return exitOK
}

func runRaftJoin(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	leader := c.args[0]
	if !strings.HasPrefix(leader, "http://") && !strings.HasPrefix(leader, "https://") {
		return c.usage("LEADER_API_ADDR %q must be the http:// or https:// API address of a cluster member", leader)
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	res, err := cl.Sys().RaftJoin(ctx, leader)
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(res)
	}
	st, err := cl.Sys().SealStatus(ctx)
	if err == nil && st.Sealed {
		fmt.Fprintf(c.stdout, "Success! %s is joining the cluster of %s.\n", c.address, leader)
		fmt.Fprintf(c.stdout, "Unseal it with the cluster's unseal keys to complete the join:\n  $ WARD_ADDR=%s ward operator unseal\n", c.address)
		return exitOK
	}
	return c.success("%s joined the cluster of %s.", c.address, leader)
}

func runRaftRemovePeer(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().RaftRemovePeer(context.Background(), c.args[0]); err != nil {
		return c.fail(err)
	}
	return c.success("Removed peer: %s", c.args[0])
}

func runRaftSnapshotSave(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	// A snapshot may take longer than the client's default timeout; the
	// server bounds it (max_request_duration).
	cl, err := c.clientTimeout(-1)
	if err != nil {
		return c.fail(err)
	}
	file := c.args[0]
	n, err := saveSnapshot(cl, file)
	if err != nil {
		return c.fail(err)
	}
	if c.format == "json" {
		return c.printJSON(map[string]any{"file": file, "bytes": n})
	}
	return c.success("Saved a snapshot of %d bytes to %s.", n, file)
}

// saveSnapshot streams a snapshot into a temporary file beside file and
// renames it into place once complete, so that a failed save neither
// leaves a partial snapshot nor replaces a good one.
func saveSnapshot(cl *client.Client, file string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("save snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	n, err := cl.Sys().RaftSnapshot(context.Background(), tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("save snapshot to %s: %w", file, err)
	}
	if n == 0 {
		return 0, errors.New("save snapshot: the server sent an empty snapshot")
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return 0, fmt.Errorf("save snapshot: %w", err)
	}
	return n, nil
}

func runRaftSnapshotRestore(c *cmd, args []string) int {
	force := c.fs.Bool("force", false, "restore a snapshot of another cluster (its keys will unseal this one)")
	if !c.parse(args, 1, 1) {
		return c.code
	}
	file := c.args[0]
	f, err := os.Open(file)
	if err != nil {
		return c.fail(withHints(fmt.Errorf("restore snapshot: %w", err), "give the path of a file written by `ward operator raft snapshot save`"))
	}
	defer f.Close()
	cl, err := c.clientTimeout(-1)
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	if err := cl.Sys().RaftRestore(ctx, f, *force); err != nil {
		return c.fail(err)
	}
	sealed := false
	if st, err := cl.Sys().SealStatus(ctx); err == nil {
		sealed = st.Sealed
	}
	if c.format == "json" {
		return c.printJSON(map[string]any{"file": file, "restored": true, "sealed": sealed})
	}
	c.success("Restored the snapshot in %s.", file)
	if sealed {
		fmt.Fprintln(c.stdout, "The server sealed itself: the snapshot came from another cluster. Unseal it")
		fmt.Fprintln(c.stdout, "with the unseal keys of that cluster (`ward operator unseal`) and log in with")
		fmt.Fprintln(c.stdout, "a token of that cluster.")
	}
	return exitOK
}

func runOperatorStepDown(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().StepDown(context.Background()); err != nil {
		if client.StatusCode(err) == http.StatusForbidden {
			err = withHints(err, `step-down needs a token with both "update" and "sudo" on sys/step-down (a root token has them)`,
				"`ward token capabilities sys/step-down` shows what your token may do there")
		}
		return c.fail(err)
	}
	return c.success("Stepped down: %s", c.address)
}
