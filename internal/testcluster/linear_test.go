package testcluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	vaultapi "github.com/hashicorp/vault/api"
)

// TestClusterLinearizable records concurrent puts and gets of a few keys,
// each client talking to its own node (standbys forward), across a kill -9
// of the active node, and checks the history with porcupine.
func TestClusterLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 4 s of steady load")
	}
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

	rec := NewRecorder()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for id := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(id), 1))
			node := c.Nodes[id%len(c.Nodes)]
			vc := node.Client(c.RootToken)
			vc.SetClientTimeout(2 * time.Second)
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("k%d", rng.IntN(5))
				var err error
				if rng.IntN(2) == 0 {
					value := fmt.Sprintf("c%d-%d", id, seq) // unique, so reads name their put
					err = rec.Put(id, key, value, func() error { return kvPut(ctx, vc, key, value) })
					if err == nil {
						mu.Lock()
						acked++
						mu.Unlock()
					}
				} else {
					_, _, err = rec.Get(id, key, func() (string, bool, error) {
						v, err := kvGet(ctx, vc, key)
						if errors.Is(err, vaultapi.ErrSecretNotFound) {
							return "", false, nil
						}
						return v, err == nil, err
					})
				}
				if err != nil && !node.Running() {
					// The node is gone: move to the next live one.
					for _, n := range c.Nodes {
						if n.Running() {
							node, vc = n, n.Client(c.RootToken)
							vc.SetClientTimeout(2 * time.Second)
							break
						}
					}
				}
				if err != nil {
					time.Sleep(100 * time.Millisecond) // back off while the cluster fails over
				}
			}
		})
	}

	time.Sleep(700 * time.Millisecond)
	active.Kill()
	next := c.Active(t, 10*time.Second)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	h := rec.History()
	t.Logf("%d operations, %d acknowledged puts; %s killed, %s active", len(h), acked, active.ID, next.ID)
	if acked == 0 {
		t.Fatal("no put was acknowledged")
	}
	if res := CheckLinearizable(t, h, 30*time.Second); res != porcupine.Ok {
		t.Fatalf("linearizability: %s", res)
	}
}
