package socket_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/audit/socket"
)

// receiver is an audit receiver that can be stopped and started again on
// the same address.
type receiver struct {
	t       *testing.T
	network string
	address string
	lines   chan string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newReceiver(t *testing.T, network, address string) *receiver {
	r := &receiver{t: t, network: network, address: address, lines: make(chan string, 100)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) start() {
	ln, err := net.Listen(r.network, r.address)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.ln, r.address = ln, ln.Addr().String()
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			go func() {
				s := bufio.NewScanner(c)
				for s.Scan() {
					r.lines <- s.Text()
				}
			}()
		}
	}()
}

// stop closes the listener and every connection: the receiver is gone.
func (r *receiver) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *receiver) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-r.lines:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("no line received")
		return ""
	}
}

func TestNewRefuses(t *testing.T) {
	for _, c := range [][2]string{{"ip", "127.0.0.1:1"}, {"unixgram", "/tmp/x"}, {"tcp", ""}} {
		if _, err := socket.New(c[0], c[1], time.Second); err == nil {
			t.Errorf("New(%q, %q) succeeded", c[0], c[1])
		}
	}
	// Nothing listens here.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := socket.New("tcp", addr, time.Second); err == nil {
		t.Error("New to a closed port succeeded")
	}
}

func TestReceiverGoesAwayAndComesBack(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "audit.sock")
			}
			r := newReceiver(t, network, addr)
			d, err := socket.New(network, r.address, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if err := d.Write(ctx, []byte(`{"n":1}`)); err != nil {
				t.Fatal(err)
			}
			if got := r.next(t); got != `{"n":1}` {
				t.Errorf("received %q", got)
			}
			r.stop()
			time.Sleep(10 * time.Millisecond) // let the close reach us
			for i := range 2 {
				if err := d.Write(ctx, []byte(`{"n":"lost"}`)); err == nil {
					t.Fatalf("write %d after the receiver stopped succeeded", i+1)
				}
			}
			r.start()
			if err := d.Write(ctx, []byte(`{"n":2}`)); err != nil {
				t.Fatalf("write after the receiver came back: %v", err)
			}
			if got := r.next(t); got != `{"n":2}` {
				t.Errorf("received %q", got)
			}
		})
	}
}

func TestOnlyDeviceFailsClosedThenRecovers(t *testing.T) {
	r := newReceiver(t, "tcp", "127.0.0.1:0")
	d, err := socket.New("tcp", r.address, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b := audit.NewBroker(audit.BrokerOptions{Timeout: time.Second})
	defer b.Close()
	if err := b.Add("socket/", d, bytes.Repeat([]byte{1}, 32), audit.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entry := func() *audit.Entry {
		return &audit.Entry{Type: audit.TypeRequest, Request: &audit.Request{ID: "r", Path: "secret/x", Data: map[string]any{"v": "CANARY"}}}
	}
	var got []string
	if err := b.Log(ctx, entry()); err != nil {
		t.Fatal(err)
	}
	got = append(got, r.next(t))
	r.stop()
	time.Sleep(10 * time.Millisecond)
	if err := b.Log(ctx, entry()); !errors.Is(err, audit.ErrNotRecorded) {
		t.Fatalf("Log with the receiver gone = %v, want ErrNotRecorded", err)
	}
	r.start()
	if err := b.Log(ctx, entry()); err != nil {
		t.Fatalf("Log after the receiver came back: %v", err)
	}
	got = append(got, r.next(t))
	log := strings.Join(got, "\n") + "\n"
	if strings.Contains(log, "CANARY") {
		t.Error("secret sent in the clear")
	}
	if sum, err := audit.Verify([]audit.NamedReader{{Name: "received", R: strings.NewReader(log)}}); err != nil || sum.Lines != 2 {
		t.Errorf("received chain: %+v, %v", sum, err)
	}
}

func TestStuckReceiverTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept() // and never read
		if err == nil {
			accepted <- c
		}
	}()
	const timeout = 100 * time.Millisecond
	d, err := socket.New("tcp", ln.Addr().String(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer func() {
		if c := <-accepted; c != nil {
			c.Close()
		}
	}()
	line := bytes.Repeat([]byte("x"), 1<<20)
	for i := range 256 {
		start := time.Now()
		err := d.Write(context.Background(), line)
		if el := time.Since(start); el > 10*timeout {
			t.Fatalf("write %d took %v", i, el)
		}
		if err != nil {
			return // the buffers filled and the write timed out
		}
	}
	t.Fatal("256 MiB written to a receiver that never reads")
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	d, err := socket.New("udp", pc.LocalAddr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Write(context.Background(), []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "{\"n\":1}\n" {
		t.Errorf("datagram %q, %v", buf[:n], err)
	}
}

func TestReopenReconnectsAndCloseStops(t *testing.T) {
	r := newReceiver(t, "tcp", "127.0.0.1:0")
	d, err := socket.New("tcp", r.address, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	r.next(t)
	r.mu.Lock()
	n := len(r.conns)
	r.mu.Unlock()
	if n != 2 {
		t.Errorf("%d connections, want 2 (one from New, one after Reopen)", n)
	}
	d.Close()
	if err := d.Write(ctx, []byte("b")); err == nil {
		t.Error("Write after Close succeeded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := d.Write(cctx, []byte("c")); err == nil {
		t.Error("Write with a cancelled context succeeded")
	}
}
