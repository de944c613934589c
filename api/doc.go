// Package api holds Ward's public wire types: the JSON envelope every logical
// response uses, the error body, header names, and the bare bodies of the
// seal, init, health and leader endpoints.
//
// The shapes are those of the HashiCorp Vault HTTP API, so a response Ward
// writes decodes with Vault's own clients and a response Vault writes decodes
// with these types. The package depends on the standard library only; both the
// server (internal/httpapi) and the Go client (client) build on it.
package api
