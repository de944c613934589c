package api

// Version is Ward's release version, a semantic version as Vault's clients
// require in sys/seal-status and sys/health (Terraform's provider parses it).
const Version = "0.1.0"
