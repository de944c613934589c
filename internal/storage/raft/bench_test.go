package raft

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// onClusters runs bench against the leader of a bootstrapped single node
// ("1node") and of a cluster on loopback with each node's files in its
// own temp directory ("3node").
func onClusters(b *testing.B, bench func(b *testing.B, leader *Backend)) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%dnode", n), func(b *testing.B) {
			var leader *Backend
			if n == 1 {
				leader = single(b)
			} else {
				_, leader = newCluster(b, n, nil).leader()
			}
			bench(b, leader)
		})
	}
}

// BenchmarkPut measures acknowledged writes of 256-byte values from 32
// concurrent writers; raft groups concurrent Applies into one log append
// and fsync per node.
// Run: go test -run '^$' -bench BenchmarkPut ./internal/storage/raft/
func BenchmarkPut(b *testing.B) {
	onClusters(b, func(b *testing.B, leader *Backend) { benchPut(b, leader, 32) })
}

// BenchmarkPutSerial is one writer: the latency of a single write.
func BenchmarkPutSerial(b *testing.B) {
	onClusters(b, func(b *testing.B, leader *Backend) { benchPut(b, leader, 0) })
}

// BenchmarkGet measures linearizable reads from 32 concurrent readers,
// which share leadership checks: on one node the check is local, on three
// it is a heartbeat round to the followers.
func BenchmarkGet(b *testing.B) {
	onClusters(b, func(b *testing.B, leader *Backend) { benchGet(b, leader, 32) })
}

// BenchmarkGetSerial is one reader: the latency of a linearizable read,
// which on three nodes includes a heartbeat round trip.
func BenchmarkGetSerial(b *testing.B) {
	onClusters(b, func(b *testing.B, leader *Backend) { benchGet(b, leader, 0) })
}

func benchPut(b *testing.B, leader *Backend, parallelism int) {
	ctx := b.Context()
	value := make([]byte, 256)
	var next atomic.Int64
	runBench(b, parallelism, func() {
		k := fmt.Sprintf("bench/%08d", next.Add(1))
		if err := leader.Put(ctx, k, value); err != nil {
			b.Error(err)
		}
	})
}

func benchGet(b *testing.B, leader *Backend, parallelism int) {
	ctx := b.Context()
	if err := leader.Put(ctx, "k", make([]byte, 256)); err != nil {
		b.Fatal(err)
	}
	runBench(b, parallelism, func() {
		if _, err := leader.Get(ctx, "k"); err != nil {
			b.Error(err)
		}
	})
}

// runBench times op, serially when parallelism is 0, else from that many
// goroutines per CPU, and reports the rate.
func runBench(b *testing.B, parallelism int, op func()) {
	b.ResetTimer()
	if parallelism == 0 {
		for b.Loop() {
			op()
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op()
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
