package audit

import (
	"context"
	"fmt"
	"sync"
)

// device is one registered Device with its key, options and chain. Its
// writer goroutine (run) is the only caller of the Device's Write and
// Reopen and the only writer of head; callers hand it work through jobs,
// an unbuffered channel, so a caller waits in line with a deadline rather
// than queueing unbounded work behind a stuck device.
type device struct {
	path string
	dev  Device
	opts Options
	hash *hasher

	jobs chan job
	quit chan struct{} // closed by Broker.stop
	done chan struct{} // closed when run returns

	mu   sync.Mutex // guards head for chainHead; run is its only writer
	head ChainHead
}

// job is a line to write (body is an encodeUnstamped prefix) or, with a
// nil body, a reopen.
type job struct {
	ctx   context.Context
	body  []byte
	reply chan error // buffered: run never blocks on a caller that left
}

func newDevice(path string, d Device, key []byte, o Options, head ChainHead) *device {
	return &device{
		path: path, dev: d, opts: o, hash: newHasher(key), head: head,
		jobs: make(chan job), quit: make(chan struct{}), done: make(chan struct{}),
	}
}

func (d *device) chainHead() ChainHead {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.head
}

// prepare HMACs and encodes e for this device, all but the chain fields.
func (d *device) prepare(e *Entry) ([]byte, error) {
	c := *e
	if !d.opts.LogRaw {
		h, err := d.hash.entry(e, d.opts)
		if err != nil {
			return nil, fmt.Errorf("audit device %q: %w", d.path, err)
		}
		c = *h
	}
	body, err := encodeUnstamped(&c)
	if err != nil {
		return nil, fmt.Errorf("audit device %q: %w", d.path, err)
	}
	return body, nil
}

// submit hands body (nil: a reopen) to the writer and waits for the result
// until ctx is done.
func (d *device) submit(ctx context.Context, body []byte) error {
	j := job{ctx: ctx, body: body, reply: make(chan error, 1)}
	select {
	case d.jobs <- j:
	case <-ctx.Done():
		return fmt.Errorf("audit device %q: busy with an earlier entry: %w", d.path, ctx.Err())
	case <-d.quit:
		return fmt.Errorf("audit device %q: removed", d.path)
	}
	select {
	case err := <-j.reply:
		if err != nil {
			return fmt.Errorf("audit device %q: %w", d.path, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit device %q: no answer in time: %w", d.path, ctx.Err())
	}
}

// run serves jobs until quit is closed.
func (d *device) run() {
	defer close(d.done)
	for {
		select {
		case <-d.quit:
			return
		case j := <-d.jobs:
			j.reply <- d.do(j)
		}
	}
}

func (d *device) do(j job) error {
	if err := j.ctx.Err(); err != nil {
		return err // the caller has given up: do not write late
	}
	if j.body == nil {
		return d.dev.Reopen()
	}
	head := d.head
	line := stamp(j.body, head.Seq+1, head.Hash)
	if err := d.dev.Write(j.ctx, line); err != nil {
		return err
	}
	d.mu.Lock()
	d.head = ChainHead{Seq: head.Seq + 1, Hash: LineHash(line)}
	d.mu.Unlock()
	return nil
}
