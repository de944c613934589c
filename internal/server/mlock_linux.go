//go:build linux

package server

import "golang.org/x/sys/unix"

// lockMemory keeps the process's memory, which holds keys while unsealed,
// out of swap.
func lockMemory() error {
	return unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
}

// forbidCoreDumps keeps keys out of core files and away from same-user
// debuggers: no core dumps, and the process is not dumpable.
func forbidCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
