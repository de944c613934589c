package storage

import (
	"fmt"
	"testing"
)

func TestCache(t *testing.T) {
	c := NewCache[int](3)
	gen := c.Generation()
	c.Set("a", 1)
	c.Fill("a", 0, gen) // read before the Set: must not overwrite it
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("a = %d, %v; a stale fill overwrote a write", v, ok)
	}
	gen = c.Generation()
	c.Drop("b")
	c.Fill("b", 2, gen) // read before the Drop: must not come back
	if _, ok := c.Get("b"); ok {
		t.Fatal("a fill racing a drop put the value back")
	}
	gen = c.Generation()
	c.Fill("b", 2, gen)
	if v, ok := c.Get("b"); !ok || v != 2 {
		t.Fatalf("b = %d, %v after a clean fill", v, ok)
	}
	for i := range 10 {
		c.Set(fmt.Sprint("k", i), i)
		if c.Len() > 3 {
			t.Fatalf("Len = %d, over the bound of 3", c.Len())
		}
	}
	if v, ok := c.Get("k9"); !ok || v != 9 {
		t.Fatal("the newest value was evicted instead of an older one")
	}
	c.Drop("k9")
	if _, ok := c.Get("k9"); ok || c.Len() != 2 {
		t.Fatalf("after Drop: Len %d", c.Len())
	}
}
