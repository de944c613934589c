package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Options are a device's audit options, with Vault's names.
//
// The zero value is NOT Vault's default: it leaves accessors readable.
// Start from DefaultOptions.
type Options struct {
	// HMACAccessor (hmac_accessor, default true) HMACs token accessors
	// like tokens; false writes them in the clear, so that an operator can
	// look a token up by the accessor found in the log.
	HMACAccessor bool
	// LogRaw (log_raw, default false) writes every secret in the clear.
	LogRaw bool
	// Resume is where the chain continues when a HeadReader device reports
	// an empty head: a file that was rotated and is still empty. The server
	// keeps each device's head in storage for this. Devices that cannot
	// read their output back (sockets) start a new chain instead: a head
	// saved a moment before a crash could be stale, and a chain that goes
	// back in seq would look like tampering.
	Resume ChainHead
}

// DefaultOptions returns Vault's defaults: accessors HMAC'd, secrets not
// logged raw.
func DefaultOptions() Options { return Options{HMACAccessor: true} }

// BrokerOptions configure a Broker; zero fields take their defaults.
type BrokerOptions struct {
	Now     func() time.Time // stamps entries without Time; default time.Now
	Timeout time.Duration    // wait per entry for every device; default 2s
	Logger  *slog.Logger     // device failures; default discards
}

// DefaultTimeout bounds how long Log waits for a device.
const DefaultTimeout = 2 * time.Second

// MinKeySize is the shortest HMAC key Add accepts.
const MinKeySize = 32

// Broker fans audit entries out to the enabled devices. It is safe for
// concurrent use. Each device has one writer goroutine that owns its
// chain head, so a device's lines are written one at a time in seq
// order while different devices write in parallel.
type Broker struct {
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger

	mu      sync.RWMutex
	devices map[string]*device
	list    []*device // sorted by path; replaced, never modified, on change
}

// NewBroker returns a Broker with no device: auditing is off until Add.
func NewBroker(opts BrokerOptions) *Broker {
	b := &Broker{now: opts.Now, timeout: opts.Timeout, log: opts.Logger, devices: map[string]*device{}}
	if b.now == nil {
		b.now = time.Now
	}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b
}

// Add registers d at path (for example "file/") with its HMAC key (at
// least MinKeySize bytes; Add keeps a copy). If d is a HeadReader its
// chain continues from Head(); otherwise a new chain starts at seq 1. It
// fails if path is taken or Head fails; d is not closed on failure.
func (b *Broker) Add(path string, d Device, key []byte, o Options) error {
	if d == nil {
		return fmt.Errorf("audit: add %q: no device", path)
	}
	if len(key) < MinKeySize {
		return fmt.Errorf("audit: add %q: hmac key has %d bytes, need at least %d", path, len(key), MinKeySize)
	}
	var head ChainHead
	if hr, ok := d.(HeadReader); ok {
		h, err := hr.Head()
		if err != nil {
			return fmt.Errorf("audit: add %q: read chain head: %w", path, err)
		}
		head = h
		if h == (ChainHead{}) {
			head = o.Resume
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, taken := b.devices[path]; taken {
		return fmt.Errorf("audit: add %q: path already in use", path)
	}
	dev := newDevice(path, d, key, o, head)
	b.devices[path] = dev
	b.relist()
	go dev.run()
	return nil
}

// relist rebuilds b.list; b.mu is held for writing.
func (b *Broker) relist() {
	list := make([]*device, 0, len(b.devices))
	for _, d := range b.devices {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].path < list[j].path })
	b.list = list
}

// Remove closes and forgets the device at path; a missing path is not an
// error. It waits at most the Broker's Timeout for a write in progress;
// a device stuck longer is closed in the background.
func (b *Broker) Remove(path string) error {
	b.mu.Lock()
	d, ok := b.devices[path]
	if ok {
		delete(b.devices, path)
		b.relist()
	}
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return b.stop(d)
}

// stop ends d's writer and closes the device.
func (b *Broker) stop(d *device) error {
	close(d.quit)
	t := time.NewTimer(b.timeout)
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
		b.log.Warn("audit: device still writing after it was removed; closing it in the background", "path", d.path)
		go func() { _ = d.dev.Close() }()
		return nil
	}
	if err := d.dev.Close(); err != nil {
		return fmt.Errorf("audit: close %q: %w", d.path, err)
	}
	return nil
}

// Len reports how many devices are registered.
func (b *Broker) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.list)
}

// Paths lists the registered devices' paths, sorted.
func (b *Broker) Paths() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, len(b.list))
	for i, d := range b.list {
		out[i] = d.path
	}
	return out
}

// Head returns where the chain of the device at path stands: the seq and
// hash of the last line it recorded. An operator compares it with
// Verify's Summary to see whether lines were removed from the end.
func (b *Broker) Head(path string) (ChainHead, bool) {
	b.mu.RLock()
	d, ok := b.devices[path]
	b.mu.RUnlock()
	if !ok {
		return ChainHead{}, false
	}
	return d.chainHead(), true
}

// Log records e on every device. For each device it copies e, replaces
// secrets with their HMAC under that device's key (unless LogRaw), stamps
// Seq and PrevHash from the device's chain head, encodes one JSON line and
// writes it; the head advances only when the write succeeded. Time is set
// from Now if empty. Log never modifies e, and does not read e once it
// returns.
//
// Devices are written concurrently, each waiting at most the Broker's
// Timeout (or until ctx is done). Log returns nil if no device is
// registered (auditing is off) or at least one device recorded e;
// otherwise an error wrapping ErrNotRecorded and each device's error. A
// device that finishes a write after Log stopped waiting still records the
// line (and its chain advances), although Log counted it as failed: the
// log may hold entries of refused requests, never lack entries of served
// ones.
func (b *Broker) Log(ctx context.Context, e *Entry) error {
	b.mu.RLock()
	devs := b.list
	b.mu.RUnlock()
	if len(devs) == 0 {
		return nil
	}
	if e == nil {
		return fmt.Errorf("%w: log: no entry", ErrNotRecorded)
	}
	return b.logTo(ctx, devs, e)
}

// logTo is Log once there are devices.
func (b *Broker) logTo(ctx context.Context, devs []*device, e *Entry) error {
	base := *e
	if base.Time == "" {
		base.Time = b.now().UTC().Format(time.RFC3339Nano)
	}
	// Encode for every device before any I/O, so that e is not read
	// after Log returns even if a device times out.
	bodies := make([][]byte, len(devs))
	errs := make([]error, len(devs))
	for i, d := range devs {
		bodies[i], errs[i] = d.prepare(&base)
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := 1; i < len(devs); i++ {
		if errs[i] == nil {
			wg.Go(func() { errs[i] = devs[i].submit(ctx, bodies[i]) })
		}
	}
	if errs[0] == nil {
		errs[0] = devs[0].submit(ctx, bodies[0])
	}
	wg.Wait()
	recorded := false
	for i, err := range errs {
		if err == nil {
			recorded = true
			continue
		}
		b.log.Warn("audit: device did not record an entry", "path", devs[i].path, "error", err)
	}
	if recorded {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNotRecorded, errors.Join(errs...))
}

// Hash returns "hmac-sha256:<hex>" of input under the key of the device
// at path, as that device writes input to its log (sys/audit-hash). Unlike
// the log, which keeps empty strings empty, Hash("") is an HMAC too.
func (b *Broker) Hash(path, input string) (string, error) {
	b.mu.RLock()
	d, ok := b.devices[path]
	b.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("audit: hash: no audit device at %q", path)
	}
	return d.hash.sum(input), nil
}

// Reopen makes every device reopen its output (SIGHUP, after log
// rotation); the chains continue. It waits at most Timeout per device and
// returns the failures joined.
func (b *Broker) Reopen() error {
	b.mu.RLock()
	devs := b.list
	b.mu.RUnlock()
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
			defer cancel()
			errs[i] = d.submit(ctx, nil)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes and forgets every device. The Broker stays usable: with no
// device, Log records nothing and returns nil (auditing off), and Add
// registers devices again.
func (b *Broker) Close() error {
	b.mu.Lock()
	devs := b.list
	b.devices = map[string]*device{}
	b.list = nil
	b.mu.Unlock()
	var errs []error
	for _, d := range devs {
		errs = append(errs, b.stop(d))
	}
	return errors.Join(errs...)
}
