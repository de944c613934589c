package shamir

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// mulSlow multiplies in GF(2^8) the textbook way, as a reference for mul.
func mulSlow(a, b uint8) uint8 {
	var p uint16
	for i := 0; i < 8; i++ {
		if b&(1<<i) != 0 {
			p ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if p&(1<<i) != 0 {
			p ^= 0x11b << (i - 8)
		}
	}
	return uint8(p)
}

func TestFieldArithmetic(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			if got, want := mul(uint8(a), uint8(b)), mulSlow(uint8(a), uint8(b)); got != want {
				t.Fatalf("mul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
	}
	// Known AES value: 0x53 · 0xca = 1.
	if got := mul(0x53, 0xca); got != 1 {
		t.Fatalf("mul(0x53, 0xca) = %#x, want 1", got)
	}
	if inv(0) != 0 {
		t.Fatalf("inv(0) = %#x, want 0", inv(0))
	}
	for a := 1; a < 256; a++ {
		if got := mul(uint8(a), inv(uint8(a))); got != 1 {
			t.Fatalf("a·inv(a) = %#x for a = %#x", got, a)
		}
	}
}

// subsets calls fn with every subset of {0..n-1} of exactly k elements.
func subsets(n, k int, fn func([]int)) {
	idx := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(idx) == k {
			fn(idx)
			return
		}
		for i := start; i < n; i++ {
			idx = append(idx, i)
			rec(i + 1)
			idx = idx[:len(idx)-1]
		}
	}
	rec(0)
}

func pick(shares [][]byte, idx []int) [][]byte {
	out := make([][]byte, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

func TestRoundTripAllSubsets(t *testing.T) {
	secret := []byte("correct horse battery staple, 32")
	for parts := 2; parts <= 6; parts++ {
		for threshold := 2; threshold <= parts; threshold++ {
			shares, err := Split(secret, parts, threshold)
			if err != nil {
				t.Fatalf("Split(%d, %d): %v", parts, threshold, err)
			}
			if len(shares) != parts {
				t.Fatalf("Split(%d, %d) gave %d shares", parts, threshold, len(shares))
			}
			for _, s := range shares {
				if len(s) != len(secret)+1 {
					t.Fatalf("share length %d, want %d", len(s), len(secret)+1)
				}
			}
			for k := threshold; k <= parts; k++ {
				subsets(parts, k, func(idx []int) {
					got, err := Combine(pick(shares, idx))
					if err != nil {
						t.Fatalf("Combine(%v) of %d-of-%d: %v", idx, threshold, parts, err)
					}
					if !bytes.Equal(got, secret) {
						t.Fatalf("Combine(%v) of %d-of-%d = %x, want %x", idx, threshold, parts, got, secret)
					}
				})
			}
			// One share short of the threshold gives some other value.
			subsets(parts, threshold-1, func(idx []int) {
				if len(idx) == 0 {
					return
				}
				got, err := Combine(pick(shares, idx))
				if err != nil {
					t.Fatalf("Combine(%v) below threshold: %v", idx, err)
				}
				if bytes.Equal(got, secret) {
					t.Fatalf("Combine(%v) of %d-of-%d recovered the secret below threshold", idx, threshold, parts)
				}
			})
		}
	}
}

// wardShares is a 2-of-3 split of "ward" made by this package.
var wardShares = [][]byte{
	{0x0e, 0x33, 0xd2, 0x01, 0x56},
	{0x73, 0xaf, 0xb4, 0xbc, 0x8f},
	{0x37, 0x35, 0xa6, 0x4b, 0x28},
}

// TestCombineKnownShares pins the share format: shares made once must keep
// combining to the same secret, in any order.
func TestCombineKnownShares(t *testing.T) {
	for _, idx := range [][]int{{0, 1}, {1, 0}, {0, 2}, {2, 1}, {0, 1, 2}} {
		got, err := Combine(pick(wardShares, idx))
		if err != nil {
			t.Fatalf("Combine(%v): %v", idx, err)
		}
		if string(got) != "ward" {
			t.Fatalf("Combine(%v) = %q, want \"ward\"", idx, got)
		}
	}
}

func TestSplitOneOfOne(t *testing.T) {
	secret := []byte{1, 2, 3}
	shares, err := Split(secret, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(shares) != 1 || len(shares[0]) != 4 || shares[0][3] == 0 {
		t.Fatalf("Split 1-of-1 = %x", shares)
	}
	if !bytes.Equal(shares[0][:3], secret) {
		t.Fatalf("1-of-1 share y bytes = %x, want the secret", shares[0][:3])
	}
	got, err := Combine(shares)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Combine 1-of-1 = %x, %v", got, err)
	}
}

func TestSplitMaxParts(t *testing.T) {
	secret := []byte("k")
	shares, err := Split(secret, MaxParts, 3)
	if err != nil {
		t.Fatal(err)
	}
	var seen [256]bool
	for _, s := range shares {
		x := s[1]
		if x == 0 || seen[x] {
			t.Fatalf("x-coordinate %d is zero or repeated", x)
		}
		seen[x] = true
	}
	got, err := Combine(shares)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Combine all 255 = %x, %v", got, err)
	}
}

func TestSplitXsAreShuffled(t *testing.T) {
	// Over many splits the first share's x-coordinate must vary; a fixed
	// 1, 2, 3 ordering would leak nothing but would not meet the contract.
	seen := map[byte]bool{}
	for i := 0; i < 50; i++ {
		shares, err := Split([]byte{9}, 3, 2)
		if err != nil {
			t.Fatal(err)
		}
		seen[shares[0][1]] = true
	}
	if len(seen) < 5 {
		t.Fatalf("first x-coordinate took only %d values in 50 splits", len(seen))
	}
}

func TestSplitErrors(t *testing.T) {
	secret := []byte("s")
	cases := []struct {
		name             string
		secret           []byte
		parts, threshold int
	}{
		{"empty secret", nil, 3, 2},
		{"zero parts", secret, 0, 0},
		{"too many parts", secret, 256, 2},
		{"threshold above parts", secret, 3, 4},
		{"threshold zero", secret, 3, 0},
		{"threshold one with many parts", secret, 3, 1},
		{"negative threshold", secret, 3, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shares, err := Split(c.secret, c.parts, c.threshold)
			if err == nil {
				t.Fatalf("Split succeeded: %x", shares)
			}
			if shares != nil {
				t.Fatal("Split returned shares with an error")
			}
		})
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestSplitRandFailure(t *testing.T) {
	if _, err := split(failReader{}, []byte("s"), 3, 2); err == nil {
		t.Fatal("split with a failing reader succeeded")
	}
}

func TestCombineErrors(t *testing.T) {
	cases := []struct {
		name   string
		shares [][]byte
	}{
		{"no shares", nil},
		{"too short", [][]byte{{1}, {2}}},
		{"empty share", [][]byte{{}, {}}},
		{"length mismatch", [][]byte{{1, 1}, {1, 2, 2}}},
		{"duplicate x", [][]byte{{1, 7}, {2, 7}}},
		{"zero x", [][]byte{{1, 0}, {2, 3}}},
		{"too many", make([][]byte, 256)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Combine(c.shares)
			if err == nil {
				t.Fatalf("Combine succeeded: %x", got)
			}
			if got != nil {
				t.Fatal("Combine returned output with an error")
			}
		})
	}
}

func TestCombineDoesNotModifyShares(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	shares, err := Split(secret, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	before := make([][]byte, len(shares))
	for i, s := range shares {
		before[i] = bytes.Clone(s)
	}
	if _, err := Combine(shares[:3]); err != nil {
		t.Fatal(err)
	}
	for i := range shares {
		if !bytes.Equal(shares[i], before[i]) {
			t.Fatalf("share %d changed", i)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	secret := make([]byte, 32)
	for b.Loop() {
		if _, err := Split(secret, 5, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	secret := make([]byte, 32)
	shares, _ := Split(secret, 5, 3)
	for b.Loop() {
		if _, err := Combine(shares[:3]); err != nil {
			b.Fatal(err)
		}
	}
}
