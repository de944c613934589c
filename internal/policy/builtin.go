package policy

// DefaultPolicy is the initial text of the "default" policy, which every
// token carries unless it was created without it. It grants the paths of
// Vault CE's default policy, so clients that rely on them keep working.
// Operators may edit it; it cannot be deleted.
const DefaultPolicy = `# The default policy: what every token may do with itself.
# Ward attaches it to each new token unless the token is created with
# no_default_policy. Edit it with care: every token in the system gets it.

# Look up the calling token's own properties.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Extend the calling token's own lease.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Revoke the calling token.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Ask which capabilities the calling token has on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Read the entity the token belongs to, by id and by name.
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}

path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# The web UI reads the token's resultant ACL to decide what to show.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Renew and look up leases; sys/renew is the older name of sys/leases/renew.
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Each token's private cubbyhole: full access to its own space.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Wrap values, and look up or unwrap wrapping tokens handed to this token.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# Hash data with the server's hashing tool.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}

# Request control-group authorisation. Ward has no control groups; the path
# is kept so policies copied from Vault read the same.
path "sys/control-group/request" {
  capabilities = ["update"]
}

# Authorise against an OIDC provider served by this server.
path "identity/oidc/provider/+/authorize" {
  capabilities = ["read", "update"]
}
`

// ResponseWrappingPolicy is the policy of response-wrapping tokens: they may
// read the wrapped response from their cubbyhole and unwrap it, nothing more.
// It is internal and cannot be assigned to other tokens.
const ResponseWrappingPolicy = `# Response-wrapping tokens: fetch the wrapped response, nothing else.
path "cubbyhole/response" {
  capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
`
