storage "raft" {
  path    = "/var/lib/ward/raft"
  node_id = "node-1"

  retry_join {
    leader_api_addr = "https://ward-1.internal:8200"
  }
  retry_join {
    leader_api_addr = "https://ward-2.internal:8200"
  }
  retry_join {
    leader_api_addr = "https://ward-3.internal:8200"
  }
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_cert_file   = "/etc/ward/tls/node.crt"
  tls_key_file    = "/etc/ward/tls/node.key"
}

listener "tcp" {
  address              = "127.0.0.1:8300"
  tls_disable          = "true"
  max_request_size     = 1048576
  max_request_duration = 30
}

seal "shamir" {}

api_addr     = "https://ward-1.internal:8200"
cluster_addr = "https://ward-1.internal:8201"
default_lease_ttl = 3600
max_lease_ttl     = "7d"
