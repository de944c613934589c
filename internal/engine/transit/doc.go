// Package transit is Ward's transit engine: encryption as a service. It
// speaks Vault's transit API (API-COMPAT.md §2.13), so Vault's clients,
// the vault CLI and existing scripts work unchanged. Keys never leave the
// engine unless they are marked exportable; callers send data and get
// back ciphertexts, signatures and HMACs.
//
// # Paths
//
//	keys                          list
//	keys/{name}                   create (write), read, delete (needs deletion_allowed)
//	keys/{name}/config            min_decryption_version, min_encryption_version,
//	                              deletion_allowed, exportable, allow_plaintext_backup
//	                              (neither can be turned off), auto_rotate_period
//	keys/{name}/rotate            add a version
//	keys/{name}/trim              min_available_version: delete old versions for good
//	encrypt/{name}                creates the key when the request is a create
//	decrypt/{name}, rewrap/{name}
//	datakey/{plaintext|wrapped}/{name}
//	hmac/{name}[/{algorithm}]
//	sign/{name}[/{hash}], verify/{name}[/{hash}]   (verify also checks HMACs)
//	random[/{source}][/{bytes}], hash[/{algorithm}]
//	export/{kind}/{name}[/{version}]   encryption-key, signing-key, hmac-key, public-key
//	backup/{name}, restore[/{name}]
//
// Key types: aes128-gcm96, aes256-gcm96 (the default) and chacha20-poly1305
// encrypt, and support derivation and convergent encryption; rsa-2048,
// rsa-3072 and rsa-4096 encrypt (OAEP with SHA-256 only: PKCS #1 v1.5
// decryption on request would be a padding oracle) and
// sign (PSS or PKCS #1 v1.5); ed25519 (derivable) and ecdsa-p256/p384/p521
// sign; hmac (key_size 32 to 512 bytes) only HMACs. Every version of every
// key also has its own 256-bit HMAC key, so any key can HMAC.
//
// # Ciphertexts
//
//	vault:v<N>:<base64(nonce || ciphertext || tag)>
//
// N is the key version, a decimal number without leading zeros. The
// "vault:" prefix is Vault's and is kept so that stored ciphertexts and
// clients that look for it keep working. AEAD keys use a 12-byte nonce and
// a 16-byte tag; RSA ciphertexts are the bare RSA ciphertext. Signatures
// and HMACs carry the same prefix; ECDSA signatures marshaled as "jws"
// are base64url without padding, everything else standard base64. A
// ciphertext that fails authentication is refused with one message that
// says no more than that (400); malformed ones get a 400 naming the rule.
// Each has one spelling: base64 other than the engine writes it (line
// breaks, stray bits in the last character) is malformed, so callers
// that compare or deduplicate them as strings are not misled.
//
// # Derivation and convergent encryption
//
// A derived key turns each request's context into a key of its own:
// HKDF-SHA256 with the version's key as secret, no salt, and as info a
// label ("ward transit encryption key", or "… ed25519 seed" for signing)
// followed by a zero byte and the context. Derived keys need a context on
// every request.
//
// Convergent keys (derived AEAD keys only) are deterministic: the nonce is
// the first 12 bytes of HMAC-SHA256 over (length of associated data,
// associated data, plaintext), keyed by HKDF of the version's key with the
// label "ward transit convergent nonce" and the context. The same
// plaintext, context and associated data under one key version give the
// same ciphertext; anything else gives an unrelated nonce, so a nonce
// never repeats with different data. Key reads report
// convergent_encryption_version 3, the Vault version whose client-visible
// behaviour this matches (the server makes the nonce and stores it in the
// ciphertext); the derivation itself is Ward's, so Ward and Vault
// ciphertexts are not interchangeable.
//
// # Storage and caching
//
//	keys/<name>   JSON: the key's settings and every kept version's material
//
// One record per key, so every change is one Put; the barrier encrypts it.
// ECDSA and RSA keys are stored as PKCS #8, ed25519 keys as seeds. Reads and
// restores check every invariant (versions, sizes, types) before a key is
// used.
//
// Decoded keys ("rings": ciphers built, private keys parsed) are cached in
// memory by name. Encrypting or decrypting with a cached key takes no lock
// and reads no storage. Every change (create, rotate, config, trim,
// delete, restore, auto-rotation) holds a per-key lock, re-reads the key
// from storage, writes the result and then replaces the cached ring, so
// concurrent changes never lose one another and the cache never lags
// storage. A failed write drops the cached ring so the next use re-reads.
//
// # Auto-rotation
//
// The engine has no background timer. A key whose auto_rotate_period has
// passed since its latest version was made is rotated when it is next
// used (encrypt, decrypt, sign, read, …), under the key's lock and after
// checking again, so concurrent requests rotate it once. A key idle for
// several periods gets one new version, not several.
//
// # Batches
//
// encrypt, decrypt, rewrap, hmac, sign and verify take batch_input: a JSON
// array of items (or that array as a JSON string, as the CLI sends it).
// Results keep the order of the items and echo each item's "reference". A
// bad item fails alone with an "error" field; the answer is then 400 with
// every result in the body, unless some items worked and
// partial_failure_response_code (200 to 599) names another status. An
// internal failure fails the whole request (500) rather than an item.
//
// # Where Ward chose
//
// Where Vault's documentation is silent or Ward deliberately differs:
//   - encrypt and datakey refuse a nonce: Ward makes every nonce. decrypt
//     and rewrap accept and ignore one.
//   - Operations on a missing key answer 400 ("key not found"); reads of
//     keys/, export/ and backup/ answer 404.
//   - create, rotate, config and trim answer with the key's description;
//     creating a key that exists changes nothing and warns.
//   - export without a version exports the versions that may still decrypt
//     (min_decryption_version to latest), the same ones a key read lists.
//   - rewrap takes associated_data (used to decrypt and to encrypt again);
//     datakey takes key_version and associated_data.
//   - Backups are Ward's own format ("ward-transit-backup-v1"); Vault's
//     cannot be restored here, nor Ward's into Vault.
//   - random's "seal" source is refused (Ward has no entropy augmentation);
//     "all" is the platform source.
//   - Not implemented: key import (BYOK), wrapping_key, byok-export, CSRs and
//     certificate chains, CMAC, config/keys (disable_upsert), cache-config,
//     Ed25519ph/ctx, managed keys.
package transit
