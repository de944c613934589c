# A single production node with TLS.
storage "bolt" {
  path = "/var/lib/ward"
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "/etc/ward/tls/server.crt"
  tls_key_file    = "/etc/ward/tls/server.key"
  tls_min_version = "tls13"
}

api_addr          = "https://ward.example.com:8200"
disable_mlock     = false
ui                = true
log_level         = "Warning"
log_format        = "json"
default_lease_ttl = "1h"
max_lease_ttl     = "720h"
cluster_name      = "ward-prod"
