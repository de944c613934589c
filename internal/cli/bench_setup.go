package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/client"
)

// benchSetup creates what the scenarios need on a server, every name
// starting with its id ("bench-1a2b3c4d": mounts bench-…-kv/ and
// bench-…-transit/, auth method bench-…-approle/, policy bench-…), and
// removes all of it again in cleanup, whatever happened in between.
type benchSetup struct {
	cl     *client.Client // the caller's token: may mount and write policies
	id     string
	stderr io.Writer
	undo   []benchUndo

	// noAppRole says why approle-login cannot run, when it cannot.
	noAppRole string
}

// benchUndo is one cleanup step and what to tell the user if it fails.
type benchUndo struct {
	what string // "secrets engine bench-…-kv/"
	hint string // the command that removes it by hand
	fn   func(ctx context.Context) error
}

func newBenchSetup(cl *client.Client, stderr io.Writer) (*benchSetup, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("bench setup: random name: %w", err)
	}
	return &benchSetup{cl: cl, id: "bench-" + hex.EncodeToString(b), stderr: stderr}, nil
}

func (s *benchSetup) kvMount() string      { return s.id + "-kv" }
func (s *benchSetup) transitMount() string { return s.id + "-transit" }
func (s *benchSetup) appRoleMount() string { return s.id + "-approle" }

// policy is the workload token's policy: exactly what the scenarios do.
func (s *benchSetup) policy() string {
	return fmt.Sprintf(`# ward bench %[1]s: removed when the run ends
path "%[1]s-kv/data/*" {
  capabilities = ["create", "read", "update"]
}
path "%[1]s-transit/encrypt/bench" {
  capabilities = ["update"]
}
path "auth/token/create" {
  capabilities = ["create", "update"]
}
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
`, s.id)
}

// benchPrep says what to prepare.
type benchPrep struct {
	needs       benchNeeds
	keys        int
	value       string
	concurrency int           // for loading the keys
	tokenTTL    time.Duration // the workload token outlives the run
}

// prepare creates what p.needs on the server and fills env (whose target
// carries no token yet) with the requests of the workload token. Whatever
// it created is undone by cleanup, even when prepare fails.
func (s *benchSetup) prepare(ctx context.Context, p benchPrep, env *benchEnv) error {
	sys := s.cl.Sys()
	if err := sys.PutPolicy(ctx, s.id, s.policy()); err != nil {
		return fmt.Errorf("bench setup: write policy %s: %w", s.id, err)
	}
	s.push("policy "+s.id, "ward policy delete "+s.id, func(ctx context.Context) error {
		return sys.DeletePolicy(ctx, s.id)
	})

	// The tokens the load creates live as long as the workload token, so
	// that none expires (and costs the server work) during a later
	// scenario; revoking the workload token at the end revokes them.
	ttl := fmt.Sprintf("%ds", int(p.tokenTTL.Seconds()))
	sec, err := s.cl.Tokens().Create(ctx, &client.TokenRequest{
		Policies:    []string{s.id},
		TTL:         ttl,
		DisplayName: s.id,
	})
	if err != nil {
		return fmt.Errorf("bench setup: create workload token: %w", err)
	}
	if sec.Auth == nil || sec.Auth.ClientToken == "" {
		return errors.New("bench setup: create workload token: the answer holds no token")
	}
	tok, accessor := sec.Auth.ClientToken, sec.Auth.Accessor
	s.push("workload token (accessor "+accessor+") and its children", "ward token revoke -accessor "+accessor,
		func(ctx context.Context) error { return s.cl.Tokens().Revoke(ctx, tok) })
	env.target = env.target.withToken(tok)
	env.addToken(ctx, p.value, ttl)

	if p.needs&needKV != 0 {
		if err := s.mount(ctx, s.kvMount(), &client.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
			return err
		}
		env.addKV(ctx, s.kvMount(), p.keys, p.value)
		if err := loadKeys(ctx, env, p.concurrency); err != nil {
			return err
		}
	}
	if p.needs&needTransit != 0 {
		if err := s.mount(ctx, s.transitMount(), &client.MountInput{Type: "transit"}); err != nil {
			return err
		}
		if _, err := s.cl.Write(ctx, s.transitMount()+"/keys/bench", map[string]any{"type": "aes256-gcm96"}); err != nil {
			return fmt.Errorf("bench setup: create transit key: %w", err)
		}
		env.addTransit(ctx, s.transitMount(), "bench", p.value)
	}
	if p.needs&needAppRole != 0 {
		if err := s.appRole(ctx, env, ttl); err != nil {
			return err
		}
	}
	return nil
}

func (s *benchSetup) mount(ctx context.Context, path string, in *client.MountInput) error {
	in.Description = "ward bench " + s.id + ": removed when the run ends"
	if err := s.cl.Sys().Mount(ctx, path, in); err != nil {
		return fmt.Errorf("bench setup: mount %s at %s/: %w", in.Type, path, err)
	}
	s.push("secrets engine "+path+"/", "ward secrets disable "+path, func(ctx context.Context) error {
		return s.cl.Sys().Unmount(ctx, path)
	})
	return nil
}

// appRole enables approle with one role and secret ID. A server without
// approle (the enable is refused as bad input) only sets noAppRole.
func (s *benchSetup) appRole(ctx context.Context, env *benchEnv, ttl string) error {
	mount := s.appRoleMount()
	err := s.cl.Sys().EnableAuth(ctx, mount, &client.MountInput{Type: "approle", Description: "ward bench " + s.id})
	if client.StatusCode(err) == http.StatusBadRequest {
		s.noAppRole = "the server has no approle auth method: " + err.Error()
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench setup: enable approle at auth/%s/: %w", mount, err)
	}
	s.push("auth method auth/"+mount+"/", "ward auth disable "+mount, func(ctx context.Context) error {
		return s.cl.Sys().DisableAuth(ctx, mount)
	})
	role := "auth/" + mount + "/role/bench"
	if _, err := s.cl.Write(ctx, role, map[string]any{"token_policies": []string{"default"}, "token_ttl": ttl}); err != nil {
		return fmt.Errorf("bench setup: create approle role: %w", err)
	}
	idSec, err := s.cl.Read(ctx, role+"/role-id")
	if err != nil {
		return fmt.Errorf("bench setup: read role ID: %w", err)
	}
	secSec, err := s.cl.Write(ctx, role+"/secret-id", nil)
	if err != nil {
		return fmt.Errorf("bench setup: create secret ID: %w", err)
	}
	var roleID, secretID string
	if idSec != nil {
		roleID, _ = idSec.Data["role_id"].(string)
	}
	if secSec != nil {
		secretID, _ = secSec.Data["secret_id"].(string)
	}
	if roleID == "" || secretID == "" {
		return errors.New("bench setup: approle gave no role_id or secret_id")
	}
	env.addLogin(ctx, mount, roleID, secretID)
	return nil
}

func (s *benchSetup) push(what, hint string, fn func(ctx context.Context) error) {
	s.undo = append(s.undo, benchUndo{what: what, hint: hint, fn: fn})
}

// cleanupTimeout bounds each cleanup step. A step that fails is retried
// until then: removing a mount or revoking a token with many children can
// outlast a server's request time limit, and every attempt makes progress.
// Each step is idempotent on Vault-API servers (deleting what is gone
// succeeds).
const cleanupTimeout = 3 * time.Minute

// cleanup removes everything prepare created, newest first, going on past
// failures. It returns one error per step that failed, each with the
// command that removes the leftover by hand.
func (s *benchSetup) cleanup() []error {
	var errs []error
	for i := len(s.undo) - 1; i >= 0; i-- {
		u := s.undo[i]
		deadline := time.Now().Add(cleanupTimeout)
		for {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			err := u.fn(ctx)
			cancel()
			if err == nil {
				break
			}
			if time.Now().Add(time.Second).After(deadline) {
				errs = append(errs, withHints(fmt.Errorf("bench cleanup: remove %s: %w", u.what, err),
					"remove it by hand: "+u.hint))
				break
			}
			fmt.Fprintf(s.stderr, "bench: cleanup: remove %s: %v; retrying\n", u.what, err)
			time.Sleep(time.Second)
		}
	}
	s.undo = nil
	return errs
}

// loadKeys writes every key once, concurrency at a time. The first write
// is retried for a few seconds: a new KV v2 mount of some servers (Vault)
// refuses requests while it upgrades itself.
func loadKeys(ctx context.Context, env *benchEnv, concurrency int) error {
	var buf []byte
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := env.target.send(env.kvWrite[0], nil, &buf)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench setup: write the first key: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var next atomic.Int64
	next.Store(1)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(concurrency, len(env.kvWrite)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(env.kvWrite) {
					return
				}
				if err := env.target.send(env.kvWrite[i], nil, &buf); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("bench setup: write keys: %w", firstErr)
	}
	return ctx.Err()
}
