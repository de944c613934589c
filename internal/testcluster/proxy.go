package testcluster

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// firstNodeOctet is the last octet of node 0's loopback address: node i
// lives on 127.0.0.(10+i). Linux routes all of 127/8 to lo, so no setup is
// needed, and the source address of a connection names the node that
// opened it.
const firstNodeOctet = 10

// maxNodes keeps every node address inside 127.0.0.0/24.
const maxNodes = 254 - firstNodeOctet

// nodeIP returns node i's loopback address.
func nodeIP(i int) string { return "127.0.0." + strconv.Itoa(firstNodeOctet+i) }

// nodeIndex returns the node whose loopback address is ip, or -1 when ip is
// no node's (127.0.0.1, for example: the test process itself).
func nodeIndex(ip net.IP) int {
	v4 := ip.To4()
	if v4 == nil || v4[0] != 127 || v4[1] != 0 || v4[2] != 0 {
		return -1
	}
	i := int(v4[3]) - firstNodeOctet
	if i < 0 || i >= maxNodes {
		return -1
	}
	return i
}

// network is the set of TCP proxies that carry a cluster's inter-node
// traffic, and the partition state they enforce. Every node advertises
// its proxies' addresses, never its real ones, so cutting a node off is
// a matter of the proxies refusing its connections.
//
// Partition state has one owner, the network's mutex; each proxy keeps
// its own set of live connections under the same lock, so that checking
// whether a connection may exist and registering it are one step.
type network struct {
	mu          sync.Mutex
	partitioned map[int]bool
	proxies     []*proxy
	// strangers counts, per proxy name, accepted connections whose source
	// address is no node's; a server that does not dial from its own
	// address shows up here, and partitions then cannot see its outgoing
	// traffic.
	strangers map[string]int
}

func newNetwork() *network {
	return &network{partitioned: map[int]bool{}, strangers: map[string]int{}}
}

// proxy is one listener on node owner's address that forwards every
// connection to target.
type proxy struct {
	net    *network
	name   string // what it carries, "api" or "cluster"
	owner  int
	target string
	ln     net.Listener
	conns  map[*proxyConn]struct{} // guarded by net.mu
	wg     sync.WaitGroup
}

// proxyConn is one accepted connection and, once dialed, its upstream.
type proxyConn struct {
	src  int      // node that opened it, or -1
	down net.Conn // accepted

	mu     sync.Mutex
	up     net.Conn // dialed to the target; nil until then
	closed bool
}

// close closes both sides; it is safe to call more than once and from
// any goroutine.
func (c *proxyConn) close() {
	c.mu.Lock()
	c.closed = true
	up := c.up
	c.mu.Unlock()
	_ = c.down.Close()
	if up != nil {
		_ = up.Close()
	}
}

// setUp records the upstream connection, or reports false when the
// connection was closed while it was being dialed.
func (c *proxyConn) setUp(up net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.up = up
	return true
}

// listen starts a proxy named name on owner's address (port 0 picks a
// free one) that forwards to target.
func (nw *network) listen(name string, owner int, target string) (*proxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(nodeIP(owner), "0"))
	if err != nil {
		return nil, fmt.Errorf("proxy for node %d: %w", owner, err)
	}
	p := &proxy{net: nw, name: name, owner: owner, target: target, ln: ln, conns: map[*proxyConn]struct{}{}}
	nw.mu.Lock()
	nw.proxies = append(nw.proxies, p)
	nw.mu.Unlock()
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// addr returns the proxy's host:port.
func (p *proxy) addr() string { return p.ln.Addr().String() }

// blocked reports whether a connection from src through p must not
// exist. The caller holds nw.mu.
func (nw *network) blocked(p *proxy, src int) bool {
	return nw.partitioned[p.owner] || src >= 0 && nw.partitioned[src]
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(20 * time.Millisecond) // EMFILE and friends: back off
			continue
		}
		src := -1
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			src = nodeIndex(a.IP)
		}
		pc := &proxyConn{src: src, down: c}
		p.net.mu.Lock()
		if src < 0 {
			p.net.strangers[p.name]++
		}
		if p.net.blocked(p, src) {
			p.net.mu.Unlock()
			refuse(c)
			continue
		}
		p.conns[pc] = struct{}{}
		p.net.mu.Unlock()
		p.wg.Add(1)
		go p.pipe(pc)
	}
}

// refuse closes c with a reset, so the peer sees "connection reset" at
// once rather than waiting for a timeout.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// pipe dials the target and copies both ways until both directions end or
// either fails; a partition closes the connection from outside.
func (p *proxy) pipe(pc *proxyConn) {
	defer p.wg.Done()
	defer func() {
		p.net.mu.Lock()
		delete(p.conns, pc)
		p.net.mu.Unlock()
		pc.close()
	}()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		refuse(pc.down)
		return
	}
	p.net.mu.Lock()
	blocked := p.net.blocked(p, pc.src) // partitioned while dialing?
	p.net.mu.Unlock()
	if blocked || !pc.setUp(up) {
		_ = up.Close()
		refuse(pc.down)
		return
	}

	done := make(chan error, 2)
	go func() { done <- copyHalf(up, pc.down) }()
	go func() { done <- copyHalf(pc.down, up) }()
	for range 2 {
		if err := <-done; err != nil {
			return // one side failed: tear down both
		}
	}
}

// copyHalf copies src to dst and then half-closes dst, so that a peer that
// shuts down its writing side is seen as such on the far end.
func copyHalf(dst, src net.Conn) error {
	_, err := io.Copy(dst, src)
	if err != nil {
		return err
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// partition cuts node i off: new connections from i or to i's proxies are
// refused and the live ones closed.
func (nw *network) partition(i int) {
	nw.mu.Lock()
	nw.partitioned[i] = true
	var doomed []*proxyConn
	for _, p := range nw.proxies {
		for pc := range p.conns {
			if nw.blocked(p, pc.src) {
				doomed = append(doomed, pc)
			}
		}
	}
	nw.mu.Unlock()
	for _, pc := range doomed {
		pc.close()
	}
}

// heal lets node i's traffic through again.
func (nw *network) heal(i int) {
	nw.mu.Lock()
	delete(nw.partitioned, i)
	nw.mu.Unlock()
}

// isPartitioned reports whether node i is cut off.
func (nw *network) isPartitioned(i int) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.partitioned[i]
}

// strangerCount reports how many connections to proxies named name came
// from no node's address.
func (nw *network) strangerCount(name string) int {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.strangers[name]
}

// close stops every proxy and closes every connection, then waits for
// the proxies' goroutines to finish.
func (nw *network) close() {
	nw.mu.Lock()
	proxies := nw.proxies
	var live []*proxyConn
	for _, p := range proxies {
		_ = p.ln.Close()
		for pc := range p.conns {
			live = append(live, pc)
		}
	}
	nw.mu.Unlock()
	for _, pc := range live {
		pc.close()
	}
	for _, p := range proxies {
		p.wg.Wait()
	}
}
