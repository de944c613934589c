package jwt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errFetchThrottled is the answer of a cache that has nothing usable and
// whose last fetch failed less than jwksMinRefresh ago.
var errFetchThrottled = errors.New("the last attempt failed moments ago")

// fetchCache holds one document fetched from the identity provider (a
// discovery document, a key set) and fetches it again when it is older
// than jwksMaxAge or a caller asks for a newer one.
//
// The HTTP fetch runs outside the lock, so a slow provider never holds up
// callers that can make do with what is cached: at most one fetch runs at
// a time, fetches start at most once per jwksMinRefresh, and while one
// runs, callers with a usable value get it at once. Only callers that
// have no usable value, or asked for a newer one, wait for the fetch
// under way (bounded by fetchTimeout and their own context).
type fetchCache[T any] struct {
	now func() time.Time
	// fetch gets the document. It is called without the lock held, with a
	// context that the caller who started the fetch cannot cancel (others
	// may be waiting for it) and that ends after fetchTimeout.
	fetch func(ctx context.Context) (*T, error)

	mu      sync.Mutex
	val     *T
	fetched time.Time     // last successful fetch
	tried   time.Time     // start of the last attempt
	err     error         // outcome of the last attempt
	running chan struct{} // closed when the fetch under way ends; nil when none is
}

// get returns the cached value when it is younger than jwksMaxAge and
// refresh is false. Otherwise it fetches the document (or waits for the
// fetch under way) unless a fetch started less than jwksMinRefresh ago.
// When no newer value can be had, a value younger than twice jwksMaxAge
// still serves: a provider that is down or slow for a while does not stop
// logins. With nothing usable the error is the last fetch's. A caller
// that asked for a refresh and gets the same pointer back knows no newer
// value was to be had.
func (c *fetchCache[T]) get(ctx context.Context, refresh bool) (*T, error) {
	c.mu.Lock()
	now := c.now()
	if c.val != nil && now.Sub(c.fetched) < jwksMaxAge && !refresh {
		v := c.val
		c.mu.Unlock()
		return v, nil
	}
	if running := c.running; running != nil {
		if v := c.usable(now); v != nil && !refresh {
			c.mu.Unlock()
			return v, nil
		}
		c.mu.Unlock()
		select {
		case <-running:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.outcome(c.now())
	}
	if !c.tried.IsZero() && now.Sub(c.tried) < jwksMinRefresh {
		defer c.mu.Unlock()
		if v := c.usable(now); v != nil {
			return v, nil
		}
		if c.err != nil {
			return nil, fmt.Errorf("%w: %w", errFetchThrottled, c.err)
		}
		return nil, errFetchThrottled
	}
	running := make(chan struct{})
	c.running, c.tried = running, now
	c.mu.Unlock()
	return c.run(ctx, running, now)
}

// run fetches the document and records the outcome, even if fetch
// panics, so that waiters are never left hanging.
func (c *fetchCache[T]) run(ctx context.Context, running chan struct{}, started time.Time) (v *T, err error) {
	err = errors.New("the fetch did not finish")
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.running, c.err = nil, err
		close(running)
		if err == nil {
			c.val, c.fetched = v, started
		}
		v, err = c.outcome(c.now())
	}()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	return c.fetch(fctx)
}

// outcome is the answer after a fetch: the value, or the fetch's error
// when nothing usable is cached. c.mu is held.
func (c *fetchCache[T]) outcome(now time.Time) (*T, error) {
	if c.err == nil && c.val != nil {
		return c.val, nil
	}
	if v := c.usable(now); v != nil {
		return v, nil
	}
	if c.err == nil {
		return nil, errors.New("the fetch returned nothing")
	}
	return nil, c.err
}

// usable returns the cached value if it is young enough to serve when no
// newer one can be had. c.mu is held.
func (c *fetchCache[T]) usable(now time.Time) *T {
	if c.val != nil && now.Sub(c.fetched) < 2*jwksMaxAge {
		return c.val
	}
	return nil
}
