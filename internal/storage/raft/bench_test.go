package raft

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkPut measures acknowledged writes of 256-byte values from 32
// concurrent writers; raft groups concurrent Applies into one log append
// and fsync per node. "1node" is a bootstrapped single node, "3node" a
// cluster on loopback with each node's files in its own temp directory.
// Run: go test -run '^$' -bench BenchmarkPut ./internal/storage/raft/
func BenchmarkPut(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%dnode", n), func(b *testing.B) {
			var leader *Backend
			if n == 1 {
				leader = single(b)
			} else {
				_, leader = newCluster(b, n, nil).leader()
			}
			benchPut(b, leader, 32)
		})
	}
}

// BenchmarkPutSerial is one writer: the latency of a single write.
func BenchmarkPutSerial(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%dnode", n), func(b *testing.B) {
			var leader *Backend
			if n == 1 {
				leader = single(b)
			} else {
				_, leader = newCluster(b, n, nil).leader()
			}
			benchPut(b, leader, 0)
		})
	}
}

func benchPut(b *testing.B, leader *Backend, parallelism int) {
	ctx := b.Context()
	value := make([]byte, 256)
	var next atomic.Int64
	b.ResetTimer()
	put := func() {
		k := fmt.Sprintf("bench/%08d", next.Add(1))
		if err := leader.Put(ctx, k, value); err != nil {
			b.Error(err)
		}
	}
	if parallelism == 0 {
		for b.Loop() {
			put()
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				put()
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkGet measures linearizable reads from 32 concurrent readers,
// which share leadership checks: on one node the check is local, on three
// it is a heartbeat round to the followers.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%dnode", n), func(b *testing.B) {
			var leader *Backend
			if n == 1 {
				leader = single(b)
			} else {
				_, leader = newCluster(b, n, nil).leader()
			}
			ctx := b.Context()
			if err := leader.Put(ctx, "k", make([]byte, 256)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := leader.Get(ctx, "k"); err != nil {
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkGetSerial is one reader: the latency of a linearizable read,
// which on three nodes includes a heartbeat round trip.
func BenchmarkGetSerial(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%dnode", n), func(b *testing.B) {
			var leader *Backend
			if n == 1 {
				leader = single(b)
			} else {
				_, leader = newCluster(b, n, nil).leader()
			}
			ctx := b.Context()
			if err := leader.Put(ctx, "k", make([]byte, 256)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := leader.Get(ctx, "k"); err != nil {
					b.Error(err)
				}
			}
		})
	}
}
