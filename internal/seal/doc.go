// Package seal protects the barrier's root key at rest.
//
// The root key opens the barrier's keyring (internal/barrier); it is never
// stored in the clear. A Seal wraps it (encrypts it) for storage and unwraps
// it at unseal. There are two kinds:
//
//   - Shamir (NewShamir): the root key is wrapped with AES-256-GCM under a
//     random 32-byte unseal key, which core splits into shares with
//     SplitKey and hands to operators. At unseal, core combines threshold
//     shares (CombineKey) and unwraps with NewShamir(unsealKey); wrong
//     shares give a wrong key, which Unwrap reports as ErrBadKey.
//   - Transit (NewTransit): the root key is encrypted by a transit key of
//     another Ward (or Vault) server, over its HTTP API. Unwrap needs that
//     server: an unreachable or sealed one is ErrUnavailable, a key that
//     does not open the blob ErrBadKey. Operators then hold recovery shares
//     of a recovery key instead, which core keeps inside the barrier.
//
// # Storage
//
// Both records live in the physical backend, beside but outside the
// barrier, which refuses to touch "core/seal/":
//
//	core/seal/config    JSON Config, plaintext: the seal type and the share
//	                    counts (unseal shares for Shamir, recovery shares
//	                    for transit), which are not secret
//	core/seal/root-key  JSON RootKey: the type of the seal that wrapped the
//	                    root key, and the blob. Shamir blob: version (1
//	                    byte, 1) ‖ nonce (12 bytes) ‖ AES-256-GCM(root key,
//	                    AAD "core/seal/root-key"); transit blob: the remote
//	                    ciphertext "vault:v<N>:…"
//
// The root key record names its seal so that a seal migration, which
// rewrites the root key record and then the config, stays recoverable if
// the server stops between the two writes.
package seal
