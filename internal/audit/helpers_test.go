package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
)

// memDevice keeps its lines in memory; fail makes Write fail.
type memDevice struct {
	mu      sync.Mutex
	lines   [][]byte
	fail    bool
	reopens int
	closed  bool
}

func (m *memDevice) Write(_ context.Context, line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("mem device: broken")
	}
	m.lines = append(m.lines, bytes.Clone(line))
	return nil
}

func (m *memDevice) Reopen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reopens++
	return nil
}

func (m *memDevice) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memDevice) setFail(f bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = f
}

func (m *memDevice) all() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.lines...)
}

// log returns the lines as a file: each followed by a newline.
func (m *memDevice) log() []byte {
	var b bytes.Buffer
	for _, l := range m.all() {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// headDevice is a memDevice that reports a chain head.
type headDevice struct {
	memDevice
	h   ChainHead
	err error
}

func (h *headDevice) Head() (ChainHead, error) { return h.h, h.err }

// stuckDevice blocks every Write, ignoring its context, until release is
// closed; then it records like a memDevice.
type stuckDevice struct {
	memDevice
	release chan struct{}
	entered chan struct{} // receives once per Write that started
}

func newStuck() *stuckDevice {
	return &stuckDevice{release: make(chan struct{}), entered: make(chan struct{}, 1000)}
}

func (s *stuckDevice) Write(ctx context.Context, line []byte) error {
	s.entered <- struct{}{}
	<-s.release
	return s.memDevice.Write(ctx, line)
}

var testKey = bytes.Repeat([]byte{0x42}, 32)

func newTestBroker(t *testing.T, opts BrokerOptions) *Broker {
	t.Helper()
	b := NewBroker(opts)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func mustAdd(t *testing.T, b *Broker, path string, d Device, o Options) {
	t.Helper()
	if err := b.Add(path, d, testKey, o); err != nil {
		t.Fatalf("Add(%q): %v", path, err)
	}
}

// decode parses a line into a generic map.
func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, line)
	}
	return m
}

// field walks m along keys.
func field(t *testing.T, m map[string]any, keys ...string) any {
	t.Helper()
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("field %v: %q is not inside an object", keys, k)
		}
		cur = mm[k]
	}
	return cur
}
