package raft

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// leadership tracks whether this node is the ready leader — elected, and
// with every entry of earlier terms applied — and tells subscribers.
type leadership struct {
	mu        sync.Mutex
	readyTerm uint64        // the term whose barrier this node applied as leader; 0 when not leader
	changed   chan struct{} // closed and replaced on every set
	published bool          // the last value sent to subscribers
	subs      []chan bool
	closed    bool
}

func (l *leadership) init() { l.changed = make(chan struct{}) }

// set records the ready term (0: not leader), wakes waiters and tells
// subscribers if the leader/not-leader answer changed.
func (l *leadership) set(term uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readyTerm = term
	close(l.changed)
	l.changed = make(chan struct{})
	if leader := term != 0; leader != l.published && !l.closed {
		l.published = leader
		for _, ch := range l.subs {
			sendLatest(ch, leader)
		}
	}
}

// ready reports whether term is the ready term, and a channel closed at
// the next set.
func (l *leadership) ready(term uint64) (bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return term != 0 && l.readyTerm == term, l.changed
}

func (l *leadership) subscribe() <-chan bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan bool, 1)
	if l.closed {
		close(ch)
		return ch
	}
	ch <- l.published
	l.subs = append(l.subs, ch)
	return ch
}

func (l *leadership) closeSubscribers() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, ch := range l.subs {
		close(ch)
	}
	l.subs = nil
}

// sendLatest replaces whatever ch holds with v. Only set sends, under the
// lock, so the send after the drain never blocks.
func sendLatest(ch chan bool, v bool) {
	select {
	case <-ch:
	default:
	}
	ch <- v
}

// watchLeadership follows raft's leadership notifications until Close.
func (b *Backend) watchLeadership(notify <-chan bool) {
	defer close(b.watchDone)
	for {
		select {
		case <-b.closing:
			b.lead.set(0)
			return
		case leader := <-notify:
			if !leader {
				b.opts.Logger.Info("raft: lost leadership", "node_id", b.opts.NodeID)
				b.lead.set(0)
				continue
			}
			b.prepareLeadership()
		}
	}
}

// prepareLeadership commits a barrier in the new term, which applies every
// entry of earlier terms to the FSM, and only then marks the node ready.
// The term is read before the barrier: if leadership changed meanwhile the
// recorded term is stale and readers see the node as not ready.
func (b *Backend) prepareLeadership() {
	for {
		term := b.raft.CurrentTerm()
		if b.raft.State() != hraft.Leader {
			b.lead.set(0)
			return
		}
		err := b.raft.Barrier(b.opts.ElectionTimeout).Error()
		if err == nil {
			b.opts.Logger.Info("raft: this node is the leader", "node_id", b.opts.NodeID, "term", term)
			b.lead.set(term)
			return
		}
		if errors.Is(err, hraft.ErrRaftShutdown) || errors.Is(err, hraft.ErrNotLeader) || errors.Is(err, hraft.ErrLeadershipLost) {
			b.lead.set(0)
			return
		}
		b.opts.Logger.Warn("raft: leader barrier failed; retrying", "error", err)
		select {
		case <-b.closing:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LeaderCh returns a new channel that receives true when this node becomes
// the ready leader and false when it stops being leader. It first receives
// the current state. It holds only the latest value (a slow reader misses
// intermediate flips, never the final state) and is closed by Close.
func (b *Backend) LeaderCh() <-chan bool { return b.lead.subscribe() }

// IsLeader reports whether this node is the leader and ready to serve:
// elected, with every earlier entry applied.
func (b *Backend) IsLeader() bool {
	term := b.raft.CurrentTerm()
	ok, _ := b.lead.ready(term)
	return ok && b.raft.State() == hraft.Leader
}

// Leader returns the id and cluster address of the leader as this node
// knows it, or empty strings when there is none.
func (b *Backend) Leader() (id, addr string) {
	a, i := b.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader blocks until this node is the ready leader, ctx ends, or the
// backend is closed.
func (b *Backend) WaitLeader(ctx context.Context) error {
	for {
		if b.closed.Load() {
			return ErrClosed
		}
		term := b.raft.CurrentTerm()
		ok, changed := b.lead.ready(term)
		if ok && b.raft.State() == hraft.Leader {
			return nil
		}
		if err := b.waitChange(ctx, changed); err != nil {
			return err
		}
	}
}

// waitChange waits for the next leadership change, with a poll as a
// backstop.
func (b *Backend) waitChange(ctx context.Context, changed <-chan struct{}) error {
	t := time.NewTimer(b.opts.HeartbeatTimeout)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closing:
		return ErrClosed
	}
	return nil
}

// StepDown hands leadership to another voter and returns once the
// transfer is done. It fails with ErrNotLeader on a follower.
func (b *Backend) StepDown(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: step down: %w", err)
	}
	if b.closed.Load() {
		return fmt.Errorf("raft: step down: %w", ErrClosed)
	}
	if b.raft.State() != hraft.Leader {
		return fmt.Errorf("raft: step down: %w", ErrNotLeader)
	}
	if err := b.raft.LeadershipTransfer().Error(); err != nil {
		return fmt.Errorf("raft: step down: %w", b.mapErr(err))
	}
	return nil
}

// readBarrier returns nil once a read started now may be served from the
// local FSM: this node is the ready leader of a term, and a quorum
// confirmed that leadership after the call began, in that same term. Every
// write acknowledged before the call was committed in this term or an
// earlier one, so it is in the FSM: earlier terms through the barrier of
// prepareLeadership, this term because Apply returns only after the entry
// is applied here.
func (b *Backend) readBarrier(ctx context.Context) error {
	for {
		if b.closed.Load() {
			return ErrClosed
		}
		term := b.raft.CurrentTerm()
		if b.raft.State() != hraft.Leader {
			return ErrNotLeader
		}
		ok, changed := b.lead.ready(term)
		if !ok {
			if err := b.waitChange(ctx, changed); err != nil {
				return err
			}
			continue
		}
		if err := b.verifier.verify(ctx); err != nil {
			return b.mapErr(err)
		}
		if b.raft.CurrentTerm() == term {
			return nil
		}
	}
}

// verifier batches leadership checks: one raft.VerifyLeader round (a
// heartbeat to every follower, done when a quorum answers) serves every
// read that arrived before the round started. A read that arrives while a
// round is in flight joins the next one, because the running round may
// have been sent before the read began.
type verifier struct {
	raft *hraft.Raft

	mu      sync.Mutex
	running bool
	next    *round // the round that starts when the running one ends
}

type round struct {
	done chan struct{}
	err  error
}

// verify waits for a round that starts after the call.
func (v *verifier) verify(ctx context.Context) error {
	v.mu.Lock()
	if v.next == nil {
		v.next = &round{done: make(chan struct{})}
	}
	r := v.next
	if !v.running {
		v.running = true
		v.next = nil
		go v.run(r)
	}
	v.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run runs r, then any round queued meanwhile, until none is queued.
func (v *verifier) run(r *round) {
	for r != nil {
		r.err = v.raft.VerifyLeader().Error()
		close(r.done)
		v.mu.Lock()
		r, v.next = v.next, nil
		v.running = r != nil
		v.mu.Unlock()
	}
}
