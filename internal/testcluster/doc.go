// Package testcluster runs real multi-node Ward clusters for tests: each
// node is a `ward server` process on its own loopback address, storing in
// raft, and the harness can kill, restart and partition nodes while a test
// talks to them. It also checks recorded histories of KV operations for
// linearizability with porcupine. It is a test-only package.
//
// # Starting a cluster
//
// Start finds `ward` on PATH. The cmd/ward test binary doubles as ward
// through testscript.Main in its TestMain, so its tests can simply write:
//
//	c := testcluster.Start(t, 3, nil)
//	active := c.Active(t, 5*time.Second)
//	vc := active.Client(c.RootToken) // a *vaultapi.Client, retries off
//
// Start initializes node 0 (3 shares, threshold 2 unless Options say
// otherwise), unseals it, joins every other node to it with
// sys/storage/raft/join, unseals them with the same shares and returns once
// every node is unsealed and exactly one is active. Cleanup kills every
// process; if the test failed, the tail of each node's log is logged.
//
// Active waits until exactly one node answers sys/health with 200.
// NextActive(t, old, within) waits for an active node other than old: right
// after a partition the old active node still answers 200 until it notices.
// Standbys lists the nodes answering 429 now.
//
// # Addresses and partitions
//
// Node i listens on 127.0.0.(10+i) (Linux routes all of 127/8 to lo). Its
// Addr is its real API address, which tests use. The api_addr and
// cluster_addr it advertises (Node.APIAddr, Node.ClusterAddr) are TCP
// proxies the harness runs on the same address, and the server dials its
// peers from its own address, so the source of every inter-node connection
// names the node that opened it. Partition(i) makes every proxy refuse (with
// a reset, so peers fail at once rather than time out) connections from
// node i, makes node i's proxies refuse everything, and closes the proxied
// connections already open; Heal(i) lets new connections through again. A
// partitioned node is still reachable at its Addr, so a test can watch it
// refuse writes.
//
// # Failures
//
// Node.Kill sends SIGKILL (a crash), Node.Stop SIGTERM (a clean shutdown),
// and Node.Restart starts the same process again with the same directory,
// configuration and ports, then unseals it unless
// Options.NoUnsealOnRestart (Unseal first waits until the node reports
// itself initialized, which a restarted node may take a moment to do).
// The harness notes each kill, stop, partition and heal in the node's log,
// so a log tail shows the server's reaction in context. Every wait is bounded: the harness polls every
// 20 ms until a deadline (Options.Timeout, 30 s by default) and then fails
// the test with what it last saw.
//
// # Linearizability
//
// A Recorder collects the calls and returns of concurrent clients' puts
// and gets; KVModel specifies a map of registers; CheckLinearizable runs
// porcupine over the history and, on a violation, fails the test and
// writes porcupine's visualization to t.ArtifactDir() (kept when the test
// runs with -artifacts):
//
//	rec := testcluster.NewRecorder()
//	// in client goroutine id:
//	rec.Put(id, key, value, func() error { _, err := kv.Put(ctx, key, data); return err })
//	rec.Get(id, key, func() (string, bool, error) { ... })
//	// after the clients stop:
//	testcluster.CheckLinearizable(t, rec.History(), time.Minute)
//
// A put that fails with an error may still have been applied (the request
// may have reached the active node before the connection broke), so its
// return is placed at +infinity: the checker may apply it at any point after
// its call, or never. A failed get observed nothing and is dropped. Give
// every put a unique value: CheckLinearizable leaves out unknown puts whose
// value no get returned (they change nothing anyone saw), without which a
// few dozen failed writes during a failover make the check intractable.
package testcluster
