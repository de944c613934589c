//go:build linux

package server

import "golang.org/x/sys/unix"

// lockMemory keeps the process's memory, which holds keys while unsealed,
// out of swap.
func lockMemory() error {
	return unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
}
