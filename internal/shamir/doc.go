// Package shamir splits a secret into shares so that any threshold of them
// recover it and fewer reveal nothing, using Shamir's scheme over GF(2^8).
//
// Ward uses it for the unseal key: at init the key is split into N shares
// handed to N operators; at unseal any T of them are combined.
//
//	shares, err := shamir.Split(key, 5, 3)
//	...
//	key, err := shamir.Combine(shares[1:4])
//
// Every byte of the secret is the constant term of its own random polynomial
// of degree threshold-1. A share holds that polynomial's value at one point
// for every byte of the secret, followed by a single trailing byte: the
// point's x-coordinate (1..255, distinct across the shares of one split and
// chosen at random). So a share is len(secret)+1 bytes.
//
// Combine cannot tell whether it was given enough shares: below the
// threshold it returns a wrong value without error. Callers that must detect
// a wrong result check it against something the right value opens (Ward
// opens the sealed root key with it).
//
// Field arithmetic runs in constant time: multiplication is shift-and-xor
// with masks and inversion is exponentiation, with no branches or table
// lookups that depend on secret data.
package shamir
