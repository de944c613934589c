// Package client is the Go client for Ward's HTTP API. Because Ward speaks
// the HashiCorp Vault API, the client also works against Vault and OpenBao
// servers for the endpoints it covers.
//
// # Connecting
//
// A Config is plain data; nothing here reads the environment. Fill in what
// you need and call New:
//
//	c, err := client.New(&client.Config{
//		Address: "https://ward.example.com:8200",
//		Token:   token,          // sent as X-Vault-Token
//		CACert:  "/etc/ward/ca.pem",
//	})
//
// A nil Config means http://127.0.0.1:8200, no token, a 60 second timeout.
// A Client never changes after New and is safe for concurrent use;
// WithToken and WithWrapTTL return adjusted copies:
//
//	admin := c.WithToken(rootToken)
//	wrapped := c.WithWrapTTL("5m") // responses come back as wrapping tokens
//
// # Reading and writing secrets
//
// The KV helpers cover both versions of the key/value engine. If you do not
// know which version a mount runs, ask:
//
//	m, err := c.KVMount(ctx, "secret/app/db") // m.Path "secret/", m.Version 2
//
//	kv := c.KVv2("secret")
//	v, err := kv.Put(ctx, "app/db", map[string]any{"password": "s3cret"})
//	s, err := kv.Get(ctx, "app/db") // s.Data["password"], s.Metadata.Version
//	_, err = kv.Put(ctx, "app/db", newData, client.CAS(v.Version))
//
// Typed helpers report a missing secret with an error wrapping ErrNotFound,
// so errors.Is(err, client.ErrNotFound) tells "absent" from "failed".
//
// # Encrypting with transit
//
// Transit helpers take and return raw bytes; the base64 the API wants is
// handled here:
//
//	tr := c.Transit("transit")
//	ct, err := tr.Encrypt(ctx, "cards", []byte("4111111111111111"), nil) // "vault:v1:…"
//	pt, err := tr.Decrypt(ctx, "cards", ct, nil)
//	sig, err := tr.Sign(ctx, "release", artifact, &client.SignOptions{HashAlgorithm: "sha2-256"})
//
// EncryptBatch and DecryptBatch report a bad item in its TransitResult
// rather than failing the call.
//
// # Raw access
//
// Read, ReadWithData, List, Write, Delete and Patch reach any path under
// /v1/ and return the response envelope as an *api.Secret. As with Vault's
// own client, "nothing at this path" is (nil, nil) rather than an error, and
// a 404 that still carries data (a deleted KV v2 version) returns that data.
// Secret.Data is raw JSON: DataMap and DecodeData decode it keeping numbers
// as json.Number, so integers never turn into float64. RawRequest is the
// escape hatch for endpoints that do not answer with an envelope.
//
// # Errors
//
// Any answer with status 400 or more becomes a *ResponseError carrying the
// status and the server's messages; StatusCode(err) extracts the status and
// ResponseError.Sealed reports a sealed server. The client does not retry.
//
// # Operating a server
//
// Sys covers the lifecycle and configuration endpoints: Init, Unseal,
// SealStatus, Seal, Health, Leader, mounts (ListMounts, Mount, TuneMount,
// Unmount), auth methods, ACL policies, key rotation, capabilities and
// audit devices (EnableAudit, ListAudit, DisableAudit, and AuditHash to
// find a known value in an audit log), UnsealMigrate for a seal migration,
// and root token generation (GenerateRootInit, GenerateRootUpdate,
// DecodeRootToken).
// Tokens creates, looks up, renews and revokes tokens; Login and Unwrap
// cover the remaining auth flows.
//
// # Raft clusters
//
// RaftJoin (sent to the new node), RaftConfiguration, RaftRemovePeer and
// StepDown manage a cluster's members and its active node. RaftSnapshot
// and RaftRestore stream a snapshot of the whole store to and from any
// io.Writer or io.Reader without holding it in memory:
//
//	out, err := os.Create("ward.snap")
//	n, err := admin.Sys().RaftSnapshot(ctx, out)
//
//	// Later, on a new node (initialized on its own and unsealed):
//	in, err := os.Open("ward.snap")
//	err = admin.Sys().RaftRestore(ctx, in, true)
//	// It seals itself: unseal it with the old cluster's key shares.
//
// Config.Timeout bounds a whole transfer; use a longer (or negative) one
// for large snapshots.
package client
