package testcluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line it reads on ip with "<ip>: <line>".
func echoServer(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s: %s\n", ip, sc.Text()); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dialFrom connects to addr with source address from (node i's IP, or
// 127.0.0.1 for the test process).
func dialFrom(from, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	return d.Dial("tcp", addr)
}

// roundTrip sends line on c and returns the answer, failing on a timeout.
func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return "", err
	}
	s, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(s, "\n"), err
}

// reach dials addr from from and does one round trip; "" and the error
// when the connection is refused or reset.
func reach(from, addr string) (string, error) {
	c, err := dialFrom(from, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return roundTrip(c, "ping")
}

// testNet is three nodes' echo servers, each behind a proxy of the node.
func testNet(t *testing.T) (*network, []string) {
	t.Helper()
	nw := newNetwork()
	t.Cleanup(nw.close)
	var proxies []string
	for i := range 3 {
		p, err := nw.listen("echo", i, echoServer(t, nodeIP(i)))
		if err != nil {
			t.Fatal(err)
		}
		if host, _, _ := net.SplitHostPort(p.addr()); host != nodeIP(i) {
			t.Fatalf("proxy of node %d listens on %s, want %s", i, p.addr(), nodeIP(i))
		}
		proxies = append(proxies, p.addr())
	}
	return nw, proxies
}

func wantReach(t *testing.T, from, addr, want string) {
	t.Helper()
	got, err := reach(from, addr)
	if err != nil || got != want {
		t.Fatalf("from %s to %s: got %q, %v; want %q", from, addr, got, err, want)
	}
}

func wantRefused(t *testing.T, from, addr string) {
	t.Helper()
	if got, err := reach(from, addr); err == nil {
		t.Fatalf("from %s to %s: got %q through a partition", from, addr, got)
	}
}

func TestNodeIndex(t *testing.T) {
	for ip, want := range map[string]int{
		"127.0.0.10": 0, "127.0.0.12": 2, "127.0.0.1": -1, "127.0.0.9": -1,
		"127.0.1.10": -1, "10.0.0.10": -1, "::1": -1, "127.0.0.254": -1,
	} {
		if got := nodeIndex(net.ParseIP(ip)); got != want {
			t.Errorf("nodeIndex(%s) = %d, want %d", ip, got, want)
		}
	}
	if got := nodeIndex(net.ParseIP(nodeIP(5))); got != 5 {
		t.Errorf("nodeIndex(nodeIP(5)) = %d", got)
	}
}

func TestProxyForwards(t *testing.T) {
	nw, proxies := testNet(t)
	wantReach(t, nodeIP(0), proxies[1], "127.0.0.11: ping")
	wantReach(t, "127.0.0.1", proxies[2], "127.0.0.12: ping")
	if n := nw.strangerCount("echo"); n != 1 {
		t.Errorf("strangers = %d, want 1 (the connection from 127.0.0.1)", n)
	}

	// A long exchange on one connection, and a half-close: the answer to
	// the last line still arrives after the client stops writing.
	c, err := dialFrom(nodeIP(0), proxies[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 50 {
		if got, err := roundTrip(c, fmt.Sprint(i)); err != nil || got != fmt.Sprintf("127.0.0.11: %d", i) {
			t.Fatalf("line %d: %q, %v", i, got, err)
		}
	}
	if _, err := fmt.Fprintf(c, "last\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	rest, err := io.ReadAll(c)
	if err != nil || string(rest) != "127.0.0.11: last\n" {
		t.Fatalf("after half-close: %q, %v", rest, err)
	}
}

func TestPartition(t *testing.T) {
	nw, proxies := testNet(t)

	// Established connections: 0→1, 1→2, 2→0, and the test process → 1.
	type link struct {
		from string
		to   int
		c    net.Conn
	}
	links := []*link{{from: nodeIP(0), to: 1}, {from: nodeIP(1), to: 2}, {from: nodeIP(2), to: 0}, {from: "127.0.0.1", to: 1}}
	for _, l := range links {
		c, err := dialFrom(l.from, proxies[l.to])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := roundTrip(c, "hello"); err != nil {
			t.Fatal(err)
		}
		l.c = c
	}

	nw.partition(1)
	if !nw.isPartitioned(1) || nw.isPartitioned(0) {
		t.Fatal("partition state wrong")
	}
	// Every link that involves node 1 is cut; 2→0 is untouched.
	for _, l := range links {
		got, err := roundTrip(l.c, "again")
		involved := l.from == nodeIP(1) || l.to == 1
		switch {
		case involved && err == nil:
			t.Errorf("%s→node%d: %q after partitioning node 1", l.from, l.to, got)
		case involved && isTimeout(err):
			t.Errorf("%s→node%d: timed out instead of being closed", l.from, l.to)
		case !involved && err != nil:
			t.Errorf("%s→node%d: %v after partitioning node 1", l.from, l.to, err)
		}
	}
	// New connections: refused from node 1 and to node 1, by anyone.
	wantRefused(t, nodeIP(1), proxies[0])
	wantRefused(t, nodeIP(1), proxies[2])
	wantRefused(t, nodeIP(0), proxies[1])
	wantRefused(t, "127.0.0.1", proxies[1])
	// Traffic not involving node 1 still flows.
	wantReach(t, nodeIP(0), proxies[2], "127.0.0.12: ping")
	wantReach(t, nodeIP(2), proxies[0], "127.0.0.10: ping")

	nw.heal(1)
	wantReach(t, nodeIP(1), proxies[0], "127.0.0.10: ping")
	wantReach(t, nodeIP(0), proxies[1], "127.0.0.11: ping")
	wantReach(t, "127.0.0.1", proxies[1], "127.0.0.11: ping")
}

func TestPartitionTwoNodes(t *testing.T) {
	nw, proxies := testNet(t)
	nw.partition(0)
	nw.partition(2)
	wantRefused(t, nodeIP(0), proxies[2])
	wantRefused(t, nodeIP(1), proxies[2])
	wantReach(t, nodeIP(1), proxies[1], "127.0.0.11: ping")
	nw.heal(0)
	wantReach(t, nodeIP(1), proxies[0], "127.0.0.10: ping")
	wantRefused(t, nodeIP(0), proxies[2]) // node 2 is still cut off
}

func TestProxyTargetDown(t *testing.T) {
	nw := newNetwork()
	t.Cleanup(nw.close)
	dead, err := freePort(nodeIP(0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := nw.listen("echo", 0, net.JoinHostPort(nodeIP(0), dead))
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, nodeIP(1), p.addr())
}

func TestNetworkClose(t *testing.T) {
	nw, proxies := testNet(t)
	c, err := dialFrom(nodeIP(0), proxies[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	nw.close() // must not hang on the live connection
	if got, err := roundTrip(c, "y"); err == nil {
		t.Fatalf("connection alive after close: %q", got)
	}
	if _, err := dialFrom(nodeIP(0), proxies[1]); err == nil {
		t.Fatal("proxy still accepts after close")
	}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
