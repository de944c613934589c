// Package socket is the audit device that sends lines over a network
// connection, Vault's "socket" audit device:
//
//	d, err := socket.New("tcp", "127.0.0.1:9090", 2*time.Second)
//	if err != nil { ... } // the address was not reachable
//	err = broker.Add("socket/", d, key, audit.DefaultOptions())
//
// Networks are "tcp" (and tcp4, tcp6), "udp" (udp4, udp6) and "unix" (a
// stream socket path). Each line is sent followed by a newline.
//
// New connects once, so that enabling a device at an address nothing
// listens on fails at once. Later, a write that fails (or does not finish
// within the write timeout, or the context's deadline if sooner) closes the
// connection and fails that entry; the next write connects again. Before
// each write on a stream connection the device checks, without blocking,
// whether the receiver has closed it, so that a receiver that went away
// fails the very next entry instead of one entry later. Over UDP nothing
// tells a lost datagram apart from a delivered one: use tcp or unix where
// every entry must count.
//
// A socket cannot be read back, so the device is not an audit.HeadReader:
// its chain lives in the server's memory and a server restart starts a new
// chain (seq 1). `ward audit verify` accepts such a restart in a received
// log and lists where it happened.
package socket
