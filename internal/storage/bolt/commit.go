package bolt

import (
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/storage"
)

// Group commit. Every write needs an fsync'd commit before it returns, and
// an fsync costs a few hundred microseconds however little it carries. So
// writers queue their operation; whoever finds no commit running becomes
// the leader and commits everything queued so far in one transaction,
// while writers that arrive meanwhile queue for the next one. A lone
// writer commits at once and waits for nobody; concurrent writers share
// their fsyncs. The leader hands leadership to the next waiter after its
// own commit, so no writer commits for others longer than its own turn.

// writeOp is one queued Put, Delete or Batch: its writes commit together.
type writeOp struct {
	ops  []storage.Op
	done chan writeResult
}

// writeResult tells a queued writer its commit's outcome, or that it is
// now the leader and must commit the queue itself.
type writeResult struct {
	err  error
	lead bool
}

// committer is the write queue of one Backend.
type committer struct {
	mu      sync.Mutex
	pending []*writeOp
	running bool // a leader is committing
}

// write queues op and returns once a transaction holding it committed.
func (b *Backend) write(op *writeOp) error {
	c := &b.commits
	op.done = make(chan writeResult, 1)
	c.mu.Lock()
	c.pending = append(c.pending, op)
	if c.running {
		c.mu.Unlock()
		res := <-op.done
		if !res.lead {
			return res.err
		}
		c.mu.Lock()
	}
	c.running = true
	batch := c.pending
	c.pending = nil
	c.mu.Unlock()

	err := b.commit(batch)
	var own error
	for _, o := range batch {
		if o == op {
			own = err
			continue
		}
		o.done <- writeResult{err: err}
	}

	c.mu.Lock()
	if len(c.pending) == 0 {
		c.running = false
	} else {
		// The next waiter leads the next commit.
		c.pending[0].done <- writeResult{lead: true}
	}
	c.mu.Unlock()
	return own
}

// commit applies ops in order in one fsync'd transaction; all or none.
func (b *Backend) commit(ops []*writeOp) error {
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucket)
		for _, w := range ops {
			for _, o := range w.ops {
				var err error
				if o.Delete {
					err = bk.Delete([]byte(o.Key))
				} else {
					// bbolt copies the value into its pages before the
					// commit returns; the caller's slice is not retained.
					value := o.Value
					if value == nil {
						value = []byte{}
					}
					err = bk.Put([]byte(o.Key), value)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", o, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit %d writes: %w", len(ops), err)
	}
	return nil
}
