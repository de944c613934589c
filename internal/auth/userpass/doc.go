// Package userpass is the username-and-password auth method, with the
// paths and wire shapes of Vault's userpass (API-COMPAT.md §2.6).
//
// # Paths
//
//	users                      list
//	users/{username}           read, write (create or update), delete
//	users/{username}/password  write: password or password_hash
//	users/{username}/policies  write: token_policies (or legacy policies)
//	login/{username}           write {"password": ...}; needs no token
//	config                     read, write: hashing and lockout settings
//
// A user write takes password (or password_hash, a ready-made bcrypt or
// argon2id hash, for migrations; never both) and the token_* settings of
// auth.TokenInput. An imported hash's work factors may not exceed the
// mount's config (bcrypt cost at most bcrypt_cost; argon2id passes,
// memory and lanes at most argon2_time, argon2_memory, argon2_threads),
// so that no user can make checking their password dearer than the
// mount's own hashes. A create needs a password; an update may leave it out.
// A read shows the token settings and the hash algorithm, never the hash.
//
// Usernames are ASCII letters, digits, "_", "-" and "." that begin and end
// with a letter, digit or "_" (Vault's rule), at most 256 bytes, and are
// lower-cased, as Vault does: "Mary" and "mary" are one user.
//
// # Login
//
// A login answers with an engine.Login for alias Name = username, token
// metadata {"username": username} and display name username; core turns
// it into a token. A wrong password and an unknown user both get a 400
// "invalid username or password" after the same work: an unknown user's
// password is checked against a dummy hash made with the mount's current
// settings. A password over MaxPasswordLen is refused with a 400 naming
// the limit before anything else, and never counts towards a lockout. A user with token_bound_cidrs who logs in from elsewhere gets a
// 403 after the password check. On a successful login whose hash was made
// with another algorithm or other work factors than the mount's current
// ones, the password is hashed again with the current ones.
//
// # Hashes
//
// Only hashes are stored: bcrypt ("$2a$10$...") or argon2id in the PHC
// string format ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"). config's
// hash_algorithm picks the one new passwords get (default bcrypt, cost 10,
// as Vault). The argon2id defaults are OWASP's: 19 MiB, 2 passes, 1 lane.
// bcrypt reads only 72 bytes, so with bcrypt a longer password is refused
// when set and never matches at login; argon2id takes up to
// MaxPasswordLen bytes. At most GOMAXPROCS hashes run at once, so that a
// flood of logins queues instead of exhausting CPU or memory.
//
// The work factors are configurable (bcrypt_cost down to 4, argon2_memory
// down to 64 KiB) so that tests run fast; production should keep the
// defaults or raise them.
//
// # Lockout
//
// Vault's user lockout, configured on this mount's config rather than on
// sys/auth tune: after lockout_threshold (5) failed logins for one
// username, each no more than lockout_counter_reset (15m) after the
// previous one, the username is locked for lockout_duration (15m). A login
// for a locked username answers 403 "permission denied" at once, without
// checking the password, as Vault documents; the lock clears when the
// duration is over, and a successful login resets the count.
// disable_lockout turns the feature off. Unknown usernames are counted and
// locked like real ones, so the lock reveals nothing about who exists.
//
// Counts live in memory, in two tables. Existing users' counts are never
// evicted (an entry goes only once stale, reset, or its user deleted), so
// no flood of made-up names can stop a real user being counted. Names no
// user has are held apart, at most 65536 of them; when full, the name
// whose latest failure is oldest is forgotten, lock and all, so only a
// flood of that many fresh names can end a made-up name's lock early. A
// lock on an existing user is also stored in the user's entry, so it
// survives a restart or a failover. Setting a
// user's password (users/{username} or users/{username}/password) clears
// the user's lock and count: that is how an operator unlocks a user early.
//
// # Storage
//
//	config            the Config, JSON
//	user/{username}   the user's hash, token settings and lock, JSON
package userpass
