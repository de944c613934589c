// Package seal protects the barrier's root key at rest.
//
// The root key opens the barrier's keyring (internal/barrier); it is never
// stored in the clear. A Seal wraps it (encrypts it) for storage and unwraps
// it at unseal. Today Ward has one kind, the Shamir seal:
//
//   - At init, core generates a random 32-byte unseal key, splits it into
//     shares with internal/shamir (SplitKey), wraps the root key with
//     NewShamir(unsealKey), and stores the blob with StoreRootKey and the
//     share counts with StoreConfig.
//   - At unseal, core collects threshold shares, combines them (CombineKey)
//     into the unseal key, and unwraps LoadRootKey's blob with
//     NewShamir(unsealKey). Wrong shares give a wrong key, which Unwrap
//     reports as ErrBadKey.
//
// Auto-unseal seals (transit, static key) will implement the same Seal
// interface with the key held elsewhere.
//
// # Storage
//
// Both records live in the physical backend, beside but outside the
// barrier, which refuses to touch "core/seal/":
//
//	core/seal/config    JSON Config, plaintext (share counts are not secret)
//	core/seal/root-key  wrapped root key: version (1 byte, 1) ‖ nonce (12
//	                    bytes) ‖ AES-256-GCM(root key, AAD "core/seal/root-key")
package seal
