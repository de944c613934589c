//go:build linux

package server

import (
	"errors"

	"golang.org/x/sys/unix"
)

// lockMemory keeps the process's memory, which holds keys while unsealed,
// out of swap. Pages are locked as they are first touched (MCL_ONFAULT):
// without it, locking would also read in and pin all of bolt's memory
// map, the whole store file, at every start.
func lockMemory() error {
	err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT)
	if errors.Is(err, unix.EINVAL) { // kernels before 4.4 have no MCL_ONFAULT
		err = unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
	}
	return err
}

// forbidCoreDumps keeps keys out of core files and away from same-user
// debuggers: no core dumps, and the process is not dumpable.
func forbidCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
