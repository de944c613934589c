path "secret/data/{{identity.entity.id}}/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

path "secret/data/users/{{ identity.entity.name }}" {
  capabilities = ["read"]
}

path "secret/data/groups/{{identity.groups.names.ops.id}}/*" {
  capabilities = ["read", "list"]
}

path "kv/{{identity.entity.aliases.auth_userpass_1234.name}}/*" {
  capabilities = ["read"]
}

path "kv/team/{{identity.entity.metadata.team}}/*" {
  capabilities = ["read"]
}
