// Package engine is the contract between core and the things mounted in it:
// secret engines (kv, cubbyhole, transit, ...), the token store, sys, and
// auth methods.
//
// Core resolves a request's mount by longest prefix, checks the caller's
// policies and hands the engine a Request whose Path is relative to the
// mount. The engine answers with a Response or an error. Engines never build
// HTTP answers: errors made with the sentinels in errors.go are mapped to
// status codes in one place (internal/httpapi).
//
// Most engines are a Mux of Paths:
//
//	m := engine.NewMux(
//		engine.Path{
//			Pattern: "data/{path...}",
//			Summary: "Read and write versions of a secret.",
//			Read:    b.readData,
//			Write:   b.writeData,
//			Exists:  b.dataExists,
//		},
//	)
//
// Request bodies are turned into typed structs with Decode, which accepts the
// weak typing Vault's CLI relies on (every value may arrive as a string).
package engine
