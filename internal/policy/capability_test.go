package policy

import (
	"reflect"
	"testing"
)

func TestParseCapability(t *testing.T) {
	for _, name := range []string{"create", "read", "update", "patch", "delete", "list", "sudo", "deny"} {
		c, err := ParseCapability(name)
		if err != nil {
			t.Fatalf("ParseCapability(%q): %v", name, err)
		}
		if got := c.String(); got != name {
			t.Errorf("ParseCapability(%q).String() = %q", name, got)
		}
	}
	for _, name := range []string{"", "Read", "write", "root", "subscribe", "scan"} {
		if _, err := ParseCapability(name); err == nil {
			t.Errorf("ParseCapability(%q) succeeded", name)
		}
	}
}

func TestCapabilityNames(t *testing.T) {
	tests := []struct {
		c    Capability
		want []string
	}{
		{0, []string{"deny"}},
		{Deny | Read, []string{"deny"}},
		{Read | Update | List | Create, []string{"create", "list", "read", "update"}},
		{All, []string{"create", "delete", "list", "patch", "read", "sudo", "update"}},
	}
	for _, tt := range tests {
		if got := tt.c.Names(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.Names() = %v, want %v", tt.c, got, tt.want)
		}
	}
	if got := Capability(0).String(); got != "none" {
		t.Errorf("zero String = %q", got)
	}
	if got := (Read | Deny).String(); got != "deny,read" {
		t.Errorf("String = %q", got)
	}
	if !(Read | List).Has(Read) || (Read | List).Has(Read|Update) {
		t.Error("Has is wrong")
	}
}
