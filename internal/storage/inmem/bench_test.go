package inmem

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkListSmallFolder lists a folder of 10 keys among 100,000: it
// costs the folder, not the store.
func BenchmarkListSmallFolder(b *testing.B) {
	ctx := context.Background()
	db := New()
	for i := range 100000 {
		if err := db.Put(ctx, fmt.Sprintf("big/%06d", i), nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10 {
		if err := db.Put(ctx, fmt.Sprintf("small/%d", i), nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if keys, err := db.List(ctx, "small/"); err != nil || len(keys) != 10 {
			b.Fatal(keys, err)
		}
	}
}
