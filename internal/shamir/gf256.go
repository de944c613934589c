package shamir

// Arithmetic in GF(2^8) with the AES reduction polynomial
// x^8 + x^4 + x^3 + x + 1. Addition (and subtraction) is XOR.
//
// Neither function branches on or indexes memory by its operands, so the
// time they take does not depend on secret data.

// mul returns a·b in GF(2^8).
func mul(a, b uint8) uint8 {
	var r uint8
	for i := 0; i < 8; i++ {
		// mask is 0xff when the low bit of b is set, 0x00 otherwise.
		mask := -(b & 1)
		r ^= a & mask
		// a = a·x, reduced: fold in 0x1b when the high bit falls off.
		carry := -(a >> 7)
		a = (a << 1) ^ (0x1b & carry)
		b >>= 1
	}
	return r
}

// inv returns the multiplicative inverse of a, computed as a^254 (the group
// of non-zero elements has order 255). inv(0) is 0; callers never divide by
// zero because x-coordinates are distinct and non-zero.
func inv(a uint8) uint8 {
	// 254 = 0b11111110. A fixed chain of squarings and multiplications:
	// a^2, a^3, a^6, a^7, a^14, a^15, a^30, a^31, a^62, a^63, a^126, a^127, a^254.
	a2 := mul(a, a)
	r := mul(a2, a)  // a^3
	r = mul(r, r)    // a^6
	r = mul(r, a)    // a^7
	r = mul(r, r)    // a^14
	r = mul(r, a)    // a^15
	r = mul(r, r)    // a^30
	r = mul(r, a)    // a^31
	r = mul(r, r)    // a^62
	r = mul(r, a)    // a^63
	r = mul(r, r)    // a^126
	r = mul(r, a)    // a^127
	return mul(r, r) // a^254
}
