// Package storagetest is the conformance suite for storage.Backend.
//
// Every backend (inmem, bolt, raft) and every Backend wrapper (the barrier)
// runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Backend {
//			return inmem.New()
//		})
//	}
//
// Run calls newBackend once per subtest, so each subtest starts from an empty
// store; use t.TempDir and t.Cleanup inside newBackend for anything that must
// be removed or closed. The suite talks to the backend only through the
// storage.Backend interface and the storage package helpers (Sub, List,
// DeletePrefix), so a wrapper that is itself a Backend can run it unchanged.
//
// What it checks, one subtest each: missing keys give storage.ErrNotFound,
// round trips, overwrites and deletes, empty and binary values, that no slice
// is shared between caller and store, List's shape (direct children only,
// folders once with a trailing "/", byte-wise sorted, at the root and at
// nested prefixes, keys that share prefixes), invalid keys and prefixes are
// rejected with an error rather than a panic, a cancelled context fails every
// operation, concurrent use from many goroutines (run with -race), Sub views
// and DeletePrefix.
package storagetest
