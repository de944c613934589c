package shamir

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// MaxParts is the largest number of shares one split can produce: one per
// non-zero element of GF(2^8).
const MaxParts = 255

// Split divides secret into parts shares, any threshold of which recover it
// with Combine. It requires a non-empty secret and either parts == threshold
// == 1 (the single share is the secret plus an x-coordinate) or
// 2 <= threshold <= parts <= MaxParts. Each share is len(secret)+1 bytes: the
// y values, then the x-coordinate. Shares are returned in random x order.
func Split(secret []byte, parts, threshold int) ([][]byte, error) {
	return split(rand.Reader, secret, parts, threshold)
}

func split(r io.Reader, secret []byte, parts, threshold int) ([][]byte, error) {
	switch {
	case len(secret) == 0:
		return nil, errors.New("shamir split: secret is empty")
	case parts < 1 || parts > MaxParts:
		return nil, fmt.Errorf("shamir split: parts is %d; must be between 1 and %d", parts, MaxParts)
	case threshold > parts:
		return nil, fmt.Errorf("shamir split: threshold %d exceeds parts %d", threshold, parts)
	case threshold < 1:
		return nil, fmt.Errorf("shamir split: threshold is %d; must be at least 1", threshold)
	case threshold == 1 && parts > 1:
		return nil, errors.New("shamir split: threshold must be at least 2 when parts is more than 1")
	}

	xs, err := randomXs(r, parts)
	if err != nil {
		return nil, err
	}
	shares := make([][]byte, parts)
	for i := range shares {
		shares[i] = make([]byte, len(secret)+1)
		shares[i][len(secret)] = xs[i]
	}

	// coeffs[0] is the secret byte; coeffs[1:] are random. Reused per byte
	// and zeroed at the end.
	coeffs := make([]byte, threshold)
	defer clear(coeffs)
	for j, s := range secret {
		coeffs[0] = s
		if _, err := io.ReadFull(r, coeffs[1:]); err != nil {
			return nil, fmt.Errorf("shamir split: read random coefficients: %w", err)
		}
		for i, x := range xs {
			shares[i][j] = eval(coeffs, x)
		}
	}
	return shares, nil
}

// randomXs returns n distinct x-coordinates from 1..255 in random order: the
// first n entries of a Fisher-Yates shuffle.
func randomXs(r io.Reader, n int) ([]byte, error) {
	var all [MaxParts]byte
	for i := range all {
		all[i] = byte(i + 1)
	}
	var buf [2]byte
	for i := len(all) - 1; i > 0; i-- {
		// Rejection sampling keeps the shuffle unbiased.
		bound := uint16(i + 1)
		limit := (1 << 16) - (1<<16)%uint32(bound)
		var v uint16
		for {
			if _, err := io.ReadFull(r, buf[:]); err != nil {
				return nil, fmt.Errorf("shamir split: read random coordinates: %w", err)
			}
			v = uint16(buf[0])<<8 | uint16(buf[1])
			if uint32(v) < limit {
				break
			}
		}
		j := int(v % bound)
		all[i], all[j] = all[j], all[i]
	}
	out := make([]byte, n)
	copy(out, all[:n])
	return out, nil
}

// eval evaluates the polynomial with the given coefficients (constant term
// first) at x, by Horner's rule.
func eval(coeffs []byte, x byte) byte {
	var y byte
	for i := len(coeffs) - 1; i >= 0; i-- {
		y = mul(y, x) ^ coeffs[i]
	}
	return y
}

// Combine recovers a secret from shares made by Split. All shares must have
// the same length (at least 2 bytes) and distinct, non-zero x-coordinates.
// A single share yields its y bytes, which is the secret for a 1-of-1 split.
// Given fewer shares than the split's threshold, Combine returns a wrong
// value without error; see the package documentation. On error the result
// is nil.
func Combine(shares [][]byte) ([]byte, error) {
	if len(shares) == 0 {
		return nil, errors.New("shamir combine: no shares given")
	}
	if len(shares) > MaxParts {
		return nil, fmt.Errorf("shamir combine: %d shares given; at most %d can be distinct", len(shares), MaxParts)
	}
	n := len(shares[0])
	if n < 2 {
		return nil, errors.New("shamir combine: share is too short")
	}
	var seen [256]bool
	xs := make([]byte, len(shares))
	for i, s := range shares {
		if len(s) != n {
			return nil, errors.New("shamir combine: shares have different lengths")
		}
		x := s[n-1]
		if x == 0 {
			return nil, errors.New("shamir combine: share has x-coordinate 0")
		}
		if seen[x] {
			return nil, errors.New("shamir combine: two shares have the same x-coordinate")
		}
		seen[x] = true
		xs[i] = x
	}

	// Lagrange basis values at 0: l_i = prod_{j != i} x_j / (x_j - x_i).
	// They depend only on the x-coordinates, so compute them once.
	basis := make([]byte, len(shares))
	for i := range xs {
		num, den := byte(1), byte(1)
		for j := range xs {
			if j == i {
				continue
			}
			num = mul(num, xs[j])
			den = mul(den, xs[j]^xs[i])
		}
		basis[i] = mul(num, inv(den))
	}

	secret := make([]byte, n-1)
	for k := range secret {
		var v byte
		for i, s := range shares {
			v ^= mul(s[k], basis[i])
		}
		secret[k] = v
	}
	return secret, nil
}
