package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
)

// setter stores one decoded value; its error does not name the field.
type setter func(v ast.Node) error

// blockFunc decodes a nested block item; it reports its own errors.
type blockFunc func(item *ast.ObjectItem)

// block is one labelled block, such as listener "tcp" { ... }.
type block struct {
	label string // lower case
	line  int
	body  *ast.ObjectList
}

func (d *errorList) decodeConfig(root *ast.ObjectList, c *Config) {
	var storageLine int
	defaultTTLSet := false

	fields := map[string]setter{
		"api_addr":     urlField(&c.APIAddr),
		"cluster_addr": urlField(&c.ClusterAddr),
		"cluster_name": stringField(&c.ClusterName),
		"disable_mlock": func(n ast.Node) (err error) {
			c.DisableMlock, err = boolValue(n)
			return err
		},
		"ui": func(n ast.Node) (err error) {
			c.UI, err = boolValue(n)
			return err
		},
		"log_level": func(n ast.Node) error {
			s, err := stringValue(n)
			if err == nil {
				s, err = normalLogLevel(s)
			}
			if err == nil {
				c.LogLevel = s
			}
			return err
		},
		"log_format":        enumField(&c.LogFormat, logFormats, errLogFormat),
		"default_lease_ttl": ttlField(&c.DefaultLeaseTTL, DefaultLeaseTTL, &defaultTTLSet),
		"max_lease_ttl":     ttlField(&c.MaxLeaseTTL, DefaultMaxLeaseTTL, nil),
	}
	blocks := map[string]blockFunc{
		"storage": func(item *ast.ObjectItem) {
			for _, b := range d.labelledBlocks("storage", item) {
				if storageLine != 0 {
					d.errorf(b.line, "storage %q: only one storage block is allowed (the first is on line %d)", b.label, storageLine)
					continue
				}
				storageLine = b.line
				d.decodeStorage(b, &c.Storage)
			}
		},
		"listener": func(item *ast.ObjectItem) {
			for _, b := range d.labelledBlocks("listener", item) {
				if l, ok := d.decodeListener(b); ok {
					c.Listeners = append(c.Listeners, l)
				}
			}
		},
		"audit": func(item *ast.ObjectItem) {
			for _, b := range d.labelledBlocks("audit", item) {
				a := d.decodeAudit(b)
				for _, prev := range c.Audit {
					if prev.Path == a.Path {
						d.errorf(b.line, "audit %q: path %q is already used by the audit block on line %d", b.label, a.Path, prev.Line)
					}
				}
				c.Audit = append(c.Audit, a)
			}
		},
		"seal": func(item *ast.ObjectItem) {
			for _, b := range d.labelledBlocks("seal", item) {
				d.decodeSeal(b, c)
			}
		},
	}
	d.decodeBody("", root, fields, blocks)

	// Vault refuses max_lease_ttl below the default default_lease_ttl unless
	// both are set; Ward lets the default follow the maximum down.
	if !defaultTTLSet && c.DefaultLeaseTTL > c.MaxLeaseTTL {
		c.DefaultLeaseTTL = c.MaxLeaseTTL
	}
}

// auditTypes are the audit device types a configuration may declare.
var auditTypes = []string{"file", "socket"}

func (d *errorList) decodeAudit(b block) Audit {
	what := fmt.Sprintf("audit %q", b.label)
	a := Audit{Type: b.label, Path: b.label + "/", Options: map[string]string{}, Line: b.line}
	if !slices.Contains(auditTypes, b.label) {
		d.errorf(b.line, "%s: unknown audit device type (supported: %s)", what, strings.Join(auditTypes, ", "))
	}
	d.decodeBody(what, b.body, map[string]setter{
		"path":        stringField(&a.Path),
		"description": stringField(&a.Description),
	}, map[string]blockFunc{"options": func(item *ast.ObjectItem) {
		for _, obj := range d.plainBlocks(what+": options", item) {
			for _, opt := range obj.List.Items {
				key, ok := keyText(opt.Keys[0])
				if !ok {
					d.errorf(itemLine(opt), "%s: options: keys must be names", what)
					continue
				}
				v, _ := literal(opt.Val)
				switch v := v.(type) {
				case string:
					a.Options[key] = v
				case bool, int64, float64:
					a.Options[key] = fmt.Sprint(v)
				default:
					d.errorf(itemLine(opt), "%s: options: %s must be a string, number or boolean", what, key)
				}
			}
		}
	}})
	if !strings.HasSuffix(a.Path, "/") {
		a.Path += "/"
	}
	return a
}

func (d *errorList) decodeStorage(b block, s *Storage) {
	what := fmt.Sprintf("storage %q", b.label)
	*s = Storage{Type: b.label, Line: b.line}
	fields := map[string]setter{}
	var blocks map[string]blockFunc
	switch b.label {
	case StorageBolt:
		fields["path"] = stringField(&s.Path)
	case StorageInmem:
	case StorageRaft:
		fields["path"] = stringField(&s.Path)
		fields["node_id"] = stringField(&s.NodeID)
		blocks = map[string]blockFunc{"retry_join": func(item *ast.ObjectItem) {
			inner := what + ": retry_join"
			for _, obj := range d.plainBlocks(inner, item) {
				rj := RetryJoin{Line: obj.Lbrace.Line}
				if rj.Line == 0 {
					rj.Line = itemLine(item)
				}
				d.decodeBody(inner, obj.List, map[string]setter{
					"leader_api_addr": urlField(&rj.LeaderAPIAddr),
				}, nil)
				s.RetryJoin = append(s.RetryJoin, rj)
			}
		}}
	default:
		d.errorf(b.line, "%s: %v", what, errStorageType)
		return
	}
	d.decodeBody(what, b.body, fields, blocks)
}

func (d *errorList) decodeListener(b block) (Listener, bool) {
	what := fmt.Sprintf("listener %q", b.label)
	if b.label != ListenerTCP {
		d.errorf(b.line, "%s: %v", what, errListenerType)
		return Listener{}, false
	}
	l := DefaultListener()
	l.Line = b.line
	d.decodeBody(what, b.body, map[string]setter{
		"address":         hostPortField(&l.Address),
		"cluster_address": hostPortField(&l.ClusterAddress),
		"tls_disable": func(n ast.Node) (err error) {
			l.TLSDisable, err = boolValue(n)
			return err
		},
		"tls_cert_file":      stringField(&l.TLSCertFile),
		"tls_key_file":       stringField(&l.TLSKeyFile),
		"tls_client_ca_file": stringField(&l.TLSClientCAFile),
		"tls_min_version":    enumField(&l.TLSMinVersion, tlsVersions, errTLSVersion),
		"max_request_size": func(n ast.Node) error {
			v, err := intValue(n)
			switch {
			case err != nil:
				return err
			case v < 0:
				return errNegative
			case v == 0: // as in Vault, 0 means the default
				v = DefaultMaxRequestSize
			}
			l.MaxRequestSize = v
			return nil
		},
		"max_request_duration": durationField(&l.MaxRequestDuration, DefaultMaxRequestDuration),
	}, nil)
	return l, true
}

// decodeBody decodes the items of one block (or the file, when what is
// empty): each item is a field in fields or a nested block in blocks. Keys
// match case-insensitively, as in Vault; unknown and repeated fields are
// errors.
func (d *errorList) decodeBody(what string, body *ast.ObjectList, fields map[string]setter, blocks map[string]blockFunc) {
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	if body == nil {
		return
	}
	seen := map[string]int{}
	for _, item := range body.Items {
		line := itemLine(item)
		name, ok := "", len(item.Keys) > 0
		if ok {
			name, ok = keyText(item.Keys[0])
		}
		if !ok {
			d.errorf(line, "%sexpected a field name", prefix)
			continue
		}
		key := strings.ToLower(name)
		if decode, isBlock := blocks[key]; isBlock {
			decode(item)
			continue
		}
		set, known := fields[key]
		if !known {
			d.errorf(line, "%sunknown field %q", prefix, name)
			continue
		}
		if len(item.Keys) > 1 {
			d.errorf(line, "%s%s: must be a value, not a block", prefix, key)
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorf(line, "%s%s: set twice (first on line %d)", prefix, key, first)
			continue
		}
		seen[key] = line
		if err := set(item.Val); err != nil {
			d.errorf(line, "%s%s: %v", prefix, key, err)
		}
	}
}

// labelledBlocks returns the blocks of one item whose first key is kw, in
// any of the shapes HCL and JSON produce:
//
//	listener "tcp" { ... }                  HCL
//	listener { tcp { ... } }                HCL, nested
//	"listener": {"tcp": {...}}              JSON object
//	"listener": [{"tcp": {...}}, ...]       JSON list
//
// The JSON parser flattens objects whose members are all objects, so
// {"raft": {"retry_join": {...}}} arrives as one item with keys
// storage, raft, retry_join; keys after the label become the body.
func (d *errorList) labelledBlocks(kw string, item *ast.ObjectItem) []block {
	example := fmt.Sprintf(`must be a block with a type, such as %s "<type>" { ... }`, kw)
	if len(item.Keys) > 1 {
		line := itemLine(item)
		if p := item.Keys[1].Pos(); p.Line > 0 {
			line = p.Line
		}
		label, ok := keyText(item.Keys[1])
		if !ok {
			d.errorf(line, "%s: %s", kw, example)
			return nil
		}
		label = strings.ToLower(label)
		if len(item.Keys) > 2 {
			inner := &ast.ObjectItem{Keys: item.Keys[2:], Val: item.Val}
			return []block{{label: label, line: line, body: &ast.ObjectList{Items: []*ast.ObjectItem{inner}}}}
		}
		obj, ok := item.Val.(*ast.ObjectType)
		if !ok {
			d.errorf(line, "%s %q: %s", kw, label, example)
			return nil
		}
		return []block{{label: label, line: line, body: obj.List}}
	}

	// No label on the item itself: the typed blocks are nested inside.
	var nested []*ast.ObjectItem
	switch v := item.Val.(type) {
	case *ast.ObjectType:
		if v.List != nil {
			nested = v.List.Items
		}
	case *ast.ListType:
		for _, elem := range v.List {
			obj, ok := elem.(*ast.ObjectType)
			if !ok {
				d.errorf(itemLine(item), "%s: %s", kw, example)
				return nil
			}
			if obj.List != nil {
				nested = append(nested, obj.List.Items...)
			}
		}
	}
	if len(nested) == 0 {
		d.errorf(itemLine(item), "%s: %s", kw, example)
		return nil
	}
	var out []block
	for _, n := range nested {
		if _, isObj := n.Val.(*ast.ObjectType); len(n.Keys) == 0 || (len(n.Keys) == 1 && !isObj) {
			d.errorf(itemLine(n), "%s: %s", kw, example)
			return nil
		}
		keys := append([]*ast.ObjectKey{item.Keys[0]}, n.Keys...)
		out = append(out, d.labelledBlocks(kw, &ast.ObjectItem{Keys: keys, Val: n.Val})...)
	}
	return out
}

// plainBlocks returns the unlabelled blocks of an item, such as
// retry_join { ... }, which JSON writes as an object or a list of objects.
func (d *errorList) plainBlocks(what string, item *ast.ObjectItem) []*ast.ObjectType {
	var out []*ast.ObjectType
	switch v := item.Val.(type) {
	case *ast.ObjectType:
		out = append(out, v)
	case *ast.ListType:
		for _, elem := range v.List {
			obj, ok := elem.(*ast.ObjectType)
			if !ok {
				out = nil
				break
			}
			out = append(out, obj)
		}
	}
	if len(item.Keys) > 1 || len(out) == 0 {
		d.errorf(itemLine(item), "%s: must be a block { ... }", what)
		return nil
	}
	return out
}

func itemLine(item *ast.ObjectItem) int {
	if item == nil || len(item.Keys) == 0 || item.Keys[0] == nil {
		return 0
	}
	return item.Keys[0].Pos().Line
}

func stringField(dst *string) setter {
	return func(n ast.Node) (err error) {
		*dst, err = stringValue(n)
		return err
	}
}

func urlField(dst *string) setter {
	return func(n ast.Node) error {
		s, err := stringValue(n)
		if err == nil {
			err = checkURL(s)
		}
		if err == nil {
			*dst = s
		}
		return err
	}
}

func hostPortField(dst *string) setter {
	return func(n ast.Node) error {
		s, err := stringValue(n)
		if err == nil {
			err = checkHostPort(s)
		}
		if err == nil {
			*dst = s
		}
		return err
	}
}

func enumField(dst *string, allowed []string, bad error) setter {
	return func(n ast.Node) error {
		s, err := stringValue(n)
		if err == nil {
			s, err = canonical(s, allowed, bad)
		}
		if err == nil {
			*dst = s
		}
		return err
	}
}

// durationField stores a non-negative duration; 0 means def, as in Vault.
func durationField(dst *time.Duration, def time.Duration) setter {
	return func(n ast.Node) error {
		v, err := durationValue(n)
		if err != nil {
			return err
		}
		if v == 0 {
			v = def
		}
		*dst = v
		return nil
	}
}

// ttlField is durationField that also records that the field was set.
func ttlField(dst *time.Duration, def time.Duration, set *bool) setter {
	inner := durationField(dst, def)
	return func(n ast.Node) error {
		if set != nil {
			*set = true
		}
		return inner(n)
	}
}
