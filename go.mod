module github.com/wardsec/ward

go 1.26.8

require (
	github.com/hashicorp/hcl v1.0.1-vault-7
	github.com/rogpeppe/go-internal v1.16.0
	go.etcd.io/bbolt v1.5.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require golang.org/x/tools v0.38.0 // indirect
