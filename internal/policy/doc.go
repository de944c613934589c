// Package policy parses Vault-compatible ACL policies and decides requests
// against them. It does no I/O: callers load policy text, resolve a token's
// identity, and ask.
//
// # Writing policies
//
// A policy is HCL (or the same structure in JSON) made of path blocks:
//
//	path "secret/data/team-a/*" {
//	  capabilities = ["create", "read", "update", "list"]
//	}
//	path "secret/data/team-a/prod/*" {
//	  capabilities = ["deny"]
//	}
//
// Capabilities are create, read, update, patch, delete, list, sudo and deny
// (see Capability). The legacy key `policy = "read"|"write"|"deny"|"sudo"`
// is still accepted. A block may also constrain request data with
// allowed_parameters, denied_parameters and required_parameters, and bound
// response wrapping with min_wrapping_ttl and max_wrapping_ttl; see
// ACL.Allowed for the exact rules. Parse is strict: an unknown key or
// capability is an error naming its line. DecodeText unwraps the base64
// form that clients may send.
//
// # Patterns and precedence
//
// A pattern is matched against the request path (without "/v1/"):
//
//	secret/foo      only secret/foo
//	secret/foo*     anything starting with secret/foo ("*" must be last)
//	secret/+/bar    "+" is exactly one path segment
//	secret/+/bar/*  both combined
//
// Only the single highest-priority pattern that matches a path decides it;
// capabilities are never combined across different patterns. Between two
// matching patterns the higher one is, in order: the one whose first "+" or
// "*" comes later; the one not ending in "*"; the one with fewer "+"
// segments; the longer one; the lexicographically larger one. So an exact
// `secret/foo {read}` wins over `secret/* {deny}` for secret/foo — deny
// only overrides within the pattern that decides. A path no pattern matches
// is denied.
//
// The same pattern in several of a token's policies is merged before that:
// capabilities are unioned, deny wins, parameter constraints are merged and
// the lowest wrapping bounds are kept.
//
// # Templates
//
// A pattern may hold identity placeholders, resolved per token by Compile:
//
//	path "secret/data/{{identity.entity.id}}/*" { capabilities = ["read"] }
//
// The supported placeholders are those of Vault: identity.entity.id, .name,
// .metadata.<key>, .aliases.<mount accessor>.{id,name,metadata.<key>,
// custom_metadata.<key>}, identity.groups.ids.<id>.{name,metadata.<key>} and
// identity.groups.names.<name>.{id,metadata.<key>}. A block whose
// placeholders cannot be resolved is skipped. So is a block whose value
// contains "/", "*", "+" or "{{" (or is empty, "." or ".."): identity data
// such as entity and alias names may be chosen by the user, and must never
// widen the path it is substituted into.
//
// # Using an ACL
//
// Compile turns a token's policies into an ACL, indexed so that a check
// costs about the length of the path whatever the number of rules. A policy
// named "root" makes a root ACL that allows everything. Then:
//
//	acl, err := policy.Compile(policies, identity)
//	res := acl.Allowed(policy.Check{Path: "secret/data/x", Op: policy.Read})
//	caps := acl.Capabilities("secret/data/x") // for sys/capabilities-self
//	ok := acl.AnyCapabilityUnder("secret/")   // mount preflight
//
// DefaultPolicy and ResponseWrappingPolicy hold the text of the built-in
// policies.
package policy
