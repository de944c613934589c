package core_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/seal"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// testSeal is an auto-unseal seal whose key is held in the test process,
// standing in for a remote transit key; down makes it unreachable.
type testSeal struct {
	inner seal.Seal
	down  atomic.Bool
	calls atomic.Int32
}

func newTestSeal(t *testing.T) *testSeal {
	key, err := seal.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testSeal{inner: seal.NewShamir(key)}
}

func (s *testSeal) Type() string { return seal.TypeTransit }

func (s *testSeal) Wrap(ctx context.Context, k []byte) ([]byte, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return nil, fmt.Errorf("%w: connection refused", seal.ErrUnavailable)
	}
	return s.inner.Wrap(ctx, k)
}

func (s *testSeal) Unwrap(ctx context.Context, b []byte) ([]byte, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return nil, fmt.Errorf("%w: connection refused", seal.ErrUnavailable)
	}
	return s.inner.Unwrap(ctx, b)
}

// logBuffer collects log lines for assertions.
type logBuffer struct{ lines atomic.Pointer[[]string] }

func (l *logBuffer) Write(p []byte) (int, error) {
	for {
		old := l.lines.Load()
		var next []string
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, string(p))
		if l.lines.CompareAndSwap(old, &next) {
			return len(p), nil
		}
	}
}

func (l *logBuffer) String() string {
	if p := l.lines.Load(); p != nil {
		return strings.Join(*p, "")
	}
	return ""
}

func newSealedCore(t *testing.T, physical storage.Backend, cur, old seal.Seal, log *logBuffer) *core.Core {
	t.Helper()
	opts := core.Options{
		Physical: physical,
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
		Seal:     cur,
		OldSeal:  old,
	}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	c, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	return c
}

func runAutoUnseal(t *testing.T, c *core.Core) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.RunAutoUnseal(ctx)
	if c.Sealed() {
		t.Fatal("RunAutoUnseal returned with the core sealed")
	}
}

func TestAutoSealInitAndRestart(t *testing.T) {
	phys, ts := inmem.New(), newTestSeal(t)
	c := newSealedCore(t, phys, ts, nil, nil)
	for _, bad := range []api.InitRequest{
		{SecretShares: 5, SecretThreshold: 3, RecoveryShares: 5, RecoveryThreshold: 3},
		{RecoveryShares: 0, RecoveryThreshold: 0},
		{RecoveryShares: 3, RecoveryThreshold: 1},
	} {
		if _, err := c.Init(ctx, bad); !errors.Is(err, engine.ErrInvalidRequest) {
			t.Fatalf("Init(%+v) = %v, want a 400", bad, err)
		}
	}
	// An unreachable seal at init leaves storage untouched: init can be retried.
	ts.down.Store(true)
	if _, err := c.Init(ctx, api.InitRequest{RecoveryShares: 3, RecoveryThreshold: 2}); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("Init with the seal down = %v, want ErrUnavailable", err)
	}
	ts.down.Store(false)
	init, err := c.Init(ctx, api.InitRequest{RecoveryShares: 3, RecoveryThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(init.Keys) != 0 || len(init.RecoveryKeysBase64) != 3 || c.Sealed() {
		t.Fatalf("init = %+v, sealed %v", init, c.Sealed())
	}
	st, err := c.SealStatus(ctx)
	if err != nil || st.Type != "transit" || !st.RecoverySeal || st.RecoverySealType != "shamir" || st.N != 3 || st.T != 2 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	mustCall(t, c, init.RootToken, engine.OpUpdate, "cubbyhole/x", map[string]any{"v": "1"})
	// Recovery shares do not unseal.
	c.Seal()
	if _, err := c.Unseal(ctx, init.RecoveryKeysBase64[0]); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("Unseal with a recovery share = %v", err)
	}

	// A restarted server unseals itself, waiting while the seal is down.
	log := &logBuffer{}
	ts.down.Store(true)
	c2 := newSealedCore(t, phys, ts, nil, log)
	go func() {
		time.Sleep(700 * time.Millisecond)
		ts.down.Store(false)
	}()
	runAutoUnseal(t, c2)
	if !strings.Contains(log.String(), "auto-unseal: waiting for the seal") || !strings.Contains(log.String(), "connection refused") {
		t.Fatalf("log does not say why it waited:\n%s", log)
	}
	if _, err := call(t, c2, init.RootToken, engine.OpRead, "cubbyhole/x", nil); err != nil {
		t.Fatal(err)
	}
}

func TestAutoSealCheckConfig(t *testing.T) {
	phys, ts := inmem.New(), newTestSeal(t)
	c := newSealedCore(t, phys, ts, nil, nil)
	if err := c.CheckSeal(ctx); err != nil {
		t.Fatalf("uninitialized: %v", err)
	}
	if _, err := c.Init(ctx, api.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1}); err != nil {
		t.Fatal(err)
	}
	c.Seal()
	if err := newSealedCore(t, phys, nil, nil, nil).CheckSeal(ctx); err == nil || !strings.Contains(err.Error(), `no seal "transit" block`) {
		t.Fatalf("CheckSeal without the seal = %v", err)
	}
	if err := newSealedCore(t, phys, nil, ts, nil).CheckSeal(ctx); err != nil {
		t.Fatalf("CheckSeal with the seal disabled = %v", err)
	}
}

// TestSealMigrationRoundTrip moves a Shamir server to the auto seal and
// back, and checks that a migration cut short between its two writes is
// finished at the next unseal.
func TestSealMigrationRoundTrip(t *testing.T) {
	phys, ts := inmem.New(), newTestSeal(t)
	c := newSealedCore(t, phys, nil, nil, nil)
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	shares := init.KeysBase64

	c = newSealedCore(t, phys, ts, nil, nil)
	st, _ := c.SealStatus(ctx)
	if !st.Migration || st.T != 2 || st.Type != "transit" {
		t.Fatalf("pending status = %+v", st)
	}
	if _, err := c.Unseal(ctx, shares[0]); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("Unseal without migrate = %v", err)
	}
	// The auto-unseal loop leaves a pending migration to the operator.
	c.RunAutoUnseal(ctx)
	if !c.Sealed() {
		t.Fatal("auto-unseal went ahead of a pending migration")
	}
	for _, k := range shares[1:] {
		if st, err = c.MigrateUnseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if st.Sealed || st.Migration || st.N != 3 || st.T != 2 || !st.RecoverySeal {
		t.Fatalf("after migration = %+v", st)
	}
	if _, err := c.MigrateUnseal(ctx, shares[0]); err != nil {
		t.Fatalf("MigrateUnseal while unsealed should just report status: %v", err)
	}
	c.Seal()

	// Back to Shamir, with the old unseal shares (now recovery shares).
	c = newSealedCore(t, phys, nil, ts, nil)
	if _, err := c.MigrateUnseal(ctx, shares[0]); err != nil {
		t.Fatal(err)
	}
	if st, err = c.MigrateUnseal(ctx, shares[2]); err != nil || st.Sealed || st.Type != "shamir" || st.RecoverySeal {
		t.Fatalf("migrating back = %+v, %v", st, err)
	}
	c.Seal()

	// Cut a migration short: root key rewrapped by the auto seal, config
	// still Shamir. The auto seal opens it and the config is repaired.
	c = newSealedCore(t, phys, ts, nil, nil)
	for _, k := range shares[:2] {
		if _, err := c.MigrateUnseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	c.Seal()
	if err := seal.StoreConfig(ctx, phys, &seal.Config{Type: seal.TypeShamir, SecretShares: 3, SecretThreshold: 2}); err != nil {
		t.Fatal(err)
	}
	c = newSealedCore(t, phys, ts, nil, nil)
	if st, _ := c.SealStatus(ctx); st.Migration {
		t.Fatalf("a rewrapped root key still shows a pending migration: %+v", st)
	}
	runAutoUnseal(t, c)
	cfg, err := seal.LoadConfig(ctx, phys)
	if err != nil || cfg.Type != seal.TypeTransit || cfg.RecoveryShares != 3 || cfg.RecoveryThreshold != 2 {
		t.Fatalf("config after the interrupted migration = %+v, %v", cfg, err)
	}
}
