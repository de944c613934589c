package core

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// rootGenCore is an unsealed core with 3 shares, threshold 3.
func rootGenCore(t *testing.T) (*Core, *api.InitResponse) {
	t.Helper()
	ctx := context.Background()
	c, err := New(Options{
		Physical: inmem.New(),
		Engines:  map[string]engine.Factory{"cubbyhole": cubbyhole.Factory},
		System:   func(*Core) engine.Backend { return noSys{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range init.Keys {
		if _, err := c.Unseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	return c, init
}

// noSys stands in for the sys/ engine, which this package cannot import.
type noSys struct{}

func (noSys) Handle(context.Context, *engine.Request) (*engine.Response, error) {
	return nil, engine.ErrUnsupportedPath
}

// heldShares returns the attempt's current share slices, which the
// attempt must zero when it lets go of them.
func heldShares(c *Core) [][]byte {
	g := &c.active.Load().rootGen
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([][]byte(nil), g.shares...)
}

func allZero(bufs ...[]byte) bool {
	for _, b := range bufs {
		if len(b) == 0 || !bytes.Equal(b, make([]byte, len(b))) {
			return false
		}
	}
	return true
}

// TestGenerateRootZeroesShares: shares are zeroed when the attempt
// completes, when it is canceled, when they fail the check, and when the
// server seals.
func TestGenerateRootZeroesShares(t *testing.T) {
	ctx := context.Background()
	c, init := rootGenCore(t)
	start := func() string {
		t.Helper()
		st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return st.Nonce
	}
	give := func(nonce string, keys ...string) [][]byte {
		t.Helper()
		for _, k := range keys {
			if _, err := c.GenerateRootUpdate(ctx, k, nonce); err != nil {
				t.Fatal(err)
			}
		}
		held := heldShares(c)
		if len(held) != len(keys) || allZero(held...) {
			t.Fatalf("held %d shares (zeroed: %v), want %d live ones", len(held), allZero(held...), len(keys))
		}
		return held
	}

	t.Run("complete", func(t *testing.T) {
		nonce := start()
		held := give(nonce, init.Keys[0], init.Keys[1])
		st, err := c.GenerateRootUpdate(ctx, init.Keys[2], nonce)
		if err != nil || !st.Complete {
			t.Fatalf("%+v, %v", st, err)
		}
		if !allZero(held...) {
			t.Fatal("shares not zeroed after completion")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		held := give(start(), init.Keys[0])
		if err := c.GenerateRootCancel(ctx); err != nil {
			t.Fatal(err)
		}
		if !allZero(held...) {
			t.Fatal("shares not zeroed after cancel")
		}
	})
	t.Run("bad shares", func(t *testing.T) {
		nonce := start()
		// A share with a valid shape but a flipped byte.
		forged := []byte(init.Keys[2])
		if forged[0] == '0' {
			forged[0] = '1'
		} else {
			forged[0] = '0'
		}
		held := give(nonce, init.Keys[0], init.Keys[1])
		if _, err := c.GenerateRootUpdate(ctx, string(forged), nonce); !errors.Is(err, errBadShares) {
			t.Fatalf("forged share: %v", err)
		}
		if !allZero(held...) {
			t.Fatal("shares not zeroed after a failed check")
		}
		if err := c.GenerateRootCancel(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("seal", func(t *testing.T) {
		held := give(start(), init.Keys[0], init.Keys[1])
		s := c.active.Load()
		c.Seal()
		deadline := time.Now().Add(5 * time.Second)
		for !allZero(held...) {
			if time.Now().After(deadline) {
				t.Fatal("shares not zeroed after seal")
			}
			time.Sleep(time.Millisecond)
		}
		s.rootGen.mu.Lock()
		defer s.rootGen.mu.Unlock()
		if s.rootGen.nonce != "" || s.rootGen.otp != nil {
			t.Fatalf("attempt survived the seal: nonce %q", s.rootGen.nonce)
		}
	})
}

func TestEncodeRootToken(t *testing.T) {
	// XOR with itself is all zeros: 43 zero bytes in unpadded base64.
	tok := "ws." + strings.Repeat("x", 40)
	got, err := encodeRootToken(tok, []byte(tok))
	if err != nil || got != strings.Repeat("A", 58) {
		t.Fatalf("encode = %q, %v", got, err)
	}
	if _, err := encodeRootToken(tok, []byte("short")); err == nil {
		t.Fatal("lengths differ: no error")
	}
}

func TestRandomOTP(t *testing.T) {
	// A reader of all 0xff bytes is rejected byte by byte until the
	// source ends: an error, never a biased OTP.
	if otp, err := randomOTP(bytes.NewReader(bytes.Repeat([]byte{0xff}, 1024))); err == nil {
		t.Fatalf("otp from rejected bytes = %q", otp)
	}
	if _, err := randomOTP(iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Fatal("failing reader: no error")
	}
	otp, err := randomOTP(bytes.NewReader(bytes.Repeat([]byte{61, 248, 0}, 64)))
	if err != nil || len(otp) != otpLength || validateOTP(otp) != nil {
		t.Fatalf("otp = %q, %v", otp, err)
	}
	if !strings.HasPrefix(otp, "z0z0") {
		t.Fatalf("otp %q: byte 61 must map to z, 0 to 0, 248 be skipped", otp)
	}
}
