package storage

import (
	"context"
	"fmt"
)

// Op is one write of a batch: a Put of Value under Key, or a Delete of Key
// when Delete is set.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
}

// String names the operation and key and gives the value's length only,
// so that values stay out of logs and errors.
func (o Op) String() string {
	if o.Delete {
		return fmt.Sprintf("delete %q", o.Key)
	}
	return fmt.Sprintf("put %q (%d bytes)", o.Key, len(o.Value))
}

// Batcher is implemented by backends that apply several writes as one:
// atomically (all or none) and durably in one step (one fsync'd commit,
// one raft entry). Ops apply in order; a later op on the same key wins.
type Batcher interface {
	Batch(ctx context.Context, ops []Op) error
}

// Batch applies ops to b: in one atomic step when b is a Batcher, and
// otherwise one by one in order, in which case a failure part way leaves
// the earlier ops applied. Callers order ops so that such a remainder is
// harmless (data before the index that points at it).
func Batch(ctx context.Context, b Backend, ops []Op) error {
	if bb, ok := b.(Batcher); ok {
		return bb.Batch(ctx, ops)
	}
	for _, o := range ops {
		var err error
		if o.Delete {
			err = b.Delete(ctx, o.Key)
		} else {
			err = b.Put(ctx, o.Key, o.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Batch implements Batcher for a Sub view: the keys are prefixed and the
// batch goes to the backend below, atomically if that one batches.
func (s *sub) Batch(ctx context.Context, ops []Op) error {
	prefixed := make([]Op, len(ops))
	for i, o := range ops {
		o.Key = s.prefix + o.Key
		prefixed[i] = o
	}
	return Batch(ctx, s.inner, prefixed)
}
