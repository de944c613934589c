package userpass

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

// fail makes n failed logins for name, each refused as a bad login.
func (h *harness) fail(name string, n int) {
	h.t.Helper()
	for range n {
		resp, err := h.login(name, "wrong")
		wantBadLogin(h.t, resp, err)
	}
}

func TestLockoutDefaults(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)
	h.fail("alice", 5)
	resp, err := h.login("alice", "pw")
	wantLocked(t, resp, err)
	h.clock.Advance(15*time.Minute - time.Second)
	resp, err = h.login("alice", "pw")
	wantLocked(t, resp, err)
	h.clock.Advance(time.Second)
	h.mustLogin("alice", "pw")
}

func TestLockoutConfigured(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 3, "lockout_duration": "1m", "lockout_counter_reset": "10s"})
	h.create("alice", "pw", nil)

	// Failures further apart than the counter reset never add up.
	for range 4 {
		h.fail("alice", 2)
		h.clock.Advance(10 * time.Second)
	}
	h.mustLogin("alice", "pw")

	// A successful login resets the count.
	h.fail("alice", 2)
	h.mustLogin("alice", "pw")
	h.fail("alice", 2)
	h.mustLogin("alice", "pw")

	// The third failure in a row locks; locked attempts neither check the
	// password nor extend the lock.
	h.fail("alice", 3)
	for range 3 {
		resp, err := h.login("alice", "wrong")
		wantLocked(t, resp, err)
		h.clock.Advance(15 * time.Second)
	}
	resp, err := h.login("alice", "pw")
	wantLocked(t, resp, err)
	h.clock.Advance(15 * time.Second)
	h.mustLogin("alice", "pw")
	// After the lock, the count starts again from zero.
	h.fail("alice", 2)
	h.mustLogin("alice", "pw")
}

func TestLockoutUnknownUser(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 2})
	h.fail("nobody", 2)
	resp, err := h.login("nobody", "pw")
	wantLocked(t, resp, err)
	// Names are counted lower-cased.
	resp, err = h.login("NoBody", "pw")
	wantLocked(t, resp, err)
	// Another user is not affected.
	h.create("alice", "pw", nil)
	h.mustLogin("alice", "pw")
}

func TestLockoutSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 2, "lockout_duration": "5m"})
	h.create("alice", "pw", nil)
	h.fail("alice", 2)
	h.restart()
	resp, err := h.login("alice", "pw")
	wantLocked(t, resp, err)
	h.clock.Advance(5 * time.Minute)
	h.mustLogin("alice", "pw")
}

func TestSettingPasswordUnlocks(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 2})
	h.create("alice", "pw", nil)
	h.create("bob", "pw", nil)
	h.fail("alice", 2)
	h.fail("bob", 2)
	h.mustDo(engine.OpUpdate, "users/alice/password", map[string]any{"password": "new"})
	h.mustDo(engine.OpUpdate, "users/bob", map[string]any{"password": "new"})
	h.restart() // the stored locks are gone too
	h.mustLogin("alice", "new")
	h.mustLogin("bob", "new")
	// A write that does not set the password leaves a lock alone.
	h.fail("alice", 2)
	h.mustDo(engine.OpUpdate, "users/alice", map[string]any{"token_ttl": 60})
	resp, err := h.login("alice", "new")
	wantLocked(t, resp, err)
}

func TestDisableLockout(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 1})
	h.create("alice", "pw", nil)
	h.fail("alice", 1)
	resp, err := h.login("alice", "pw")
	wantLocked(t, resp, err)

	// Disabling lets the locked user in and stops counting.
	h.mustDo(engine.OpUpdate, "config", map[string]any{"disable_lockout": true})
	h.mustLogin("alice", "pw")
	h.fail("alice", 10)
	h.mustLogin("alice", "pw")
	h.mustDo(engine.OpUpdate, "config", map[string]any{"disable_lockout": false})
	h.mustLogin("alice", "pw")
}

func TestOversizePasswordNotCounted(t *testing.T) {
	h := newHarness(t)
	h.create("alice", "pw", nil)
	long := strings.Repeat("p", MaxPasswordLen+1)
	// Twice the threshold: none of them may count towards a lock.
	for range 10 {
		resp, err := h.login("alice", long)
		if resp != nil {
			t.Fatalf("oversize password answered %+v", resp)
		}
		wantErr(t, err, engine.ErrInvalidRequest, fmt.Sprintf("invalid password: must be at most %d bytes", MaxPasswordLen))
		if strings.Contains(err.Error(), "ppp") {
			t.Fatalf("error echoes the password: %v", err)
		}
	}
	h.mustLogin("alice", "pw")
	// A password of exactly the limit is checked, and counted, as usual.
	h.fail("alice", 4)
	resp, err := h.login("alice", long[:MaxPasswordLen])
	wantBadLogin(t, resp, err)
	resp, err = h.login("alice", "pw")
	wantLocked(t, resp, err)
}

func TestLockoutCountsUsersWhenTableFull(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_threshold": 3})
	h.create("alice", "pw", nil)
	h.create("bob", "pw", nil)
	h.backend().lockout = newTracker(2)

	// Made-up names flood the table of unknown names, locks and all;
	// alice's count survives it.
	h.fail("alice", 2)
	for i := range 6 {
		h.fail(fmt.Sprintf("ghost%d", i), 3)
	}
	h.fail("alice", 1)
	resp, err := h.login("alice", "pw")
	wantLocked(t, resp, err)

	// With the unknown table full of live locks, bob is still counted
	// from his first failure.
	for i := range 2 {
		h.fail(fmt.Sprintf("spray%d", i), 3)
	}
	h.fail("bob", 3)
	resp, err = h.login("bob", "pw")
	wantLocked(t, resp, err)
	// ...and a new made-up name is counted too, at the stalest one's cost.
	h.fail("spray2", 3)
	resp, err = h.login("spray2", "pw")
	wantLocked(t, resp, err)
}

func TestTrackerBounded(t *testing.T) {
	c := DefaultConfig()
	c.LockoutThreshold = 2
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(2)

	tr.fail("a", false, now, c)
	tr.fail("b", false, now.Add(time.Second), c)
	// Full: "c" evicts the entry whose latest failure is oldest, "a".
	tr.fail("c", false, now.Add(2*time.Second), c)
	if _, ok := tr.unknown["a"]; ok || len(tr.unknown) != 2 {
		t.Fatalf("unknown names after eviction: %v", tr.unknown)
	}
	// A failure makes an entry the freshest: "c" then "b" locks, and "d"
	// evicts "c", lock and all.
	if _, locked := tr.fail("c", false, now.Add(3*time.Second), c); !locked {
		t.Fatal("c not locked by its second failure")
	}
	if _, locked := tr.fail("b", false, now.Add(4*time.Second), c); !locked {
		t.Fatal("b not locked by its second failure")
	}
	tr.fail("d", false, now.Add(5*time.Second), c)
	if _, ok := tr.unknown["c"]; ok || len(tr.unknown) != 2 {
		t.Fatalf("unknown names after evicting a lock: %v", tr.unknown)
	}
	if _, locked := tr.locked("b", now.Add(5*time.Second), c); !locked {
		t.Fatal("b lost its lock")
	}

	// Existing users are never evicted, however many there are.
	for i := range 10 {
		tr.fail(fmt.Sprintf("user%d", i), true, now.Add(6*time.Second), c)
	}
	for i := range 10 {
		name := fmt.Sprintf("user%d", i)
		if _, locked := tr.fail(name, true, now.Add(7*time.Second), c); !locked {
			t.Fatalf("%s not locked by its second failure", name)
		}
	}
	if len(tr.unknown) != 2 || len(tr.users) != 10 {
		t.Fatalf("tables hold %d unknown names and %d users", len(tr.unknown), len(tr.users))
	}
	// A name counted before its user existed keeps its count.
	tr.fail("e", false, now.Add(8*time.Second), c)
	if _, locked := tr.fail("e", true, now.Add(9*time.Second), c); !locked {
		t.Fatal("e lost its count on becoming a user")
	}
	if _, ok := tr.unknown["e"]; ok {
		t.Fatal("e is in both tables")
	}
	tr.reset("e")
	if _, locked := tr.locked("e", now.Add(9*time.Second), c); locked {
		t.Fatal("reset left e locked")
	}
}

func TestTrackerSweepsUsers(t *testing.T) {
	c := DefaultConfig()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(2)
	for i := range minUserSweep - 1 {
		tr.fail(fmt.Sprintf("user%d", i), true, now, c)
	}
	tr.fail("fresh", true, now.Add(c.LockoutCounterReset-time.Second), c)
	if len(tr.users) != minUserSweep {
		t.Fatalf("users = %d before the sweep", len(tr.users))
	}
	// The table is full: the next new entry sweeps out the stale ones.
	tr.fail("late", true, now.Add(c.LockoutCounterReset), c)
	if len(tr.users) != 2 || tr.users["fresh"] == nil || tr.users["late"] == nil {
		t.Fatalf("after the sweep users = %d entries", len(tr.users))
	}
	if tr.sweepAt != minUserSweep {
		t.Fatalf("next sweep at %d", tr.sweepAt)
	}
}
