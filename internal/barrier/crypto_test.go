package barrier

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/storage"
)

func TestValueBoundToKey(t *testing.T) {
	ctx := t.Context()
	b, phys, _ := newUnsealed(t, nil)
	mustPut(t, b, "a", "value of a")
	raw, err := phys.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := phys.Put(ctx, "b", raw); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "b")
	if err == nil || errors.Is(err, storage.ErrNotFound) || got != nil {
		t.Fatalf("Get of a value copied from another key = %q, %v; want a decryption error", got, err)
	}
}

func TestTamperedValue(t *testing.T) {
	ctx := t.Context()
	b, phys, _ := newUnsealed(t, nil)
	const plaintext = "tamper canary 7f3a"
	mustPut(t, b, "k", plaintext)
	raw, err := phys.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		if err := phys.Put(ctx, "k", bad); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "k")
		if err == nil || got != nil {
			t.Fatalf("Get after flipping byte %d = %q, %v; want an error", i, got, err)
		}
		if strings.Contains(err.Error(), plaintext) {
			t.Fatalf("error reveals the plaintext: %v", err)
		}
	}
	for _, n := range []int{0, 1, valueHeader, valueHeader + tagSize - 1} {
		if err := phys.Put(ctx, "k", raw[:n]); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Get(ctx, "k"); err == nil || got != nil {
			t.Fatalf("Get of a %d-byte value = %q, %v; want an error", n, got, err)
		}
	}
}

func TestNoPlaintextInPhysical(t *testing.T) {
	ctx := t.Context()
	b, phys, root := newUnsealed(t, nil)
	canary := []byte("CANARY-d41d8cd98f00b204e9800998ecf8427e")
	for i := range 20 {
		v := append([]byte("prefix "), canary...)
		v = append(v, byte(i))
		mustPut(t, b, "logical/x/"+string(rune('a'+i)), string(v))
	}
	if _, err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	mustPut(t, b, "after/rotate", string(canary))
	kr := b.state.Load()
	secrets := map[string][]byte{"canary": canary, "root key": root}
	for term, k := range kr.terms {
		secrets[fmt.Sprintf("key of term %d", term)] = k.key
	}
	keys, err := storage.List(ctx, phys, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 22 { // 21 values and the keyring
		t.Fatalf("physical holds %d keys, want 22", len(keys))
	}
	for _, key := range keys {
		v, err := phys.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range secrets {
			if bytes.Contains(v, s) {
				t.Fatalf("physical value of %q contains the %s", key, name)
			}
		}
	}
}

func TestSealZeroesKeys(t *testing.T) {
	b, _, root := newUnsealed(t, nil)
	if _, err := b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	kr := b.state.Load()
	b.Seal()
	zero := make([]byte, keySize)
	if !bytes.Equal(kr.rootKey, zero) {
		t.Fatal("root key not zeroed on Seal")
	}
	for term, k := range kr.terms {
		if !bytes.Equal(k.key, zero) {
			t.Fatalf("key of term %d not zeroed on Seal", term)
		}
	}
	if bytes.Equal(root, zero) {
		t.Fatal("Seal zeroed the caller's root key slice")
	}
}

func TestStringRedacts(t *testing.T) {
	b, _, _ := newUnsealed(t, nil)
	kr := b.state.Load()
	for _, s := range []string{b.String(), kr.String(), kr.active.String()} {
		if strings.Contains(s, string(kr.active.key)) || strings.Contains(s, string(kr.rootKey)) {
			t.Fatalf("String() reveals key material: %q", s)
		}
		if !strings.Contains(s, "barrier.") {
			t.Fatalf("String() = %q", s)
		}
	}
}
