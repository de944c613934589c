package testcluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestFailoverUnderLoad kills the active node with kill -9 while writers
// on every node write steadily, and checks that writes flow again through
// the standbys within 3 s, that every acknowledged write (before, during
// and after the failover) is readable afterwards, and that the killed
// node rejoins and catches up.
func TestFailoverUnderLoad(t *testing.T) {
	t.Parallel()
	requireRaft(t)
	ctx := context.Background()
	c := Start(t, 3, nil)
	active := c.Active(t, 5*time.Second)
	if err := active.Client(c.RootToken).Sys().MountWithContext(ctx, "secret", &vaultapi.MountInput{
		Type: "kv", Options: map[string]string{"version": "2"},
	}); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		acked    = map[string]string{}
		lastOK   time.Time
		killedAt time.Time
		resumed  time.Duration // first acknowledged write after the kill
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for id := range 6 {
		wg.Go(func() {
			node := c.Nodes[id%len(c.Nodes)]
			vc := node.Client(c.RootToken)
			vc.SetClientTimeout(3 * time.Second)
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				key, value := fmt.Sprintf("w%d-%d", id, seq), fmt.Sprintf("v%d", seq)
				err := kvPut(ctx, vc, key, value)
				if err == nil {
					mu.Lock()
					acked[key] = value
					lastOK = time.Now()
					if !killedAt.IsZero() && resumed == 0 && node != active {
						resumed = lastOK.Sub(killedAt)
					}
					mu.Unlock()
					continue
				}
				if !node.Running() {
					for _, n := range c.Nodes {
						if n.Running() {
							node, vc = n, n.Client(c.RootToken)
							vc.SetClientTimeout(3 * time.Second)
							break
						}
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	time.Sleep(time.Second)
	mu.Lock()
	before := len(acked)
	killedAt = time.Now()
	mu.Unlock()
	active.Kill()
	next := c.NextActive(t, active, 10*time.Second)
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d writes acknowledged (%d before the kill); writes resumed %v after kill -9 of %s; %s active",
		len(acked), before, resumed, active.ID, next.ID)
	if before == 0 || len(acked) == before {
		t.Fatalf("no writes acknowledged before (%d) or after the kill (%d total)", before, len(acked))
	}
	if resumed == 0 || resumed > 3*time.Second {
		t.Fatalf("writes resumed %v after the kill; want under 3 s", resumed)
	}
	vc := next.Client(c.RootToken)
	for key, want := range acked {
		got, err := kvGet(ctx, vc, key)
		if err != nil || got != want {
			t.Fatalf("acknowledged write %s = %q, %v; want %q", key, got, err, want)
		}
	}

	// The killed node comes back, catches up and serves every write.
	active.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	rc := active.Client(c.RootToken)
	for key, want := range acked {
		for {
			got, err := kvGet(ctx, rc, key)
			if err == nil && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("restarted %s: %s = %q, %v; want %q", active.ID, key, got, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
