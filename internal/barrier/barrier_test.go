package barrier

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/storage/storagetest"
)

func newRootKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// newUnsealed returns an initialized, unsealed barrier over a fresh inmem
// backend, the backend, and the root key.
func newUnsealed(t testing.TB, opts *Options) (*Barrier, *inmem.Backend, []byte) {
	t.Helper()
	phys := inmem.New()
	b := New(phys, opts)
	root := newRootKey(t)
	ctx := context.Background()
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	return b, phys, root
}

// keyringApart is a physical backend that keeps the keyring in a separate
// store, so the conformance suite, which expects an empty backend, sees no
// "core/" folder in List.
type keyringApart struct {
	storage.Backend                 // everything else
	keyring         storage.Backend // only KeyringPath
}

func (k keyringApart) route(key string) storage.Backend {
	if key == KeyringPath {
		return k.keyring
	}
	return k.Backend
}

func (k keyringApart) Get(ctx context.Context, key string) ([]byte, error) {
	return k.route(key).Get(ctx, key)
}

func (k keyringApart) Put(ctx context.Context, key string, v []byte) error {
	return k.route(key).Put(ctx, key, v)
}

func (k keyringApart) Delete(ctx context.Context, key string) error {
	return k.route(key).Delete(ctx, key)
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		phys := keyringApart{Backend: inmem.New(), keyring: inmem.New()}
		b := New(phys, nil)
		root := newRootKey(t)
		if err := b.Initialize(t.Context(), root); err != nil {
			t.Fatal(err)
		}
		if err := b.Unseal(t.Context(), root); err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func assertSealed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrSealed) {
		t.Fatalf("error = %v, want ErrSealed", err)
	}
	if !strings.Contains(err.Error(), "Vault is sealed") {
		t.Fatalf("error %q does not contain %q", err, "Vault is sealed")
	}
}

func assertAllSealed(t *testing.T, b *Barrier) {
	t.Helper()
	ctx := t.Context()
	if !b.Sealed() {
		t.Fatal("Sealed() = false")
	}
	_, err := b.Get(ctx, "k")
	assertSealed(t, err)
	assertSealed(t, b.Put(ctx, "k", []byte("v")))
	assertSealed(t, b.Delete(ctx, "k"))
	_, err = b.List(ctx, "")
	assertSealed(t, err)
	_, err = b.Rotate(ctx)
	assertSealed(t, err)
	assertSealed(t, b.Reload(ctx))
	if s := b.KeyStatus(); s != (Status{}) {
		t.Fatalf("KeyStatus while sealed = %+v, want zero", s)
	}
}

func TestSealedLifecycle(t *testing.T) {
	ctx := t.Context()
	phys := inmem.New()
	b := New(phys, nil)
	assertAllSealed(t, b) // fresh, uninitialized

	if ok, err := b.Initialized(ctx); err != nil || ok {
		t.Fatalf("Initialized before Initialize = %v, %v", ok, err)
	}
	root := newRootKey(t)
	if err := b.Unseal(ctx, root); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Unseal before Initialize = %v, want ErrNotInitialized", err)
	}
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Initialized(ctx); err != nil || !ok {
		t.Fatalf("Initialized after Initialize = %v, %v", ok, err)
	}
	assertAllSealed(t, b) // Initialize does not unseal

	if err := b.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if b.Sealed() {
		t.Fatal("Sealed() = true after Unseal")
	}
	if err := b.Put(ctx, "secret/a", []byte("alpha")); err != nil {
		t.Fatal(err)
	}
	// Unsealing again is a no-op, even with another key.
	if err := b.Unseal(ctx, newRootKey(t)); err != nil {
		t.Fatalf("second Unseal = %v", err)
	}

	b.Seal()
	assertAllSealed(t, b)
	b.Seal() // idempotent

	// A new barrier over the same storage opens the same data.
	b2 := New(phys, nil)
	if err := b2.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Get(ctx, "secret/a"); err != nil || string(got) != "alpha" {
		t.Fatalf("Get after re-unseal = %q, %v", got, err)
	}
}

func TestUnsealWrongKey(t *testing.T) {
	ctx := t.Context()
	b, _, root := newUnsealed(t, nil)
	b.Seal()
	wrong := bytes.Clone(root)
	wrong[0] ^= 1
	for name, k := range map[string][]byte{"flipped bit": wrong, "short": root[:16], "empty": nil} {
		err := b.Unseal(ctx, k)
		if !errors.Is(err, ErrBadKey) {
			t.Fatalf("Unseal with %s key = %v, want ErrBadKey", name, err)
		}
		if !b.Sealed() {
			t.Fatalf("barrier unsealed with %s key", name)
		}
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal with the right key after failures: %v", err)
	}
}

func TestInitializeErrors(t *testing.T) {
	ctx := t.Context()
	b, phys, root := newUnsealed(t, nil)
	before, _ := phys.Get(ctx, KeyringPath)
	if err := b.Initialize(ctx, newRootKey(t)); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second Initialize = %v, want ErrAlreadyInitialized", err)
	}
	after, _ := phys.Get(ctx, KeyringPath)
	if !bytes.Equal(before, after) {
		t.Fatal("failed Initialize rewrote the keyring")
	}
	if err := New(inmem.New(), nil).Initialize(ctx, root[:31]); err == nil {
		t.Fatal("Initialize with a 31-byte root key succeeded")
	}
}

func TestRotation(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	b, phys, root := newUnsealed(t, &Options{Clock: clock})

	s := b.KeyStatus()
	if s.Term != 1 || !s.InstallTime.Equal(now) || s.Encryptions != 0 {
		t.Fatalf("initial KeyStatus = %+v", s)
	}
	mustPut(t, b, "old", "written under term 1")
	mustPut(t, b, "old2", "also term 1")
	if got := b.KeyStatus().Encryptions; got != 2 {
		t.Fatalf("Encryptions = %d, want 2", got)
	}

	now = now.Add(time.Hour)
	term, err := b.Rotate(ctx)
	if err != nil || term != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", term, err)
	}
	s = b.KeyStatus()
	if s.Term != 2 || !s.InstallTime.Equal(now) || s.Encryptions != 0 {
		t.Fatalf("KeyStatus after rotate = %+v", s)
	}
	mustPut(t, b, "new", "written under term 2")

	assertTerm(t, phys, "old", 1)
	assertTerm(t, phys, "new", 2)
	assertGet(t, b, "old", "written under term 1")
	assertGet(t, b, "new", "written under term 2")

	// The rotation was persisted: a fresh unseal reads both terms.
	b.Seal()
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if s := b.KeyStatus(); s.Term != 2 || !s.InstallTime.Equal(now) {
		t.Fatalf("KeyStatus after re-unseal = %+v", s)
	}
	assertGet(t, b, "old", "written under term 1")
	assertGet(t, b, "new", "written under term 2")
	mustPut(t, b, "old", "rewritten")
	assertTerm(t, phys, "old", 2)
}

func TestReloadPicksUpRotation(t *testing.T) {
	ctx := t.Context()
	active, phys, root := newUnsealed(t, nil)
	standby := New(phys, nil)
	if err := standby.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if _, err := active.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	mustPut(t, active, "k", "under term 2")
	if _, err := standby.Get(ctx, "k"); err == nil {
		t.Fatal("standby read a term it does not hold yet")
	}
	if err := standby.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	assertGet(t, standby, "k", "under term 2")
	if got := standby.KeyStatus().Term; got != 2 {
		t.Fatalf("standby term after Reload = %d, want 2", got)
	}
}

// failKeyring fails writes of the keyring.
type failKeyring struct{ storage.Backend }

func (f failKeyring) Put(ctx context.Context, key string, v []byte) error {
	if key == KeyringPath {
		return errors.New("disk full")
	}
	return f.Backend.Put(ctx, key, v)
}

func TestRotateFailureKeepsKeyring(t *testing.T) {
	ctx := t.Context()
	good, phys, root := newUnsealed(t, nil)
	good.Seal()
	b := New(failKeyring{phys}, nil)
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rotate(ctx); err == nil {
		t.Fatal("Rotate succeeded though the keyring could not be stored")
	}
	if got := b.KeyStatus().Term; got != 1 {
		t.Fatalf("term after failed Rotate = %d, want 1", got)
	}
	mustPut(t, b, "k", "v")
	assertTerm(t, phys, "k", 1)
}

func TestReservedKeys(t *testing.T) {
	ctx := t.Context()
	b, phys, _ := newUnsealed(t, nil)
	before, _ := phys.Get(ctx, KeyringPath)
	for _, key := range []string{KeyringPath, "core/seal/config", "core/seal/root-key"} {
		if _, err := b.Get(ctx, key); !errors.Is(err, ErrReservedKey) {
			t.Errorf("Get(%q) = %v, want ErrReservedKey", key, err)
		}
		if err := b.Put(ctx, key, []byte("x")); !errors.Is(err, ErrReservedKey) {
			t.Errorf("Put(%q) = %v, want ErrReservedKey", key, err)
		}
		if err := b.Delete(ctx, key); !errors.Is(err, ErrReservedKey) {
			t.Errorf("Delete(%q) = %v, want ErrReservedKey", key, err)
		}
	}
	after, err := phys.Get(ctx, KeyringPath)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatal("keyring changed through the barrier")
	}
	// Neighbours of reserved keys are ordinary.
	mustPut(t, b, "core/keyring2", "ok")
	mustPut(t, b, "core/sealed", "ok")
	if got, err := b.List(ctx, "core/"); err != nil || !slices.Equal(got, []string{"keyring", "keyring2", "sealed"}) {
		t.Fatalf("List(core/) = %q, %v", got, err)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestRandFailure(t *testing.T) {
	ctx := t.Context()
	if err := New(inmem.New(), &Options{Rand: failReader{}}).Initialize(ctx, newRootKey(t)); err == nil {
		t.Fatal("Initialize without randomness succeeded")
	}
	b, phys, root := newUnsealed(t, nil)
	b.Seal()
	b = New(phys, &Options{Rand: failReader{}})
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "k", []byte("v")); err == nil {
		t.Fatal("Put without randomness succeeded")
	}
	if _, err := phys.Get(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("failed Put stored something: %v", err)
	}
}

func TestConcurrentRotateAndUse(t *testing.T) {
	ctx := t.Context()
	b, _, _ := newUnsealed(t, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			key := "w/" + string(rune('a'+w))
			for i := range 200 {
				v := []byte{byte(w), byte(i)}
				if err := b.Put(ctx, key, v); err != nil {
					t.Error(err)
					return
				}
				got, err := b.Get(ctx, key)
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get = %x, %v; want %x", got, err, v)
					return
				}
			}
		})
	}
	for range 10 {
		if _, err := b.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got := b.KeyStatus().Term; got != 11 {
		t.Fatalf("term = %d, want 11", got)
	}
}

func mustPut(t *testing.T, b *Barrier, key, value string) {
	t.Helper()
	if err := b.Put(t.Context(), key, []byte(value)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func assertGet(t *testing.T, b *Barrier, key, want string) {
	t.Helper()
	got, err := b.Get(t.Context(), key)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func assertTerm(t *testing.T, phys storage.Backend, key string, want uint32) {
	t.Helper()
	raw, err := phys.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(raw); got != want {
		t.Fatalf("physical %q carries term %d, want %d", key, got, want)
	}
	if raw[termSize] != valueVersion {
		t.Fatalf("physical %q has version %d, want %d", key, raw[termSize], valueVersion)
	}
}

func TestEncryptDecryptTravel(t *testing.T) {
	ctx := t.Context()
	leader, phys, root := newUnsealed(t, nil)
	ct, err := leader.Encrypt("core/raft/challenge", []byte("answer"))
	if err != nil || bytes.Contains(ct, []byte("answer")) {
		t.Fatalf("Encrypt = %q, %v", ct, err)
	}
	// A joiner holding the keyring blob and the root key opens it.
	blob, err := phys.Get(ctx, KeyringPath)
	if err != nil {
		t.Fatal(err)
	}
	joinerPhys := inmem.New()
	if err := joinerPhys.Put(ctx, KeyringPath, blob); err != nil {
		t.Fatal(err)
	}
	joiner := New(joinerPhys, nil)
	if err := joiner.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	if pt, err := joiner.Decrypt("core/raft/challenge", ct); err != nil || string(pt) != "answer" {
		t.Fatalf("Decrypt = %q, %v", pt, err)
	}
	if _, err := joiner.Decrypt("core/raft/other", ct); err == nil {
		t.Fatal("a value decrypted under another key")
	}
	if _, err := New(inmem.New(), nil).Decrypt("core/raft/challenge", ct); !errors.Is(err, ErrSealed) {
		t.Fatalf("Decrypt while sealed = %v", err)
	}
	if _, err := leader.Encrypt(HAPrefix+"leader", nil); !errors.Is(err, ErrReservedKey) {
		t.Fatalf("Encrypt under core/ha/ = %v, want ErrReservedKey", err)
	}
}
