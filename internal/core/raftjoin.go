package core

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/storage"
)

// Joining a raft cluster proves possession of the cluster's keys without
// sending them anywhere:
//
//  1. The joiner asks the active node for a challenge. The active node
//     answers with what rests in its storage anyway (seal config, wrapped
//     root key, encrypted keyring) and a random answer encrypted by its
//     barrier, and remembers the answer for the joiner's server ID.
//  2. The joiner opens the root key (unseal shares, or its auto-unseal
//     seal), the keyring with the root key, and the answer with the
//     keyring, and sends the answer back with its raft address.
//  3. The active node checks the answer and adds the joiner as a voter;
//     raft then replicates everything to it.

// challengeKey is the barrier key (the AAD) of join challenges.
const challengeKey = "core/raft/challenge"

// challengeTTL bounds how long an active node remembers a challenge, and
// maxChallenges how many it remembers at once.
const (
	challengeTTL  = 10 * time.Minute
	maxChallenges = 64
)

// pendingJoin is a join waiting for the joiner's key shares.
type pendingJoin struct {
	leader    string
	challenge *api.RaftChallenge
	st        *sealState
}

// challenges are the answers an active node expects, by server ID.
type challenges struct {
	mu sync.Mutex
	m  map[string]issuedChallenge
}

type issuedChallenge struct {
	answer  []byte
	expires time.Time
}

// RaftChallenge answers a joiner's challenge request on the active node.
func (c *Core) RaftChallenge(ctx context.Context, serverID string) (*api.RaftChallenge, error) {
	if err := checkServerID(serverID); err != nil {
		return nil, err
	}
	if _, err := c.state(); err != nil {
		return nil, err
	}
	cfg, err := c.physical.Get(ctx, seal.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("raft challenge: %w", err)
	}
	root, err := c.physical.Get(ctx, seal.RootKeyPath)
	if err != nil {
		return nil, fmt.Errorf("raft challenge: %w", err)
	}
	keyring, err := c.physical.Get(ctx, barrier.KeyringPath)
	if err != nil {
		return nil, fmt.Errorf("raft challenge: %w", err)
	}
	answer := make([]byte, 32)
	if _, err := io.ReadFull(c.opts.Rand, answer); err != nil {
		return nil, fmt.Errorf("raft challenge: %w", err)
	}
	sealed, err := c.barrier.Encrypt(challengeKey, answer)
	if err != nil {
		return nil, fmt.Errorf("raft challenge: %w", err)
	}
	now := c.opts.Now()
	c.joinChallenges.mu.Lock()
	defer c.joinChallenges.mu.Unlock()
	if c.joinChallenges.m == nil {
		c.joinChallenges.m = map[string]issuedChallenge{}
	}
	for id, ch := range c.joinChallenges.m {
		if now.After(ch.expires) {
			delete(c.joinChallenges.m, id)
		}
	}
	if _, ok := c.joinChallenges.m[serverID]; !ok && len(c.joinChallenges.m) >= maxChallenges {
		return nil, engine.Errorf(engine.ErrRateLimited, "too many raft joins in progress; retry later")
	}
	c.joinChallenges.m[serverID] = issuedChallenge{answer: answer, expires: now.Add(challengeTTL)}
	return &api.RaftChallenge{SealConfig: cfg, RootKey: root, Keyring: keyring, Challenge: sealed}, nil
}

// RaftAnswer completes a join on the active node: a correct answer adds
// the joiner as a voter at clusterAddr.
func (c *Core) RaftAnswer(ctx context.Context, req api.RaftAnswerRequest) error {
	if err := checkServerID(req.ServerID); err != nil {
		return err
	}
	if _, err := c.state(); err != nil {
		return err
	}
	addr, err := raftAddress(req.ClusterAddr)
	if err != nil {
		return err
	}
	c.joinChallenges.mu.Lock()
	ch, ok := c.joinChallenges.m[req.ServerID]
	if ok {
		delete(c.joinChallenges.m, req.ServerID)
	}
	c.joinChallenges.mu.Unlock()
	answer, _ := base64.StdEncoding.DecodeString(req.Answer)
	if !ok || c.opts.Now().After(ch.expires) || subtle.ConstantTimeCompare(ch.answer, answer) != 1 {
		return engine.Errorf(engine.ErrPermissionDenied, "raft join refused: no matching challenge for server_id %q; start the join again", req.ServerID)
	}
	if err := c.ha.AddVoter(ctx, req.ServerID, addr); err != nil {
		return fmt.Errorf("raft join: add voter: %w", err)
	}
	c.log.Info("core: a node joined the raft cluster", "node_id", req.ServerID, "cluster_addr", addr)
	return nil
}

// JoinRaft starts joining the cluster whose active node (or any of its
// nodes) answers at leaderAddr. A node with an auto-unseal seal completes
// the join at once; a Shamir node completes it when it is given the
// unseal shares.
func (c *Core) JoinRaft(ctx context.Context, leaderAddr string) error {
	if c.ha == nil {
		return engine.BadRequest("this server's storage is not raft; only raft nodes join clusters")
	}
	if _, err := url.Parse(leaderAddr); err != nil || !strings.HasPrefix(leaderAddr, "http") {
		return &engine.InputError{Field: "leader_api_addr", Rule: "must be the http or https URL of a cluster node"}
	}
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	if ok, err := c.Initialized(ctx); err != nil {
		return err
	} else if ok || c.ha.Joined() {
		return engine.BadRequest("this node is already initialized or part of a cluster")
	}
	var ch api.RaftChallenge
	if err := c.callLeader(ctx, leaderAddr, "sys/storage/raft/bootstrap/challenge", api.RaftChallengeRequest{ServerID: c.ha.NodeID()}, &ch); err != nil {
		return err
	}
	var cfg seal.Config
	var root seal.RootKey
	if json.Unmarshal(ch.SealConfig, &cfg) != nil || cfg.Validate() != nil || json.Unmarshal(ch.RootKey, &root) != nil || root.Type == "" {
		return errors.New("raft join: the leader's challenge is malformed")
	}
	if root.Type != c.sealType() {
		return engine.BadRequest("raft join: the cluster's root key is protected by the %s seal, but this node is configured with the %s seal", root.Type, c.sealType())
	}
	c.hastate.join.Store(&pendingJoin{leader: leaderAddr, challenge: &ch, st: &sealState{cfg: &cfg, root: &root}})
	c.log.Info("core: joining a raft cluster; waiting for the keys", "leader", leaderAddr)
	if c.opts.Seal == nil {
		return nil
	}
	rootKey, err := c.opts.Seal.Unwrap(ctx, root.Blob)
	if err != nil {
		return sealError("raft join", c.opts.Seal, err)
	}
	defer clear(rootKey)
	return c.completeJoin(ctx, rootKey)
}

// completeJoin answers the pending challenge with rootKey, waits for the
// cluster's data to arrive, and leaves the node an unsealed standby.
// Called with c.lifecycle held.
func (c *Core) completeJoin(ctx context.Context, rootKey []byte) error {
	j := c.hastate.join.Load()
	b := barrier.New(keyringOnly(j.challenge.Keyring), &barrier.Options{Rand: c.opts.Rand, Clock: c.opts.Now})
	if err := b.Unseal(ctx, rootKey); err != nil {
		return engine.BadRequest("unseal failed: invalid key; progress reset")
	}
	answer, err := b.Decrypt(challengeKey, j.challenge.Challenge)
	b.Seal()
	if err != nil {
		return fmt.Errorf("raft join: open the challenge: %w", err)
	}
	req := api.RaftAnswerRequest{ServerID: c.ha.NodeID(), Answer: base64.StdEncoding.EncodeToString(answer), ClusterAddr: c.opts.ClusterAddr}
	if err := c.callLeader(ctx, j.leader, "sys/storage/raft/bootstrap/answer", req, nil); err != nil {
		return err
	}
	// The leader now replicates to this node; wait for the seal records.
	deadline := time.Now().Add(30 * time.Second)
	var st *sealState
	for {
		if st, err = c.loadSealState(ctx); err == nil && st != nil {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("raft join: the cluster's data did not arrive within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.hastate.join.Store(nil)
	c.log.Info("core: joined the raft cluster")
	return c.unsealedWithRootKey(ctx, st, rootKey)
}

// callLeader POSTs in to path on a cluster node and decodes its JSON
// answer into out (when not nil).
func (c *Core) callLeader(ctx context.Context, addr, path string, in, out any) error {
	hc := c.opts.JoinClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(addr, "/")+"/v1/"+path, bytes.NewReader(body))
	if err != nil {
		return &engine.InputError{Field: "leader_api_addr", Rule: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return engine.Errorf(engine.ErrUnavailable, "raft join: cannot reach %s: %v", addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return engine.Errorf(engine.ErrUnavailable, "raft join: read the answer of %s: %v", addr, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(raw, &e)
		return engine.BadRequest("raft join: %s answered %d: %s", addr, resp.StatusCode, strings.Join(e.Errors, "; "))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("raft join: decode the answer of %s: %w", addr, err)
	}
	return nil
}

// checkServerID keeps node IDs printable and short.
func checkServerID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return &engine.InputError{Field: "server_id", Rule: "must be 1 to 128 printable ASCII characters without spaces"}
	}
	return nil
}

// raftAddress turns a cluster_addr URL (or host:port) into host:port.
func raftAddress(s string) (string, error) {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		s = u.Host
	}
	if _, _, err := net.SplitHostPort(s); err != nil || s == "" {
		return "", &engine.InputError{Field: "cluster_addr", Rule: "must be a URL or host:port other nodes can reach"}
	}
	return s, nil
}

// RaftConfiguration lists the cluster's members (sys/storage/raft/configuration).
func (c *Core) RaftConfiguration(ctx context.Context) ([]storage.Peer, error) {
	if c.ha == nil {
		return nil, engine.BadRequest("this server's storage is not raft")
	}
	if _, err := c.state(); err != nil {
		return nil, err
	}
	return c.ha.Configuration(ctx)
}

// RaftRemovePeer removes a member (sys/storage/raft/remove-peer).
func (c *Core) RaftRemovePeer(ctx context.Context, id string) error {
	if c.ha == nil {
		return engine.BadRequest("this server's storage is not raft")
	}
	if err := checkServerID(id); err != nil {
		return err
	}
	if _, err := c.state(); err != nil {
		return err
	}
	if id == c.ha.NodeID() {
		return engine.BadRequest("the active node cannot remove itself; step it down first")
	}
	return c.ha.RemovePeer(ctx, id)
}

// keyringOnly is a read-only storage holding just an encrypted keyring: a
// barrier over it opens that keyring, to decrypt a join challenge.
type keyringOnly []byte

func (k keyringOnly) Get(_ context.Context, key string) ([]byte, error) {
	if key != barrier.KeyringPath {
		return nil, storage.ErrNotFound
	}
	return bytes.Clone(k), nil
}

func (keyringOnly) Put(context.Context, string, []byte) error {
	return errors.New("core: keyring view is read-only")
}

func (keyringOnly) Delete(context.Context, string) error {
	return errors.New("core: keyring view is read-only")
}

func (keyringOnly) List(context.Context, string) ([]string, error) { return nil, nil }
