package barrier

import (
	"fmt"
	"testing"
)

var benchSizes = []int{100, 4 << 10}

func BenchmarkBarrierPut(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			bar, _, _ := newUnsealed(b, nil)
			value := make([]byte, size)
			ctx := b.Context()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := bar.Put(ctx, "bench/key", value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBarrierGet(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			bar, _, _ := newUnsealed(b, nil)
			ctx := b.Context()
			if err := bar.Put(ctx, "bench/key", make([]byte, size)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := bar.Get(ctx, "bench/key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
