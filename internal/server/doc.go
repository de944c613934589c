// Package server is Ward's composition root: it reads the configuration,
// opens storage, builds core with the engine catalog, and serves the HTTP
// API on the configured listeners until a signal stops it.
//
// It is the only production package that names concrete implementations
// (bolt, inmem, kv, cubbyhole, sys, httpapi); everything below it works
// through contracts.
package server
