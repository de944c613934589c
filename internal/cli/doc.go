// Package cli is Ward's command line: `ward <command> [flags] [args]`.
// Run is the whole interface; cmd/ward calls it with the process's
// arguments and streams and exits with its result.
//
// Every command except `ward server` is an API client: it talks to a
// server only through the public client package, exactly as any other
// program would, so the CLI can do nothing the HTTP API cannot.
//
// # Layout
//
// One file per command group (kv.go, token.go, operator.go, …). Each file
// registers its commands in an init function with a name ("kv put"), a
// one-line synopsis and a help text that ends in an example. command.go
// holds what all commands share: flag parsing (Go's flag package,
// Vault-style single-dash flags, which may also follow the positional
// arguments), the global flags and environment, and building the client.
// output.go renders responses as Vault-like tables or as indented JSON;
// errors.go prints failures as an "error:" line plus "hint:" lines.
//
// # Environment
//
// WARD_ADDR, WARD_TOKEN, WARD_CACERT, WARD_SKIP_VERIFY and WARD_FORMAT,
// each falling back to its VAULT_* name when unset (set but empty, a
// WARD_* variable hides its fallback). The token is WARD_TOKEN, else
// VAULT_TOKEN, else the one `ward login` saved in ~/.ward-token (mode
// 0600, written via a temporary file and a rename). Environment variables
// and flags are read here and in internal/server only.
//
// # Exit codes
//
// 0 success; 1 the operation failed (the server refused or errored, or a
// local file could not be used); 2 usage error. As in Vault, `ward status`
// also exits 2 for a sealed server and `ward operator init -status` for an
// uninitialized one. (Vault uses 1 for usage errors and 2 for API errors;
// Ward keeps "your invocation is wrong" apart from "the server said no".)
//
// # Output
//
// -format=table (default) prints Key/Value tables; -format=json prints the
// response envelope (or the relevant object) indented. Server warnings go
// to stderr as "warning:" lines so stdout stays parseable. -field=NAME on
// the read-style commands prints one value alone.
package cli
