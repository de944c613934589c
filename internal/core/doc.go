// Package core is Ward's heart: the seal lifecycle (init, unseal, seal,
// rotate) and the request pipeline every API call takes.
//
// A request reaches Handle with its full path ("secret/data/app/db"). Core
// refuses it while sealed, routes it to the owning mount by longest prefix,
// resolves the caller's token, decides create versus update with the engine's
// existence check, checks the caller's policies (sudo where the engine marks
// a path root-protected), spends one use of a limited token, calls the
// engine, wraps the answer when the caller asked for response wrapping, and
// revokes a token whose last use this was. Authorize runs the same steps,
// up to the engine, for the few requests httpapi answers itself because
// their bodies stream (raft snapshots).
//
// Core owns the mount table, the policy store and the token store. It never
// imports an engine implementation, httpapi or sys: the composition root
// (internal/server) hands it engine factories by type, and sys reaches core
// through the narrow interfaces sys declares.
package core
