package raft

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardsec/ward/internal/storage"
)

// Get returns the value under key from this node's state, or
// storage.ErrNotFound. It is linearizable: it runs only on the ready leader,
// after a quorum confirmed the leadership (see readBarrier), so it sees
// every write acknowledged before it began. On a follower it fails with
// ErrNotLeader.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	if err := check(ctx, "get", Op{Key: key, Delete: true}); err != nil {
		return nil, err
	}
	if err := b.readBarrier(ctx); err != nil {
		return nil, fmt.Errorf("raft: get %q: %w", key, err)
	}
	v, ok, err := b.fsm.get(key)
	if err != nil {
		return nil, fmt.Errorf("raft: get %q: %w", key, err)
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

// List returns the sorted direct children of prefix, with the same read
// guarantee as Get.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("raft: list %q: %w", prefix, err)
	}
	if !storage.ValidPrefix(prefix) {
		return nil, fmt.Errorf("raft: list %q: prefix must be empty or end in \"/\" and not start with \"/\"", prefix)
	}
	if err := b.readBarrier(ctx); err != nil {
		return nil, fmt.Errorf("raft: list %q: %w", prefix, err)
	}
	out, err := b.fsm.list(prefix)
	if err != nil {
		return nil, fmt.Errorf("raft: list %q: %w", prefix, err)
	}
	return out, nil
}

// Put stores value under key. It returns nil only once the write is
// committed (in the fsync'd logs of a quorum) and applied on this node. On
// a follower it fails with ErrNotLeader and nothing is written.
func (b *Backend) Put(ctx context.Context, key string, value []byte) error {
	o := Op{Key: key, Value: value}
	if err := check(ctx, "put", o); err != nil {
		return err
	}
	if err := b.apply(ctx, []Op{o}); err != nil {
		return fmt.Errorf("raft: put %q: %w", key, err)
	}
	return nil
}

// Delete removes key, with Put's guarantees. A missing key is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	o := Op{Key: key, Delete: true}
	if err := check(ctx, "delete", o); err != nil {
		return err
	}
	if err := b.apply(ctx, []Op{o}); err != nil {
		return fmt.Errorf("raft: delete %q: %w", key, err)
	}
	return nil
}

// Batch applies ops atomically, in order, as one raft log entry: every
// node applies all of them in one transaction or none. It has Put's
// guarantees. An empty batch does nothing.
func (b *Backend) Batch(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: batch: %w", err)
	}
	if len(ops) == 0 {
		return nil
	}
	for i, o := range ops {
		if err := checkOp(o); err != nil {
			return fmt.Errorf("raft: batch: op %d (%s): %w", i, o, err)
		}
	}
	if err := b.apply(ctx, ops); err != nil {
		return fmt.Errorf("raft: batch of %d ops: %w", len(ops), err)
	}
	return nil
}

// apply commits ops as one log entry and waits until this node applied it.
// If ctx ends first the wait stops, but the write may still be applied.
func (b *Backend) apply(ctx context.Context, ops []Op) error {
	if b.closed.Load() {
		return ErrClosed
	}
	future := b.raft.Apply(encodeOps(ops), timeout(ctx))
	var err error
	if ctx.Done() == nil {
		err = future.Error()
	} else {
		done := make(chan error, 1)
		go func() { done <- future.Error() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			return fmt.Errorf("%w (the write may still be applied)", ctx.Err())
		}
	}
	if err != nil {
		err = b.mapErr(err)
		if errors.Is(err, ErrClosed) {
			err = fmt.Errorf("%w (the write may still have been applied)", err)
		}
		return err
	}
	if resp, ok := future.Response().(error); ok {
		return resp
	}
	return nil
}

// check rejects a cancelled context and an invalid op before any work.
func check(ctx context.Context, name string, o Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: %s %q: %w", name, o.Key, err)
	}
	if err := checkOp(o); err != nil {
		return fmt.Errorf("raft: %s %q: %w", name, o.Key, err)
	}
	return nil
}
