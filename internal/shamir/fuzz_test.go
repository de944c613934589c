package shamir

import (
	"bytes"
	"testing"
)

// FuzzCombine feeds arbitrary share sets to Combine: it must never panic,
// an error must come with no output, and success means len(output) is one
// less than the share length.
func FuzzCombine(f *testing.F) {
	// The known 2-of-3 split of "ward" (all three shares, then two), a
	// duplicate x, a short share, a length mismatch and a zero x.
	f.Add(wardShares[0], wardShares[1], wardShares[2])
	f.Add(wardShares[2], wardShares[0], []byte{})
	f.Add([]byte{0x01, 0x02}, []byte{0x03, 0x02}, []byte{})
	f.Add([]byte{0x01}, []byte{}, []byte{})
	f.Add([]byte{0x01, 0x02, 0x03}, []byte{0x04, 0x05}, []byte{0x06, 0x07, 0x08})
	f.Add([]byte{0x77, 0x00}, []byte{0x01, 0x05}, []byte{0x09, 0x06})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		var shares [][]byte
		for _, s := range [][]byte{a, b, c} {
			if len(s) > 0 {
				shares = append(shares, s)
			}
		}
		out, err := Combine(shares)
		if err != nil {
			if out != nil {
				t.Fatalf("Combine returned %x with error %v", out, err)
			}
			return
		}
		if len(out) != len(shares[0])-1 {
			t.Fatalf("Combine output length %d for share length %d", len(out), len(shares[0]))
		}
	})
}

// FuzzSplitCombine checks that any secret split with any valid parameters
// comes back from the first threshold shares and from the last threshold
// shares.
func FuzzSplitCombine(f *testing.F) {
	f.Add([]byte("ward unseal key 0123456789abcdef"), uint8(5), uint8(3))
	f.Add([]byte{0}, uint8(1), uint8(1))
	f.Add([]byte{0xff, 0x00, 0xff}, uint8(255), uint8(255))
	f.Add([]byte("x"), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, secret []byte, parts, threshold uint8) {
		if len(secret) > 64 {
			return
		}
		shares, err := Split(secret, int(parts), int(threshold))
		if err != nil {
			if shares != nil {
				t.Fatalf("Split returned shares with error %v", err)
			}
			return
		}
		t1 := int(threshold)
		for _, set := range [][][]byte{shares[:t1], shares[len(shares)-t1:]} {
			got, err := Combine(set)
			if err != nil {
				t.Fatalf("Combine: %v", err)
			}
			if !bytes.Equal(got, secret) {
				t.Fatalf("Combine = %x, want %x", got, secret)
			}
		}
	})
}
