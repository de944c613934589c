// Package audit records every request and response that passes core, in
// the shape of Vault's audit entries, with every secret replaced by its
// HMAC and every entry chained to the one before it, so that an edited,
// deleted, reordered or truncated line is detectable.
//
// # Recording
//
// Core hands the Broker one Entry for the request and one for the
// response of each API call:
//
//	b := audit.NewBroker(audit.BrokerOptions{Logger: log})
//	err := b.Add("file/", dev, key, audit.DefaultOptions()) // dev from audit/file or audit/socket
//	...
//	if err := b.Log(ctx, entry); err != nil { // errors.Is(err, audit.ErrNotRecorded)
//		// refuse the request: no device recorded it
//	}
//
// For each device the Broker copies the entry, replaces every token,
// accessor and every string inside request and response data with
// "hmac-sha256:<hex>" (HMAC-SHA256 keyed by that device's own key), stamps
// the device's next sequence number and the hash of its previous line, and
// writes one line of compact JSON. Log succeeds if at least one device
// recorded the entry (or none is enabled); otherwise the request is
// refused: auditing fails closed. Devices are written concurrently; a
// device that does not finish within BrokerOptions.Timeout fails that
// entry and never stalls the server.
//
// Options follow Vault: hmac_accessor=false (Options.HMACAccessor) leaves
// token accessors readable, log_raw=true (Options.LogRaw) writes secrets
// in the clear. To find a known value in the log, compute its HMAC with
// Broker.Hash (sys/audit-hash) and search for it. Empty strings are
// written as "" and numbers, booleans and null are kept, since they are
// rarely secret and HMACs of them would be easy to guess anyway.
//
// # The hash chain
//
// Each line carries "seq" (1, 2, 3, … per device) and "prev_hash", the
// hex SHA-256 of the device's previous line exactly as written, without
// its newline (LineHash). The first line of a chain has seq 1 and an empty
// prev_hash. A file device reads its last line back when it opens, so the
// chain continues across restarts and across rotated files; a socket
// device cannot, and a server restart starts a new chain there.
//
// Verify (`ward audit verify FILE...`) walks the chain and reports the
// first broken line as a *ChainError naming the file and line. What it
// cannot see: lines removed from the end of the log, or an edit of the very
// last line, leave a shorter intact chain. Summary.LastSeq and
// Summary.LastHash let an operator compare the log with the head the
// server reports (Broker.Head). And the chain is unkeyed: it proves that a
// log was not edited by someone who did not also rewrite every later line;
// keep a copy of recent heads, or ship the log elsewhere, to catch that.
package audit
