package config

import (
	"reflect"
	"strings"
	"testing"
)

const auditBase = `storage "inmem" {}
listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = true
}
`

func TestAuditBlocks(t *testing.T) {
	src := auditBase + `audit "file" {
  description = "main log"
  options {
    file_path = "/var/log/ward/audit.log"
    mode      = "0600"
    log_raw   = false
  }
}
audit "socket" {
  path = "siem"
  options = {
    address     = "127.0.0.1:9090"
    socket_type = "tcp"
  }
}
`
	c, err := Parse("ward.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Audit{
		{Type: "file", Path: "file/", Description: "main log", Line: 6,
			Options: map[string]string{"file_path": "/var/log/ward/audit.log", "mode": "0600", "log_raw": "false"}},
		{Type: "socket", Path: "siem/", Line: 14,
			Options: map[string]string{"address": "127.0.0.1:9090", "socket_type": "tcp"}},
	}
	if !reflect.DeepEqual(c.Audit, want) {
		t.Fatalf("audit = %+v\nwant    %+v", c.Audit, want)
	}
}

func TestAuditBlockErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`audit "syslog" {}`, `ward.hcl:6: audit "syslog": unknown audit device type (supported: file, socket)`},
		{`audit "file" { fiel_path = "x" }`, `ward.hcl:6: audit "file": unknown field "fiel_path"`},
		{`audit "file" { options { file_path = ["a"] } }`, `ward.hcl:6: audit "file": options: file_path must be a string, number or boolean`},
		{"audit \"file\" {}\naudit \"file\" {}", `ward.hcl:7: audit "file": path "file/" is already used by the audit block on line 6`},
	}
	for _, tt := range tests {
		_, err := Parse("ward.hcl", []byte(auditBase+tt.src+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v\nwant containing %q", tt.src, err, tt.want)
		}
	}
}
