package bolt

import (
	"fmt"
	"sync"
	"testing"
)

// Concurrent writers all land, in order, each visible once its Put
// returned.
func TestGroupCommit(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := t.Context()
	var wg sync.WaitGroup
	const writers, each = 32, 20
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("w%02d/%02d", w, i)
				if err := db.Put(ctx, key, []byte(key)); err != nil {
					t.Error(err)
					return
				}
				if v, err := db.Get(ctx, key); err != nil || string(v) != key {
					t.Errorf("Get(%s) right after its Put = %q, %v", key, v, err)
				}
				if i%5 == 4 {
					if err := db.Delete(ctx, key); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	for w := range writers {
		for i := range each {
			key := fmt.Sprintf("w%02d/%02d", w, i)
			_, err := db.Get(ctx, key)
			if deleted := i%5 == 4; deleted == (err == nil) {
				t.Fatalf("Get(%s) = %v; deleted %v", key, err, deleted)
			}
		}
	}
}
