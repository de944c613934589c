package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// With replicated (HA) storage, every unsealed node holds the root key,
// but only the raft leader is active: it opens the barrier, builds the
// unsealed state and serves. The others are standbys; httpapi forwards
// their client requests to the active node, whose address the active node
// advertises under core/ha/leader. Leadership changes move the active
// role: RunHA watches the backend's leadership and steps this node up or
// down, never sealing it.

// haState is an HA node's state beyond Core.active.
type haState struct {
	// rootKey is held while unsealed (active or standby); nil when sealed.
	// Guarded by Core.lifecycle.
	rootKey []byte
	// standby is true while unsealed and not active.
	standby atomic.Bool
	// activeSince is when this node last became active (unix ns).
	activeSince atomic.Int64
	// join is a raft join waiting for the key shares; see raftjoin.go.
	// Set and cleared with Core.lifecycle held.
	join atomic.Pointer[pendingJoin]
}

// leaderPath is where the active node advertises itself, in plaintext
// beside the barrier so that standbys read it without the keyring.
const leaderPath = barrier.HAPrefix + "leader"

// leaderRecord is the active node's advertisement.
type leaderRecord struct {
	NodeID      string `json:"node_id"`
	APIAddr     string `json:"api_addr"`
	ClusterAddr string `json:"cluster_addr"`
	Since       int64  `json:"active_since"`
}

// errNoActive is the answer while no node is active (an election, or an
// active node still starting).
var errNoActive = engine.Errorf(engine.ErrUnavailable, "no active node in the cluster yet; retry shortly")

// HAEnabled reports whether this server's storage is replicated.
func (c *Core) HAEnabled() bool { return c.ha != nil }

// Standby reports whether this node is an unsealed HA standby: it answers
// sys/health, sys/leader and sys/seal-status itself, and every other
// request belongs to the active node.
func (c *Core) Standby() bool {
	return c.hastate.standby.Load() && c.active.Load() == nil
}

// unsealedWithRootKey is where every unseal ends once it holds a root key
// its seal opened. Without HA the barrier opens and the node is active.
// With HA the key is checked against this node's copy of the keyring and
// kept; the node becomes active only while it leads. Called with
// c.lifecycle held.
func (c *Core) unsealedWithRootKey(ctx context.Context, st *sealState, rootKey []byte) error {
	if c.ha == nil {
		if err := c.openBarrier(ctx, rootKey); err != nil {
			return err
		}
		return c.activate(ctx, st, rootKey)
	}
	check := barrier.New(c.local, &barrier.Options{Rand: c.opts.Rand, Clock: c.opts.Now})
	if err := check.Unseal(ctx, rootKey); err != nil {
		if errors.Is(err, barrier.ErrBadKey) {
			return engine.BadRequest("unseal failed: invalid key; progress reset")
		}
		return fmt.Errorf("unseal: %w", err)
	}
	check.Seal()
	c.hastate.rootKey = bytes.Clone(rootKey)
	c.hastate.standby.Store(true)
	c.log.Info("core: unsealed; standing by until this node leads", "node_id", c.ha.NodeID())
	if c.ha.IsLeader() {
		if err := c.becomeActive(ctx); err != nil {
			c.log.Error("core: could not become the active node; will retry", "error", err)
		}
	}
	return nil
}

// becomeActive opens the barrier with the held root key and starts
// serving. Called with c.lifecycle held, on the leader.
func (c *Core) becomeActive(ctx context.Context) error {
	st, err := c.loadSealState(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		return ErrNotInitialized
	}
	if err := c.openBarrier(ctx, c.hastate.rootKey); err != nil {
		return err
	}
	return c.activate(ctx, st, c.hastate.rootKey)
}

// activated does the HA bookkeeping of activate: keep the root key, leave
// standby, and advertise this node as the active one.
func (c *Core) activated(ctx context.Context, rootKey []byte) {
	if c.ha == nil {
		return
	}
	if !bytes.Equal(c.hastate.rootKey, rootKey) {
		clear(c.hastate.rootKey)
		c.hastate.rootKey = bytes.Clone(rootKey)
	}
	now := c.opts.Now()
	c.hastate.activeSince.Store(now.UnixNano())
	c.hastate.standby.Store(false)
	rec, _ := json.Marshal(leaderRecord{NodeID: c.ha.NodeID(), APIAddr: c.opts.APIAddr, ClusterAddr: c.opts.ClusterAddr, Since: now.UnixNano()})
	if err := c.physical.Put(ctx, leaderPath, rec); err != nil {
		c.log.Error("core: could not advertise this node as active", "error", err)
	}
	c.log.Info("core: this node is active", "node_id", c.ha.NodeID(), "api_addr", c.opts.APIAddr)
}

// stepDown makes an active node a standby: the unsealed state and the
// barrier go, the root key stays. Called with c.lifecycle held.
func (c *Core) stepDown() {
	c.hastate.standby.Store(true)
	s := c.active.Swap(nil)
	if s == nil {
		return
	}
	c.teardown(s)
	c.barrier.Seal()
	c.log.Info("core: this node is a standby now")
}

// forgetRootKey drops an HA node's root key at seal.
func (c *Core) forgetRootKey() {
	c.hastate.standby.Store(false)
	clear(c.hastate.rootKey)
	c.hastate.rootKey = nil
}

// RunHA follows this node's leadership until ctx ends: the leader becomes
// active once unsealed, a node that loses leadership steps down. It also
// reconciles once a second, so a failed step up is retried. Without HA it
// returns at once.
func (c *Core) RunHA(ctx context.Context) {
	if c.ha == nil {
		return
	}
	ch := c.ha.LeaderCh()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-tick.C:
		}
		c.reconcileLeadership(ctx)
	}
}

func (c *Core) reconcileLeadership(ctx context.Context) {
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	leader := c.ha.IsLeader()
	switch {
	case leader && c.active.Load() == nil && c.hastate.rootKey != nil:
		if err := c.becomeActive(ctx); err != nil {
			c.log.Error("core: could not become the active node; retrying", "error", err)
		}
	case !leader && c.active.Load() != nil:
		c.stepDown()
	}
}

// StepDown gives up leadership (sys/step-down): another node becomes
// active and this one a standby. Without HA it is a no-op, as in Vault.
func (c *Core) StepDown(ctx context.Context) error {
	if c.ha == nil {
		return nil
	}
	if peers, err := c.ha.Configuration(ctx); err == nil && voters(peers) < 2 {
		return nil // nobody to hand over to
	}
	if err := c.ha.StepDown(ctx); err != nil && !errors.Is(err, storage.ErrNotLeader) {
		return fmt.Errorf("step down: %w", err)
	}
	c.reconcileLeadership(ctx)
	return nil
}

// Leader answers sys/leader.
func (c *Core) Leader(ctx context.Context) (*api.Leader, error) {
	out := &api.Leader{HAEnabled: c.ha != nil}
	if c.ha == nil {
		return out, nil
	}
	if c.active.Load() != nil {
		out.IsSelf = true
		out.LeaderAddress, out.LeaderClusterAddress = c.opts.APIAddr, c.opts.ClusterAddr
		out.ActiveTime = time.Unix(0, c.hastate.activeSince.Load()).UTC().Format(time.RFC3339Nano)
		return out, nil
	}
	rec, err := c.activeRecord(ctx)
	if err == nil {
		out.LeaderAddress, out.LeaderClusterAddress = rec.APIAddr, rec.ClusterAddr
	}
	return out, nil
}

// ActiveAddr is the API address of the active node, for a standby to
// forward to. It is errNoActive (503) while the advertisement does not
// name the current raft leader: during an election or a step up.
func (c *Core) ActiveAddr(ctx context.Context) (string, error) {
	rec, err := c.activeRecord(ctx)
	if err != nil {
		return "", err
	}
	if rec.APIAddr == "" {
		return "", engine.Errorf(engine.ErrUnavailable, "the active node %s has no api_addr configured; requests cannot be forwarded", rec.NodeID)
	}
	return rec.APIAddr, nil
}

func (c *Core) activeRecord(ctx context.Context) (*leaderRecord, error) {
	if c.ha == nil {
		return nil, errNoActive
	}
	raw, err := c.local.Get(ctx, leaderPath)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoActive
	}
	if err != nil {
		return nil, err
	}
	var rec leaderRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("core: read the active node's record: %w", err)
	}
	if id, _ := c.ha.Leader(); id == "" || id != rec.NodeID || id == c.ha.NodeID() {
		return nil, errNoActive
	}
	return &rec, nil
}

// leadForInit makes sure init runs on the leader: a lone node with no
// cluster bootstraps a one-node cluster first, as Vault's first raft node
// does at init. Called with c.lifecycle held.
func (c *Core) leadForInit(ctx context.Context) error {
	if c.ha == nil || c.ha.IsLeader() {
		return nil
	}
	if c.hastate.join.Load() != nil {
		return engine.BadRequest("this node is joining a cluster; unseal it instead of initializing it")
	}
	err := c.ha.Bootstrap(ctx)
	switch {
	case errors.Is(err, storage.ErrBootstrapped):
		return engine.BadRequest("this node belongs to a cluster but does not lead it; initialize the cluster on its leader")
	case err != nil:
		return fmt.Errorf("init: bootstrap the raft cluster: %w", err)
	}
	c.log.Info("core: bootstrapped a one-node raft cluster for init", "node_id", c.ha.NodeID())
	return nil
}

func voters(peers []storage.Peer) int {
	n := 0
	for _, p := range peers {
		if p.Voter {
			n++
		}
	}
	return n
}

// awaitLocalState waits (up to 10 s) for a cluster member's local copy to
// hold the seal records: after a restart without a clean state file, raft
// replays the log only once it hears from a leader. Without HA, or on a
// node that belongs to no cluster, it returns at once.
func (c *Core) awaitLocalState(ctx context.Context) {
	if c.ha == nil || !c.ha.Joined() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if st, err := c.loadSealState(ctx); err != nil || st != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Joined reports whether this node belongs to a raft cluster already.
func (c *Core) Joined() bool { return c.ha != nil && c.ha.Joined() }
