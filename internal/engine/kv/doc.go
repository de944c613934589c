// Package kv is Ward's key/value secret engine, in Vault's two flavours.
//
// Factory reads the mount option "version": "1" (or absent) gives a plain
// store where a write replaces the secret; "2" gives a versioned store with
// check-and-set, soft delete, undelete, destroy and per-key metadata. Both
// speak Vault's wire shapes (API-COMPAT.md §2.10 and §2.11).
//
// # KV version 1
//
//	{path...}           read, write (non-empty JSON object), delete, list
//
// A read's lease_duration is the secret's own "ttl" (or "lease") value when
// it parses as a duration, else the mount's default lease TTL (768h when the
// mount has none). It is an advisory refresh interval: no lease is created.
//
// Storage: the secret's JSON object under its own path.
//
// # KV version 2
//
//	config                   read, write: max_versions, cas_required, delete_version_after
//	data/{path...}           read (?version=N), write, patch (merge-patch), delete (latest)
//	delete/{path...}         write {"versions": [...]}: soft delete
//	undelete/{path...}       write {"versions": [...]}
//	destroy/{path...}        write {"versions": [...]}: wipes the data
//	metadata/{path...}       read, write, patch, delete (everything), list
//	subkeys/{path...}        read (?version=N, ?depth=N)
//
// Any other path answers 404 with a warning pointing at "ward kv".
//
// A deleted or destroyed version reads as 404 with the version's metadata in
// the body, as Vault does. A write with options.cas succeeds only if cas
// equals the key's current version (0: only if the key has no version yet);
// cas is mandatory when the mount's config or the key's metadata sets
// cas_required. max_versions (key, else mount, else 10) bounds the versions
// kept; older ones are removed, data and all, by the write or metadata
// change that goes past it. delete_version_after (the
// smaller of the key's and the mount's non-zero values) stamps each new
// version with a deletion time of created+after; whether that time has passed
// is decided at read time with Env.Now.
//
// Storage layout, inside the mount's view:
//
//	config                   JSON engine config
//	meta/<path>              JSON metadata of one secret (lists map onto this tree)
//	ver/<sha256(path)>/<n>   JSON data of version n
//
// Version data lives under a hash of the path, so version keys never collide
// with secret names and a secret's versions are the plain children of one
// folder. Writes to one secret are serialised by a striped lock; reads take
// no lock. Order on disk: a version's data is written before the metadata
// that points at it, and removed (destroy, pruning, metadata delete) before
// the metadata stops pointing at it, so a crash never leaves readable data
// behind a version the user destroyed; a version whose data is missing reads
// as destroyed.
//
// Secret paths are "/"-separated segments: no leading or trailing "/", no
// empty, "." or ".." segment, no control characters, at most 1024 bytes.
package kv
