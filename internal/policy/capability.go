package policy

import (
	"fmt"
	"strings"
)

// Capability is a set of permissions on a path, kept as a bitmask. The zero
// value grants nothing.
type Capability uint16

// The capabilities a policy can grant. Deny is not a permission but an
// override: a rule that holds it grants nothing, whatever else it lists.
const (
	Deny Capability = 1 << iota
	Create
	Read
	Update
	Patch
	Delete
	List
	Sudo
)

// All is every grantable capability (everything but Deny). A root ACL holds
// All on every path.
const All = Create | Read | Update | Patch | Delete | List | Sudo

// capNames lists every capability by its policy name, sorted by name; Names
// relies on the order.
var capNames = [...]struct {
	name string
	c    Capability
}{
	{"create", Create},
	{"delete", Delete},
	{"deny", Deny},
	{"list", List},
	{"patch", Patch},
	{"read", Read},
	{"sudo", Sudo},
	{"update", Update},
}

// ParseCapability returns the capability named name ("read", "sudo", …).
// Names are case-sensitive, as in Vault. Vault's "subscribe" and "recover"
// and OpenBao's "scan" are rejected: Ward has no operation they could guard.
func ParseCapability(name string) (Capability, error) {
	for _, e := range capNames {
		if e.name == name {
			return e.c, nil
		}
	}
	switch name {
	case "subscribe", "recover", "scan":
		return 0, fmt.Errorf("parse capability: %q is not supported by Ward", name)
	}
	return 0, fmt.Errorf("parse capability: unknown capability %q", name)
}

// Has reports whether c holds every capability in x.
func (c Capability) Has(x Capability) bool { return c&x == x }

// Names returns the capability names as Vault reports them (for example in
// sys/capabilities-self): sorted, and ["deny"] when c grants nothing — that
// is, when c is zero or holds Deny.
func (c Capability) Names() []string {
	if c == 0 || c&Deny != 0 {
		return []string{"deny"}
	}
	var out []string
	for _, e := range capNames {
		if c&e.c != 0 {
			out = append(out, e.name)
		}
	}
	return out
}

// String lists the names of the bits set in c, comma-separated, or "none".
// Unlike Names it renders exactly what is set, which is what a log or a test
// failure needs.
func (c Capability) String() string {
	if c == 0 {
		return "none"
	}
	var b strings.Builder
	for _, e := range capNames {
		if c&e.c != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(e.name)
		}
	}
	if rest := c &^ (All | Deny); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "0x%x", uint16(rest))
	}
	return b.String()
}

// normalize applies the Deny override: a set holding Deny becomes Deny alone.
func (c Capability) normalize() Capability {
	if c&Deny != 0 {
		return Deny
	}
	return c
}

// legacyCapabilities maps the value of the pre-0.9 `policy = "…"` key to the
// capabilities it stands for.
func legacyCapabilities(v string) (Capability, bool) {
	const write = Create | Read | Update | Delete | List
	switch v {
	case "deny":
		return Deny, true
	case "read":
		return Read | List, true
	case "write":
		return write, true
	case "sudo":
		return write | Sudo, true
	}
	return 0, false
}
