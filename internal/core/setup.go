package core

import (
	"context"
	"fmt"
	"time"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/identity"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/token"
)

// setup builds the unsealed state: mount tables, policies, the token store
// and every mounted engine. The barrier must be unsealed.
func (c *Core) setup(ctx context.Context) (*unsealed, error) {
	s := &unsealed{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	var created bool
	if s.mounts, created, err = c.loadMounts(ctx); err != nil {
		return nil, err
	}
	if !created {
		if err := c.sweepOrphans(ctx, s.mounts); err != nil {
			c.log.Warn("core: could not delete leftover mount data", "error", err)
		}
	}
	if s.policies, err = loadPolicies(ctx, c.barrier); err != nil {
		return nil, err
	}
	if s.auditTable, s.audit, err = c.loadAudit(ctx); err != nil {
		return nil, err
	}
	s.identity, err = identity.New(ctx, storage.Sub(c.barrier, "identity/"), identity.Options{
		Now: c.opts.Now, Rand: c.opts.Rand, Logger: c.log,
		MountInfo: func(accessor string) (string, string, bool) {
			s.mounts.mu.Lock()
			defer s.mounts.mu.Unlock()
			for _, e := range s.mounts.entries[TableAuth] {
				if e.Accessor == accessor {
					return e.Type, e.RoutePath(), true
				}
			}
			return "", "", false
		},
	})
	if err != nil {
		return nil, err
	}
	s.tokens, err = token.New(ctx, storage.Sub(c.barrier, "sys/token/"), token.Options{
		Now:        c.opts.Now,
		Rand:       c.opts.Rand,
		DefaultTTL: c.opts.DefaultLeaseTTL,
		MaxTTL:     c.opts.MaxLeaseTTL,
		OnRevoke: func(ctx context.Context, e *token.Entry) error {
			return c.tokenRevoked(ctx, s, e)
		},
		OnRenew: func(ctx context.Context, e *token.Entry) error {
			return c.checkLogin(ctx, s, e)
		},
		IdentityPolicies: s.identity.Policies,
		PolicyExists: func(_ context.Context, name string) (bool, error) {
			return c.policyExists(s, name), nil
		},
	})
	if err != nil {
		return nil, err
	}
	if s.router, err = c.buildRouter(ctx, s); err != nil {
		return nil, err
	}
	s.clusterID = c.loadClusterID(ctx)
	return s, nil
}

// tokenRevoked lets every engine that keeps per-token state drop it.
func (c *Core) tokenRevoked(ctx context.Context, s *unsealed, e *token.Entry) error {
	if s.router == nil {
		return nil
	}
	for _, p := range s.router.Paths() {
		m, ok := s.router.Get(p)
		if !ok {
			continue
		}
		if tc, ok := m.backend.(engine.TokenCleaner); ok {
			if err := tc.TokenRevoked(ctx, e.ID); err != nil {
				return fmt.Errorf("revoke token state in %s: %w", p, err)
			}
		}
	}
	return nil
}

// startBackground runs the periodic jobs of an unsealed server.
func (c *Core) startBackground(s *unsealed) {
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		c.keepAuditHeads(s)
	}()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(c.opts.TidyInterval)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				// Cancelled by seal, so sealing never waits on a tidy.
				ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
				if n, err := s.tokens.Tidy(ctx); err != nil {
					c.log.Warn("core: revoke expired tokens", "error", err)
				} else if n > 0 {
					c.log.Debug("core: revoked expired tokens", "count", n)
				}
				cancel()
			}
		}
	}()
}

// keepAuditHeads saves the audit chain heads every second while unsealed,
// and once more when the server seals.
func (c *Core) keepAuditHeads(s *unsealed) {
	last := map[string]audit.ChainHead{}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := c.saveAuditHeads(ctx, s, last); err != nil {
				c.log.Warn("core: save audit chain heads", "error", err)
			}
			cancel()
			return
		case <-t.C:
			if err := c.saveAuditHeads(s.ctx, s, last); err != nil {
				c.log.Warn("core: save audit chain heads", "error", err)
			}
		}
	}
}

// teardown stops background work and closes engines that hold resources.
func (c *Core) teardown(s *unsealed) {
	s.cancel()
	s.done.Wait() // the last save of the audit chain heads happens here
	if s.audit != nil {
		if err := s.audit.Close(); err != nil {
			c.log.Warn("core: close audit devices", "error", err)
		}
	}
	if s.router == nil {
		return
	}
	for _, p := range s.router.Paths() {
		if m, ok := s.router.Get(p); ok {
			if cl, ok := m.backend.(interface{ Close() error }); ok {
				if err := cl.Close(); err != nil {
					c.log.Warn("core: close mount", "path", p, "error", err)
				}
			}
		}
	}
}
