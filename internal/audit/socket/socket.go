package socket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultWriteTimeout bounds a write when New gets 0 (Vault's default).
const DefaultWriteTimeout = 2 * time.Second

// Device writes audit lines to a socket. It is safe for concurrent use.
type Device struct {
	network string
	address string
	timeout time.Duration

	mu     sync.Mutex
	conn   net.Conn
	torn   bool // the last connection took part of a line
	closed bool
	buf    []byte
}

// New returns a device for address on network (tcp, tcp4, tcp6, udp, udp4,
// udp6 or unix) and connects to it once: it fails if nothing accepts the
// connection within writeTimeout (0 means DefaultWriteTimeout).
func New(network, address string, writeTimeout time.Duration) (*Device, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix":
	default:
		return nil, fmt.Errorf("socket audit device: socket_type %q: want tcp, udp or unix", network)
	}
	if address == "" {
		return nil, errors.New("socket audit device: address is required")
	}
	if writeTimeout <= 0 {
		writeTimeout = DefaultWriteTimeout
	}
	d := &Device{network: network, address: address, timeout: writeTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := d.dial(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// dial connects; d.mu is held (or d is not shared yet).
func (d *Device) dial(ctx context.Context) error {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, d.network, d.address)
	if err != nil {
		return fmt.Errorf("socket audit device: connect to %s %s: %w", d.network, d.address, err)
	}
	d.conn = c
	return nil
}

// Write sends line and a newline, connecting first if needed. It gives up
// at the earlier of ctx's deadline and the write timeout; on failure it
// drops the connection, so the next Write connects again.
func (d *Device) Write(ctx context.Context, line []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("socket audit device: write to %s: closed", d.address)
	}
	deadline := time.Now().Add(d.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if d.conn != nil && !peerOpen(d.conn) {
		d.drop()
	}
	if d.conn == nil {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		err := d.dial(dctx)
		cancel()
		if err != nil {
			return err
		}
	}
	if err := d.conn.SetWriteDeadline(deadline); err != nil {
		d.drop()
		return fmt.Errorf("socket audit device: write to %s: %w", d.address, err)
	}
	buf := d.buf[:0]
	if d.torn {
		buf = append(buf, '\n') // end the partial line the receiver may have kept
	}
	buf = append(buf, line...)
	buf = append(buf, '\n')
	n, err := d.conn.Write(buf)
	if cap(buf) <= 64<<10 {
		d.buf = buf[:0]
	}
	if err != nil {
		d.drop()
		d.torn = n > 0 && d.stream()
		return fmt.Errorf("socket audit device: write to %s: %w", d.address, err)
	}
	d.torn = false
	return nil
}

func (d *Device) stream() bool {
	return d.network != "udp" && d.network != "udp4" && d.network != "udp6"
}

// drop closes the connection; d.mu is held.
func (d *Device) drop() {
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
}

// Reopen drops the connection; the next Write connects again.
func (d *Device) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drop()
	return nil
}

// Close drops the connection; later writes fail.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.drop()
	return nil
}

// String names the device.
func (d *Device) String() string {
	return "socket audit device " + d.network + " " + d.address
}
