//go:build unix

package socket

import (
	"net"
	"syscall"
)

// peerOpen reports whether the receiver of a stream connection has not
// closed it. It reads without blocking: no data (EAGAIN) means open, end
// of file or an error (a reset) means closed. Data a receiver sends is
// discarded; audit receivers have nothing to say.
func peerOpen(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	if _, udp := c.(*net.UDPConn); udp {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := true
	var buf [256]byte
	err = rc.Read(func(fd uintptr) bool {
		for range 16 {
			n, err := syscall.Read(int(fd), buf[:])
			switch {
			case n > 0:
				continue // discard and look again
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
				return true
			default: // n == 0: end of file, or a reset
				open = false
				return true
			}
		}
		return true
	})
	return err == nil && open
}
