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
// Durability: every Put and Delete is its own bbolt write transaction, and
// bbolt fsyncs the file before the call returns, so a write that returned nil
// survives a crash of the process or the machine. Writes are therefore
// serialised and cost at least one fsync each; reads run concurrently and
// never wait for writes.
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
