package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestShamirWrapUnwrap(t *testing.T) {
	ctx := t.Context()
	unsealKey, rootKey := randomKey(t), randomKey(t)
	s := NewShamir(unsealKey)
	if s.Type() != TypeShamir {
		t.Fatalf("Type() = %q", s.Type())
	}
	blob, err := s.Wrap(ctx, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, rootKey) {
		t.Fatal("wrapped blob contains the root key")
	}
	again, err := s.Wrap(ctx, rootKey)
	if err != nil || bytes.Equal(again, blob) {
		t.Fatalf("two wraps gave the same blob (nonce reuse) or failed: %v", err)
	}
	// A separately constructed seal with the same key opens it.
	got, err := NewShamir(bytes.Clone(unsealKey)).Unwrap(ctx, blob)
	if err != nil || !bytes.Equal(got, rootKey) {
		t.Fatalf("Unwrap = %x, %v; want the root key", got, err)
	}
}

func TestShamirUnwrapWrongKey(t *testing.T) {
	ctx := t.Context()
	unsealKey := randomKey(t)
	blob, err := NewShamir(unsealKey).Wrap(ctx, randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(unsealKey)
	flipped[31] ^= 0x80
	for name, k := range map[string][]byte{
		"other key":   randomKey(t),
		"flipped bit": flipped,
		"short key":   unsealKey[:31],
		"long key":    append(bytes.Clone(unsealKey), 0),
		"empty key":   nil,
	} {
		got, err := NewShamir(k).Unwrap(ctx, blob)
		if !errors.Is(err, ErrBadKey) || got != nil {
			t.Errorf("Unwrap with %s = %x, %v; want nil, ErrBadKey", name, got, err)
		}
	}
}

func TestShamirUnwrapTampered(t *testing.T) {
	ctx := t.Context()
	unsealKey := randomKey(t)
	s := NewShamir(unsealKey)
	blob, err := s.Wrap(ctx, randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 1
		if got, err := s.Unwrap(ctx, bad); err == nil || got != nil {
			t.Fatalf("Unwrap after flipping byte %d = %x, %v; want an error", i, got, err)
		}
	}
	for _, n := range []int{0, 1, 1 + nonceSize + tagSize - 1} {
		if got, err := s.Unwrap(ctx, blob[:n]); err == nil || got != nil {
			t.Fatalf("Unwrap of %d bytes = %x, %v; want an error", n, got, err)
		}
	}
}

func TestShamirWrapBadKeySize(t *testing.T) {
	if _, err := NewShamir(make([]byte, 16)).Wrap(t.Context(), randomKey(t)); err == nil {
		t.Fatal("Wrap with a 16-byte unseal key succeeded")
	}
}

func TestNewShamirCopiesKey(t *testing.T) {
	ctx := t.Context()
	unsealKey, rootKey := randomKey(t), randomKey(t)
	s := NewShamir(unsealKey)
	blob, err := s.Wrap(ctx, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	clear(unsealKey)
	if got, err := s.Unwrap(ctx, blob); err != nil || !bytes.Equal(got, rootKey) {
		t.Fatalf("Unwrap after the caller zeroed its key = %x, %v", got, err)
	}
}

func TestShamirStringRedacts(t *testing.T) {
	key := bytes.Repeat([]byte("k"), KeySize)
	s := NewShamir(key).(interface{ String() string }).String()
	if strings.Contains(s, string(key)) || !strings.Contains(s, "REDACTED") {
		t.Fatalf("String() = %q", s)
	}
}

func TestSplitCombineUnwrap(t *testing.T) {
	ctx := t.Context()
	cfg := &Config{Type: TypeShamir, SecretShares: 5, SecretThreshold: 3}
	unsealKey, rootKey := randomKey(t), randomKey(t)
	shares, err := SplitKey(unsealKey, cfg)
	if err != nil || len(shares) != 5 {
		t.Fatalf("SplitKey = %d shares, %v", len(shares), err)
	}
	blob, err := NewShamir(unsealKey).Wrap(ctx, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := CombineKey([][]byte{shares[4], shares[0], shares[2]})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := NewShamir(key).Unwrap(ctx, blob); err != nil || !bytes.Equal(got, rootKey) {
		t.Fatalf("Unwrap with combined key = %x, %v", got, err)
	}
	// Two shares combine to a wrong key, which Unwrap rejects.
	key, err = CombineKey(shares[:2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewShamir(key).Unwrap(ctx, blob); !errors.Is(err, ErrBadKey) {
		t.Fatalf("Unwrap below threshold = %v, want ErrBadKey", err)
	}
	if _, err := CombineKey(nil); err == nil {
		t.Fatal("CombineKey(nil) succeeded")
	}
	if _, err := SplitKey(unsealKey, &Config{Type: TypeShamir, SecretShares: 2, SecretThreshold: 3}); err == nil {
		t.Fatal("SplitKey with threshold above shares succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	valid := []Config{
		{TypeShamir, 1, 1, 0, 0},
		{TypeShamir, 5, 3, 0, 0},
		{TypeShamir, 255, 255, 0, 0},
		{TypeShamir, 2, 2, 0, 0},
		{TypeTransit, 1, 1, 5, 3},
		{TypeTransit, 1, 1, 1, 1},
	}
	for _, c := range valid {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
	invalid := []Config{
		{"", 5, 3, 0, 0},
		{"transit-ish", 5, 3, 0, 0},
		{TypeShamir, 0, 0, 0, 0},
		{TypeShamir, 256, 3, 0, 0},
		{TypeShamir, 3, 4, 0, 0},
		{TypeShamir, 3, 1, 0, 0},
		{TypeShamir, 3, 0, 0, 0},
		{TypeShamir, 5, 3, 5, 3},
		{TypeTransit, 5, 3, 5, 3},
		{TypeTransit, 1, 1, 0, 0},
		{TypeTransit, 1, 1, 3, 1},
		{TypeTransit, 1, 1, 2, 3},
	}
	for _, c := range invalid {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if n, th := (&Config{TypeTransit, 1, 1, 5, 3}).Shares(); n != 5 || th != 3 {
		t.Errorf("transit Shares() = %d, %d", n, th)
	}
	if n, th := (&Config{TypeShamir, 4, 2, 0, 0}).Shares(); n != 4 || th != 2 {
		t.Errorf("shamir Shares() = %d, %d", n, th)
	}
}

func TestConfigStorage(t *testing.T) {
	ctx := t.Context()
	phys := inmem.New()
	if c, err := LoadConfig(ctx, phys); c != nil || err != nil {
		t.Fatalf("LoadConfig on empty storage = %+v, %v; want nil, nil", c, err)
	}
	want := &Config{Type: TypeShamir, SecretShares: 5, SecretThreshold: 3}
	if err := StoreConfig(ctx, phys, want); err != nil {
		t.Fatal(err)
	}
	raw, err := phys.Get(ctx, ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"type":"shamir","secret_shares":5,"secret_threshold":3}` {
		t.Fatalf("stored config = %s", raw)
	}
	got, err := LoadConfig(ctx, phys)
	if err != nil || *got != *want {
		t.Fatalf("LoadConfig = %+v, %v; want %+v", got, err, want)
	}
	if err := StoreConfig(ctx, phys, &Config{Type: TypeShamir, SecretShares: 2, SecretThreshold: 5}); err == nil {
		t.Fatal("StoreConfig accepted an invalid config")
	}
	for _, bad := range []string{"not json", `{"type":"shamir","secret_shares":2,"secret_threshold":5}`} {
		if err := phys.Put(ctx, ConfigPath, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if c, err := LoadConfig(ctx, phys); err == nil || c != nil {
			t.Fatalf("LoadConfig of %q = %+v, %v; want an error", bad, c, err)
		}
	}
}

func TestRootKeyStorage(t *testing.T) {
	ctx := t.Context()
	phys := inmem.New()
	if _, err := LoadRootKey(ctx, phys); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LoadRootKey on empty storage = %v, want ErrNotFound", err)
	}
	blob, err := NewShamir(randomKey(t)).Wrap(ctx, randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := StoreRootKey(ctx, phys, TypeShamir, blob); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRootKey(ctx, phys)
	if err != nil || got.Type != TypeShamir || !bytes.Equal(got.Blob, blob) {
		t.Fatalf("LoadRootKey = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "{}", `{"type":"shamir"}`, `{"blob":"AAAA"}`, "\x01garbage"} {
		if err := phys.Put(ctx, RootKeyPath, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadRootKey(ctx, phys); err == nil {
			t.Fatalf("LoadRootKey of %q = %+v, want an error", bad, got)
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestGenerateKey(t *testing.T) {
	a, b := randomKey(t), randomKey(t)
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatalf("GenerateKey gave %x and %x", a, b)
	}
	if _, err := GenerateKey(failReader{}); err == nil {
		t.Fatal("GenerateKey with a failing reader succeeded")
	}
	k, err := GenerateKey(rand.Reader)
	if err != nil || len(k) != KeySize {
		t.Fatalf("GenerateKey(rand.Reader) = %x, %v", k, err)
	}
}

// FuzzUnwrap feeds arbitrary blobs to the Shamir seal: no panic, and an
// error means nil output.
func FuzzUnwrap(f *testing.F) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s := NewShamir(key)
	blob, err := s.Wrap(context.Background(), bytes.Repeat([]byte{9}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add(blob[:len(blob)-1])
	f.Add([]byte{blobVersion})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := s.Unwrap(context.Background(), b)
		if err != nil && got != nil {
			t.Fatalf("Unwrap returned %x with error %v", got, err)
		}
	})
}
