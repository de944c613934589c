// Package cubbyhole is the per-token private store mounted at "cubbyhole/".
//
// It has the shapes of KV version 1 — read, write (a non-empty JSON
// object), delete and list on {path...} — without the TTL hint, but every
// request sees only the storage of its own token: keys are prefixed with
// Prefix(caller.TokenID). No other token, root included, can reach them. A
// request without a caller is denied.
//
// A token's data goes with the token: the engine implements
// engine.TokenCleaner, and core calls TokenRevoked for every revoked token,
// which removes everything under Prefix(tokenID).
//
// Storage: "<token id>/<path>" holds the JSON object written to <path>.
package cubbyhole
