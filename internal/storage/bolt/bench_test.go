package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// BenchmarkPut measures one fsync'd write transaction per Put.
func BenchmarkPut(b *testing.B) {
	db := openTest(b, b.TempDir())
	ctx := b.Context()
	value := make([]byte, 256)
	i := 0
	for b.Loop() {
		if err := db.Put(ctx, fmt.Sprintf("bench/%08d", i), value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGet reads from 10,000 keys of 256 bytes.
func BenchmarkGet(b *testing.B) {
	const n = 10000
	db := openTest(b, b.TempDir())
	ctx := b.Context()
	value := make([]byte, 256)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench/%03d/%05d", i%100, i)
	}
	// One transaction for the fill, so setup does not take 10,000 fsyncs.
	err := db.db.Update(func(tx *bbolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(bucket).Put([]byte(k), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := db.Get(ctx, keys[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkList lists a folder of 100 subfolders holding 100 keys each.
func BenchmarkList(b *testing.B) {
	db := openTest(b, b.TempDir())
	ctx := b.Context()
	err := db.db.Update(func(tx *bbolt.Tx) error {
		for i := range 10000 {
			if err := tx.Bucket(bucket).Put([]byte(fmt.Sprintf("bench/%03d/%05d", i%100, i)), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := db.List(ctx, "bench/")
		if err != nil || len(got) != 100 {
			b.Fatalf("List = %d entries, %v; want 100", len(got), err)
		}
	}
}

// BenchmarkPutParallel: 32 concurrent writers share fsync'd commits.
func BenchmarkPutParallel(b *testing.B) {
	db := openTest(b, b.TempDir())
	ctx := b.Context()
	value := make([]byte, 256)
	var n atomic.Int64
	b.SetParallelism(16) // 16 x GOMAXPROCS writers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Put(ctx, fmt.Sprintf("bench/%08d", n.Add(1)), value); err != nil {
				b.Fatal(err)
			}
		}
	})
}
