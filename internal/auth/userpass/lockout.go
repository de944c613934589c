package userpass

import (
	"sync"
	"time"
)

// defaultMaxTracked bounds the usernames the lockout tracker remembers.
const defaultMaxTracked = 1 << 16

// tracker counts failed logins per username and locks usernames that
// reach the threshold. It is safe for concurrent use.
type tracker struct {
	mu      sync.Mutex
	max     int
	entries map[string]*failures
}

// failures is one username's recent failed logins.
type failures struct {
	count       int
	last        time.Time // the latest failure
	lockedUntil time.Time // zero when not locked
}

func newTracker(max int) *tracker {
	return &tracker{max: max, entries: make(map[string]*failures)}
}

// stale reports whether f no longer matters at now: its lock is over, or
// it is not locked and its latest failure is older than the counter reset.
func (f *failures) stale(now time.Time, c Config) bool {
	if !f.lockedUntil.IsZero() {
		return !now.Before(f.lockedUntil)
	}
	return now.Sub(f.last) >= c.LockoutCounterReset
}

// locked reports whether name is locked at now, and until when.
func (t *tracker) locked(name string, now time.Time, c Config) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entries[name]
	if f == nil {
		return time.Time{}, false
	}
	if f.stale(now, c) {
		delete(t.entries, name)
		return time.Time{}, false
	}
	return f.lockedUntil, !f.lockedUntil.IsZero()
}

// fail records a failed login for name at now. It reports whether this
// failure locked name, and until when.
func (t *tracker) fail(name string, now time.Time, c Config) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entries[name]
	if f != nil && f.stale(now, c) {
		delete(t.entries, name)
		f = nil
	}
	if f == nil {
		if !t.makeRoom(now, c) {
			return time.Time{}, false
		}
		f = &failures{}
		t.entries[name] = f
	}
	if !f.lockedUntil.IsZero() {
		// Locked logins are refused before they are checked; a caller
		// that checked anyway does not extend the lock.
		return time.Time{}, false
	}
	f.count++
	f.last = now
	if f.count < c.LockoutThreshold {
		return time.Time{}, false
	}
	f.lockedUntil = now.Add(c.LockoutDuration)
	return f.lockedUntil, true
}

// reset forgets name's failures and lock.
func (t *tracker) reset(name string) {
	t.mu.Lock()
	delete(t.entries, name)
	t.mu.Unlock()
}

// makeRoom ensures there is space for one more entry: it drops stale
// entries, then the unlocked entry whose latest failure is oldest. It
// reports false when every entry is a live lock. t.mu must be held.
func (t *tracker) makeRoom(now time.Time, c Config) bool {
	if len(t.entries) < t.max {
		return true
	}
	var oldest string
	var oldestAt time.Time
	for name, f := range t.entries {
		if f.stale(now, c) {
			delete(t.entries, name)
			continue
		}
		if f.lockedUntil.IsZero() && (oldest == "" || f.last.Before(oldestAt)) {
			oldest, oldestAt = name, f.last
		}
	}
	if len(t.entries) < t.max {
		return true
	}
	if oldest == "" {
		return false
	}
	delete(t.entries, oldest)
	return true
}
