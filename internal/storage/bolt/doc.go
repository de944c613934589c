// Package bolt is Ward's default storage.Backend: a single bbolt
// (go.etcd.io/bbolt) file on local disk.
//
// The server config names a directory,
//
//	storage "bolt" {
//	  path = "/var/lib/ward"
//	}
//
// and Open keeps the data in FileName inside it, creating the directory
// (mode 0700) and the file (mode 0600) when missing:
//
//	b, err := bolt.Open("/var/lib/ward", nil)
//	if err != nil { ... }
//	defer b.Close()
//
// Durability: a Put, Delete or Batch returns only after a bbolt write
// transaction holding it committed, and bbolt fsyncs the file before the
// commit returns, so a write that returned nil survives a crash of the
// process or the machine. Concurrent writers share transactions (group
// commit, see commit.go), so they share fsyncs; reads run concurrently and
// never wait for writes.
//
// Memory: bbolt maps the file into memory and reads only the pages a lookup
// walks, so opening a large file reads a few pages (measured: about 100 KiB
// read from disk to open and serve a first read from a 1 GiB file holding a
// million KV v2 secrets). A process that locks all its memory with
// mlockall(MCL_CURRENT|MCL_FUTURE) defeats this: the kernel reads and locks
// the whole mapping at Open, and again at every remap as the file grows.
// Ward's server adds MCL_ONFAULT, which locks pages only as they are touched.
//
// Only one process may have the file open: bbolt holds an exclusive file
// lock, and a second Open waits Options.Timeout (default one second) and then
// fails with an error that says the file is locked.
//
// Layout: one bucket holds every key as its full "/"-separated string, so
// keys are ordered byte-wise and List is a cursor seek to the prefix followed
// by a walk that jumps over each folder in a single seek rather than visiting
// every key below it.
package bolt
