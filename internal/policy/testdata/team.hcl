# A team policy for a KV v2 mount, with a denied production subtree.
path "secret/data/team-a/*" {
  capabilities = ["create", "read", "update", "patch", "list"]
}

path "secret/metadata/team-a/*" {
  capabilities = ["read", "list", "delete"]
}

path "secret/data/team-a/prod/*" {
  capabilities = ["deny"]
}

path "secret/data/+/shared" {
  capabilities = ["read"]
}

path "/transit/encrypt/team-a" {
  capabilities = ["update"]
  comment      = "leading slash is accepted and dropped"
}
