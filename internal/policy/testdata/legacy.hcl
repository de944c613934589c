path "sys/*" {
  policy = "deny"
}

path "secret/*" {
  policy = "write"
}

path "secret/super-secret" {
  capabilities = ["deny"]
}

path "secret/public" {
  policy       = "read"
  capabilities = ["update"]
}
