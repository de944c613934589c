package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// AuditFactory opens an audit device of one type from its options
// ("file_path", "mode"; "address", "socket_type").
type AuditFactory func(options map[string]string) (audit.Device, error)

// AuditEntry is one enabled audit device, as stored (inside the barrier,
// with its HMAC key) and as sys/audit shows it (without the key).
type AuditEntry struct {
	Path        string            `json:"path"` // "file/"
	Type        string            `json:"type"` // "file", "socket"
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
	// Declared marks a device declared in the server configuration.
	Declared bool   `json:"declared,omitempty"`
	Key      []byte `json:"key"`
}

const (
	auditTableKey = "core/audit"
	// auditHeadsKey keeps each device's chain head, so a rotated (empty)
	// file or a socket continues the chain after a restart, and a log cut
	// short or rewritten behind the server's back is noticed at unseal.
	auditHeadsKey = "core/audit-heads"
)

// auditTable owns the persisted list of audit devices; mu serializes
// changes.
type auditTable struct {
	mu      sync.Mutex
	entries []AuditEntry
}

// errAuditFailed refuses a request no audit device could record. It is a
// 503 so that clients retry once a device recovers.
var errAuditFailed = engine.Errorf(engine.ErrUnavailable, "no audit device could record the request; it was refused")

// auditOptions reads the broker options from a device's options. Values
// must be booleans: a typo such as log_raw=flase must never be read as
// "write secrets in the clear".
func auditOptions(e AuditEntry) (audit.Options, error) {
	o := audit.DefaultOptions()
	for key, dst := range map[string]*bool{"hmac_accessor": &o.HMACAccessor, "log_raw": &o.LogRaw} {
		v, ok := e.Options[key]
		if !ok {
			continue
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return o, &engine.InputError{Field: "options." + key, Rule: "must be true or false"}
		}
		*dst = b
	}
	return o, nil
}

// loadAudit reads the audit table, merges the devices declared in the
// configuration, and opens every device into a new broker. A device that
// cannot be opened now stays registered and retries on each entry, so the
// server fails closed instead of quietly auditing nothing.
func (c *Core) loadAudit(ctx context.Context) (*auditTable, *audit.Broker, error) {
	at := &auditTable{}
	raw, err := c.barrier.Get(ctx, auditTableKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, nil, fmt.Errorf("load audit table: %w", err)
	default:
		if err := json.Unmarshal(raw, &at.entries); err != nil {
			return nil, nil, fmt.Errorf("load audit table: %w", err)
		}
	}
	changed, err := c.mergeDeclaredAudit(at)
	if err != nil {
		return nil, nil, err
	}
	if changed {
		if err := c.persistAudit(ctx, at); err != nil {
			return nil, nil, err
		}
	}
	heads, err := c.loadAuditHeads(ctx)
	if err != nil {
		return nil, nil, err
	}
	broker := audit.NewBroker(audit.BrokerOptions{Now: c.opts.Now, Logger: c.log})
	for _, e := range at.entries {
		dev := c.openAuditDevice(e)
		opts, err := auditOptions(e)
		if err == nil {
			opts.Resume = heads[e.Path]
			err = broker.Add(e.Path, dev, e.Key, opts)
		}
		if err != nil {
			// Unseal goes on, failing closed: the device stays registered
			// and refuses every entry until an operator mends or disables it.
			c.log.Error("core: audit device unusable; requests will be refused until it is mended or disabled", "path", e.Path, "error", err)
			_ = dev.Close()
			broken := &retryingDevice{open: func() (audit.Device, error) { return nil, err }}
			if err := broker.Add(e.Path, broken, e.Key, opts); err != nil {
				return nil, nil, fmt.Errorf("audit device %s: %w", e.Path, err)
			}
			continue
		}
		// A log the device reads back must continue where the server left
		// it; sockets start new chains and are not compared.
		_, readsBack := dev.(audit.HeadReader)
		if now, _ := broker.Head(e.Path); readsBack && behind(now, heads[e.Path]) {
			c.log.Error("core: audit log does not continue where this server left it: lines were removed or rewritten since; check it with `ward audit verify`",
				"path", e.Path, "log_seq", now.Seq, "server_seq", heads[e.Path].Seq)
		}
	}
	return at, broker, nil
}

// behind reports whether a device's log head is not the one the server
// recorded last, or a successor of it.
func behind(log, saved audit.ChainHead) bool {
	return log.Seq < saved.Seq || (log.Seq == saved.Seq && log.Hash != saved.Hash)
}

func (c *Core) loadAuditHeads(ctx context.Context) (map[string]audit.ChainHead, error) {
	heads := map[string]audit.ChainHead{}
	raw, err := c.barrier.Get(ctx, auditHeadsKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return heads, nil
	case err != nil:
		return nil, fmt.Errorf("load audit chain heads: %w", err)
	}
	if err := json.Unmarshal(raw, &heads); err != nil {
		return nil, fmt.Errorf("load audit chain heads: %w", err)
	}
	return heads, nil
}

// saveAuditHeads records every device's chain head if it moved since last
// time; last holds what was saved.
func (c *Core) saveAuditHeads(ctx context.Context, s *unsealed, last map[string]audit.ChainHead) error {
	heads := map[string]audit.ChainHead{}
	changed := false
	for _, p := range s.audit.Paths() {
		h, _ := s.audit.Head(p)
		heads[p] = h
		if last[p] != h {
			changed = true
		}
	}
	if !changed && len(heads) == len(last) {
		return nil
	}
	raw, err := json.Marshal(heads)
	if err != nil {
		return err
	}
	if err := c.barrier.Put(ctx, auditHeadsKey, raw); err != nil {
		return fmt.Errorf("save audit chain heads: %w", err)
	}
	clear(last)
	for p, h := range heads {
		last[p] = h
	}
	return nil
}

// AuditHead is where the chain of the device at path stands now: the
// sequence number and hash of its last line. `ward audit verify` compares
// a log's end with it, which catches a rewritten or shortened log that is
// consistent in itself.
func (c *Core) AuditHead(path string) (audit.ChainHead, bool) {
	s, err := c.state()
	if err != nil {
		return audit.ChainHead{}, false
	}
	return s.audit.Head(normalizeMountPath(path))
}

// mergeDeclaredAudit adds or updates the devices the configuration
// declares; a device that was declared and no longer is goes away.
func (c *Core) mergeDeclaredAudit(at *auditTable) (bool, error) {
	declared := map[string]AuditEntry{}
	for _, d := range c.opts.AuditDevices {
		d.Path = normalizeMountPath(d.Path)
		d.Declared = true
		declared[d.Path] = d
	}
	changed := false
	var kept []AuditEntry
	for _, e := range at.entries {
		d, ok := declared[e.Path]
		switch {
		case e.Declared && !ok:
			changed = true
			continue
		case ok:
			d.Key = e.Key
			if d.Type != e.Type || !equalOptions(d.Options, e.Options) || d.Description != e.Description || !e.Declared {
				changed = true
			}
			e = d
			delete(declared, e.Path)
		}
		kept = append(kept, e)
	}
	for _, d := range sortedAudit(declared) {
		key, err := c.randomKey()
		if err != nil {
			return false, err
		}
		d.Key = key
		kept = append(kept, d)
		changed = true
	}
	at.entries = kept
	return changed, nil
}

func sortedAudit(m map[string]AuditEntry) []AuditEntry {
	out := make([]AuditEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func equalOptions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (c *Core) persistAudit(ctx context.Context, at *auditTable) error {
	raw, err := json.Marshal(at.entries)
	if err != nil {
		return fmt.Errorf("persist audit table: %w", err)
	}
	if err := c.barrier.Put(ctx, auditTableKey, raw); err != nil {
		return fmt.Errorf("persist audit table: %w", err)
	}
	return nil
}

// openAuditDevice opens e's device, or returns one that keeps trying.
func (c *Core) openAuditDevice(e AuditEntry) audit.Device {
	f := c.opts.AuditTypes[e.Type]
	if f == nil {
		c.log.Error("core: audit device of unknown type; requests will be refused until it is disabled", "path", e.Path, "type", e.Type)
		return &retryingDevice{open: func() (audit.Device, error) { return nil, fmt.Errorf("unknown audit device type %q", e.Type) }}
	}
	open := func() (audit.Device, error) { return f(e.Options) }
	d, err := open()
	if err != nil {
		c.log.Error("core: audit device not available; it will be retried on each request", "path", e.Path, "error", err)
		return &retryingDevice{open: open}
	}
	return d
}

// retryingDevice stands in for a device that could not be opened at
// unseal: every write tries to open it first, and fails while it cannot.
type retryingDevice struct {
	open func() (audit.Device, error)
	mu   sync.Mutex
	dev  audit.Device
}

func (r *retryingDevice) device() (audit.Device, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		d, err := r.open()
		if err != nil {
			return nil, err
		}
		r.dev = d
	}
	return r.dev, nil
}

func (r *retryingDevice) Write(ctx context.Context, line []byte) error {
	d, err := r.device()
	if err != nil {
		return err
	}
	return d.Write(ctx, line)
}

func (r *retryingDevice) Reopen() error {
	d, err := r.device()
	if err != nil {
		return err
	}
	return d.Reopen()
}

func (r *retryingDevice) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return nil
	}
	return r.dev.Close()
}

// AuditDevices lists the enabled audit devices, without their keys.
func (c *Core) AuditDevices() ([]AuditEntry, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	s.auditTable.mu.Lock()
	defer s.auditTable.mu.Unlock()
	out := make([]AuditEntry, len(s.auditTable.entries))
	for i, e := range s.auditTable.entries {
		e.Key = nil
		out[i] = e
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// EnableAudit opens and registers an audit device. The device must open
// now: an unreachable socket or an unwritable file is a 400 naming why.
func (c *Core) EnableAudit(ctx context.Context, e AuditEntry) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	e.Path = normalizeMountPath(e.Path)
	if err := validateMountPath(e.Path); err != nil {
		return err
	}
	f := c.opts.AuditTypes[e.Type]
	if f == nil {
		return &engine.InputError{Field: "type", Rule: fmt.Sprintf("unknown audit device type %q (supported: file, socket)", e.Type)}
	}
	opts, err := auditOptions(e)
	if err != nil {
		return err
	}
	s.auditTable.mu.Lock()
	defer s.auditTable.mu.Unlock()
	for _, x := range s.auditTable.entries {
		if x.Path == e.Path {
			return engine.BadRequest("path already in use: an audit device is enabled at %q", e.Path)
		}
	}
	dev, err := f(e.Options)
	if err != nil {
		return engine.BadRequest("enable audit device %q: %v", e.Path, err)
	}
	if e.Key, err = c.randomKey(); err != nil {
		_ = dev.Close()
		return err
	}
	e.Declared = false
	s.auditTable.entries = append(s.auditTable.entries, e)
	if err := c.persistAudit(ctx, s.auditTable); err != nil {
		s.auditTable.entries = s.auditTable.entries[:len(s.auditTable.entries)-1]
		_ = dev.Close()
		return err
	}
	if err := s.audit.Add(e.Path, dev, e.Key, opts); err != nil {
		return err
	}
	c.log.Info("core: audit device enabled", "path", e.Path, "type", e.Type)
	return nil
}

// DisableAudit removes an audit device; a missing one is not an error. A
// device declared in the configuration file is removed there, not here.
func (c *Core) DisableAudit(ctx context.Context, path string) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	path = normalizeMountPath(path)
	s.auditTable.mu.Lock()
	defer s.auditTable.mu.Unlock()
	entries := s.auditTable.entries
	for i, e := range entries {
		if e.Path != path {
			continue
		}
		if e.Declared {
			return engine.BadRequest("audit device %q is declared in the server configuration; remove it there and restart the server", path)
		}
		s.auditTable.entries = append(entries[:i:i], entries[i+1:]...)
		if err := c.persistAudit(ctx, s.auditTable); err != nil {
			s.auditTable.entries = entries
			return err
		}
		c.log.Info("core: audit device disabled", "path", path)
		return s.audit.Remove(path)
	}
	return nil
}

// AuditHash returns the HMAC the device at path writes for input, so an
// operator can search its log for a known value.
func (c *Core) AuditHash(path, input string) (string, error) {
	s, err := c.state()
	if err != nil {
		return "", err
	}
	h, err := s.audit.Hash(normalizeMountPath(path), input)
	if err != nil {
		return "", engine.BadRequest("no audit device at %q", normalizeMountPath(path))
	}
	return h, nil
}

// ReopenAudit makes every audit device reopen its output (SIGHUP, after
// log rotation). The hash chain continues.
func (c *Core) ReopenAudit() error {
	s, err := c.state()
	if err != nil {
		return nil // nothing is open while sealed
	}
	return s.audit.Reopen()
}
