// Package httpapi is Ward's HTTP front: it turns /v1/... requests into
// engine requests for core and core's answers into the Vault wire format.
//
// It is the one place that maps errors to HTTP status codes (errors.go),
// the one place that knows the envelope's JSON shape (respond.go), and the
// home of the bare lifecycle endpoints that must work while the server is
// sealed: sys/init, sys/seal-status, sys/unseal, sys/health and sys/leader
// (lifecycle.go). The raft snapshot endpoints stream their bodies, which
// an engine response cannot, so they are served here too (snapshot.go),
// after core.Authorize has run the token, ACL and audit steps.
package httpapi
