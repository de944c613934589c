package userpass

import (
	"container/list"
	"sync"
	"time"
)

// defaultMaxTracked bounds the usernames with no user that the lockout
// tracker remembers.
const defaultMaxTracked = 1 << 16

// minUserSweep is the smallest size of the existing users' table at which
// its stale entries are swept out.
const minUserSweep = 1024

// tracker counts failed logins per username and locks usernames that
// reach the threshold. It is safe for concurrent use.
//
// Names of existing users and names with no user are kept apart, so that
// a flood of made-up names can never stop existing users being counted:
// the existing users' table forgets an entry only once it is stale (or
// reset), while the table of other names holds at most max entries and,
// when full, forgets the one whose latest failure is oldest, locked or
// not.
type tracker struct {
	mu      sync.Mutex
	max     int
	users   map[string]*failures
	unknown map[string]*list.Element // each holds an *unknownName
	order   *list.List               // unknown names, least recently failed first
	// sweepAt is the size of users at which its stale entries are next
	// swept, so that entries of users nobody tries again do not pile up.
	sweepAt int
}

// failures is one username's recent failed logins.
type failures struct {
	count       int
	last        time.Time // the latest failure
	lockedUntil time.Time // zero when not locked
}

// unknownName is an entry of the table of names with no user.
type unknownName struct {
	name string
	failures
}

// newTracker returns a tracker that remembers at most max names with no
// user (at least one).
func newTracker(max int) *tracker {
	return &tracker{
		max:     max,
		users:   make(map[string]*failures),
		unknown: make(map[string]*list.Element),
		order:   list.New(),
		sweepAt: minUserSweep,
	}
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
	f := t.users[name]
	if f == nil {
		if el := t.unknown[name]; el != nil {
			f = &el.Value.(*unknownName).failures
		}
	}
	if f == nil {
		return time.Time{}, false
	}
	if f.stale(now, c) {
		t.forget(name)
		return time.Time{}, false
	}
	return f.lockedUntil, !f.lockedUntil.IsZero()
}

// fail records a failed login for name at now; exists says whether a
// user of that name exists. It reports whether this failure locked name,
// and until when. A failure for an existing user is always counted.
func (t *tracker) fail(name string, exists bool, now time.Time, c Config) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var f *failures
	if exists {
		f = t.user(name, now, c)
	} else {
		f = t.unknownName(name)
	}
	if f.stale(now, c) {
		*f = failures{}
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
	t.forget(name)
	t.mu.Unlock()
}

// forget drops name from both tables. t.mu must be held.
func (t *tracker) forget(name string) {
	delete(t.users, name)
	if el := t.unknown[name]; el != nil {
		t.order.Remove(el)
		delete(t.unknown, name)
	}
}

// user returns the existing user name's entry, adding one if needed. An
// entry the name got while it had no user is carried over. t.mu must be
// held.
func (t *tracker) user(name string, now time.Time, c Config) *failures {
	if f := t.users[name]; f != nil {
		return f
	}
	f := &failures{}
	if el := t.unknown[name]; el != nil {
		*f = el.Value.(*unknownName).failures
		t.order.Remove(el)
		delete(t.unknown, name)
	}
	if len(t.users) >= t.sweepAt {
		t.sweepUsers(now, c)
	}
	t.users[name] = f
	return f
}

// sweepUsers drops the existing users' entries that are stale at now,
// and sets when to sweep next: once the table has doubled. t.mu must be
// held.
func (t *tracker) sweepUsers(now time.Time, c Config) {
	for name, f := range t.users {
		if f.stale(now, c) {
			delete(t.users, name)
		}
	}
	t.sweepAt = max(minUserSweep, 2*len(t.users))
}

// unknownName returns the entry of name, which has no user, adding one
// if needed; when the table is full, the entry whose latest failure is
// oldest makes room. t.mu must be held.
func (t *tracker) unknownName(name string) *failures {
	if el := t.unknown[name]; el != nil {
		t.order.MoveToBack(el)
		return &el.Value.(*unknownName).failures
	}
	for len(t.unknown) >= max(1, t.max) {
		oldest := t.order.Front()
		t.order.Remove(oldest)
		delete(t.unknown, oldest.Value.(*unknownName).name)
	}
	e := &unknownName{name: name}
	t.unknown[name] = t.order.PushBack(e)
	return &e.failures
}
