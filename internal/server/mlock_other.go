//go:build !linux

package server

import "errors"

func lockMemory() error {
	return errors.New("memory locking is not supported on this platform")
}

func forbidCoreDumps() error { return nil }
