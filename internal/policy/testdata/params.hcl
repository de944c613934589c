path "auth/userpass/users/*" {
  capabilities       = ["create", "update"]
  allowed_parameters = {
    "password"       = []
    "token_policies" = ["default", "dev-*"]
    "*"              = []
  }
  denied_parameters = {
    "token_policies" = ["root", "*admin*"]
  }
  required_parameters = ["password"]
}

path "sys/wrapping/wrap" {
  capabilities     = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
}
