package config

import (
	"strings"
	"testing"
)

func TestParseTransitSeal(t *testing.T) {
	src := `
storage "inmem" {}
listener "tcp" { tls_disable = true }
seal "transit" {
  address         = "https://central.example.com:8200"
  token           = "ws.canary-seal-token"
  key_name        = "autounseal"
  mount_path      = "transit/"
  disable_renewal = "true"
  tls_ca_cert     = "/etc/ward/ca.pem"
  tls_server_name = "central"
  tls_skip_verify = false
}
seal "shamir" {
  disabled = "false"
}
`
	_, err := Parse("ward.hcl", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "only one enabled seal block") {
		t.Fatalf("two enabled seals: %v", err)
	}
	src = strings.Replace(src, "seal \"shamir\" {\n  disabled = \"false\"\n}", "seal \"transit\" {\n  disabled = true\n  address = \"https://old:8200\"\n  key_name = \"old\"\n}", 1)
	c, err := Parse("ward.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := TransitSeal{
		Address: "https://central.example.com:8200", Token: "ws.canary-seal-token", KeyName: "autounseal",
		MountPath: "transit/", DisableRenewal: true, TLSCACert: "/etc/ward/ca.pem", TLSServerName: "central",
	}
	if c.Seal == nil || c.Seal.Type != SealTransit || c.Seal.Disabled || c.Seal.Transit != want || c.Seal.Line != 4 {
		t.Fatalf("Seal = %+v", c.Seal)
	}
	if c.OldSeal == nil || !c.OldSeal.Disabled || c.OldSeal.Transit.KeyName != "old" || c.OldSeal.Line != 14 {
		t.Fatalf("OldSeal = %+v", c.OldSeal)
	}
	if s := c.Seal.Transit.String(); strings.Contains(s, "canary") || !strings.Contains(s, "REDACTED") {
		t.Fatalf("String() = %q", s)
	}
}
