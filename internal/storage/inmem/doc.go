// Package inmem is a storage.Backend that keeps everything in a map in
// memory, with an ordered index of the keys for List. It is for dev mode
// and tests: nothing survives the process.
//
//	b := inmem.New()
//	err := b.Put(ctx, "core/mounts", data)
//
// Values are copied on the way in and out, so callers may reuse their slices.
// All methods are safe for concurrent use; reads share a lock, writes take it
// exclusively.
package inmem
