// Package token is Ward's token store and the auth/token/ mount.
//
// A token is "ws." followed by 40 random base62 characters (about 238
// bits). The store never keeps the token itself: every token is filed under
// its ID, the hex HMAC-SHA256 of the token keyed with a 32-byte per-cluster
// salt. The ID is not secret; core uses it as Caller.TokenID and cubbyhole
// keys its storage by it. An accessor (24 random base62 characters) names a
// token for lookup and revocation without granting its power.
//
// Core owns one Store per unseal, on the barrier view at "sys/token/":
//
//	st, err := token.New(ctx, view, token.Options{OnRevoke: c.cleanupToken})
//	root, err := st.CreateRoot(ctx)          // at init
//	e, err := st.Lookup(ctx, req.ClientToken) // every request
//	exhausted, err := st.Use(ctx, e)          // tokens with num_uses
//	n, err := st.Tidy(ctx)                    // every few seconds
//
// Storage layout (relative to the view):
//
//	salt                           the HMAC key
//	id/<id>                        the Entry, JSON
//	accessor/<hmac(accessor)>      {"id","accessor"}: accessor index
//	parent/<parent id>/<child id>  the token tree, for revocation
//	expire/<hour>/<unix>-<id>      expiry index swept by Tidy
//	pending/<id>                   revocations begun but not finished
//	role/<name>                    token roles
//
// Tokens form a tree: a token created by another is its child and is
// revoked with it. Orphans (no parent) come from create-orphan, no_parent,
// roles with orphan set, and core (root, response-wrapping and login
// tokens). Revocation happens in two phases. Marking walks the tree top
// down and marks every token pending (a storage commit per level, or per
// 256 tokens of a wide one), so none of them is accepted again even if a
// later step fails, and no new child can be created under them. Finishing
// then calls OnRevoke for each token, children before parents, and deletes
// the entries with their indexes, up to 256 tokens per commit. It holds no
// lock, so a slow cleanup (a cubbyhole delete, several durable commits)
// never holds up other tokens. Tidy finishes pending revocations that
// failed or were cut short. locks.go describes the locking that makes this
// safe.
//
// Backend returns the auth/token/ mount, an engine.Mux whose endpoints
// follow Vault's token API (create, lookup, renew, revoke and their -self
// and -accessor forms, accessors, roles, tidy).
package token
