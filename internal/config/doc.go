// Package config reads Ward's server configuration file.
//
// The file uses Vault's names, in HCL or in the equivalent JSON:
//
//	storage "bolt" {
//	  path = "/var/lib/ward"
//	}
//
//	listener "tcp" {
//	  address       = "0.0.0.0:8200"
//	  tls_cert_file = "/etc/ward/tls.crt"
//	  tls_key_file  = "/etc/ward/tls.key"
//	}
//
//	api_addr  = "https://ward.example.com:8200"
//	log_level = "info"
//
// Load reads a file and Parse decodes bytes. Both are strict: a key Ward
// does not know, a value of the wrong type or out of range is an error that
// names the file, the line and the field:
//
//	ward.hcl:4: listener "tcp": unknown field "adress"
//
// Parse checks each value; Validate checks the whole: one storage block with
// its required fields, at least one listener, TLS files unless tls_disable.
// The server applies command-line overrides to the parsed Config and then
// calls Validate. Default returns the values Parse starts from, and Dev the
// configuration of `ward server -dev`.
//
// # Settings
//
// Top level: storage (exactly one block), listener (one or more), seal,
// api_addr, cluster_addr, cluster_name, disable_mlock, ui, log_level
// (trace, debug, info, warn or warning, error; any case), log_format
// (standard, json), default_lease_ttl and max_lease_ttl (768h each).
//
// Storage types: bolt (path), inmem (no fields), raft (path, node_id, and
// any number of retry_join { leader_api_addr = "https://..." } blocks).
//
// Listener type tcp: address (127.0.0.1:8200), cluster_address, tls_disable,
// tls_cert_file, tls_key_file, tls_min_version (tls12 or tls13; tls12),
// max_request_size (bytes; 32 MiB), max_request_duration (90s).
//
// Seal type: shamir, the default, with no fields.
//
// # Values
//
// Booleans may be written true/false, 1/0, or as strings ("true", "1",
// "false", "0", ...). Integers may be quoted. Durations may be "90s", "1h30m", "7d" or a number of
// seconds. For max_request_size, max_request_duration and the lease TTLs, 0
// means the default, as in Vault.
//
// # Where Ward differs from Vault
//
// A negative max_request_size is an error (Vault reads it as "no limit"):
// Ward always limits request bodies. When only max_lease_ttl is set and it
// is below 768h, default_lease_ttl follows it down instead of failing.
// Settings Ward does not implement (telemetry, ha_storage, seal types other
// than shamir, ...) are errors rather than silently ignored.
package config
