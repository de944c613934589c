package userpass

import (
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

func TestTrackerBounded(t *testing.T) {
	c := DefaultConfig()
	c.LockoutThreshold = 2
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(2)

	tr.fail("a", now, c)
	tr.fail("b", now.Add(time.Second), c)
	// Full: "c" evicts the stalest unlocked entry, "a".
	tr.fail("c", now.Add(2*time.Second), c)
	if _, ok := tr.entries["a"]; ok || len(tr.entries) != 2 {
		t.Fatalf("entries after eviction: %v", tr.entries)
	}
	// Lock both remaining entries; a new name then goes uncounted, and no
	// lock is evicted for it.
	if _, locked := tr.fail("b", now.Add(3*time.Second), c); !locked {
		t.Fatal("b not locked by its second failure")
	}
	if _, locked := tr.fail("c", now.Add(3*time.Second), c); !locked {
		t.Fatal("c not locked by its second failure")
	}
	tr.fail("d", now.Add(4*time.Second), c)
	if _, ok := tr.entries["d"]; ok {
		t.Fatal("a new name evicted a live lock")
	}
	if _, locked := tr.locked("b", now.Add(4*time.Second), c); !locked {
		t.Fatal("b lost its lock")
	}
	// Once the locks are over, they make room.
	later := now.Add(3*time.Second + c.LockoutDuration)
	tr.fail("d", later, c)
	if _, ok := tr.entries["d"]; !ok || len(tr.entries) != 1 {
		t.Fatalf("entries after the locks ended: %v", tr.entries)
	}
}
