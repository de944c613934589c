package policy

import (
	"errors"
	"fmt"
	"strings"
)

// TemplateData is what Compile knows about the token's identity for resolving
// templated paths. The zero value means the token has no entity: every
// templated path is then skipped.
type TemplateData struct {
	EntityID       string
	EntityName     string
	EntityMetadata map[string]string
	// Aliases holds the entity's aliases keyed by the mount accessor of
	// their auth method ("auth_userpass_1a2b3c4d").
	Aliases map[string]Alias
	// Groups are the groups the entity belongs to, directly or inherited.
	Groups []Group
}

// Alias is an entity alias as templates see it.
type Alias struct {
	ID             string
	Name           string
	Metadata       map[string]string
	CustomMetadata map[string]string
}

// Group is an identity group as templates see it.
type Group struct {
	ID       string
	Name     string
	Metadata map[string]string
}

// selKind enumerates the placeholders a path template may use.
type selKind uint8

const (
	selEntityID selKind = iota
	selEntityName
	selEntityMeta
	selAliasID
	selAliasName
	selAliasMeta
	selAliasCustomMeta
	selGroupIDName
	selGroupIDMeta
	selGroupNameID
	selGroupNameMeta
)

// selector is one parsed {{…}} placeholder: its kind, the alias accessor or
// group id/name it names (ref), and the metadata key (key).
type selector struct {
	kind selKind
	ref  string
	key  string
}

// tmplPart is a literal run of a pattern or a placeholder.
type tmplPart struct {
	lit string
	sel *selector
}

// parseTemplate splits p into literal text and placeholders. "{{" without a
// closing "}}", a "}}" without an opening "{{", a nested "{{" and an
// unknown placeholder are errors. Spaces inside the braces are ignored.
func parseTemplate(p string) ([]tmplPart, error) {
	var parts []tmplPart
	for p != "" {
		open := strings.Index(p, "{{")
		if open < 0 {
			if strings.Contains(p, "}}") {
				return nil, errors.New(`template has "}}" without "{{"`)
			}
			parts = append(parts, tmplPart{lit: p})
			break
		}
		if lit := p[:open]; lit != "" {
			if strings.Contains(lit, "}}") {
				return nil, errors.New(`template has "}}" without "{{"`)
			}
			parts = append(parts, tmplPart{lit: lit})
		}
		rest := p[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return nil, errors.New(`template has "{{" without "}}"`)
		}
		inner := rest[:end]
		if strings.Contains(inner, "{{") {
			return nil, errors.New(`template has "{{" inside "{{…}}"`)
		}
		sel, err := parseSelector(strings.TrimSpace(inner))
		if err != nil {
			return nil, err
		}
		parts = append(parts, tmplPart{sel: sel})
		p = rest[end+2:]
	}
	return parts, nil
}

// parseSelector parses the text between "{{" and "}}".
func parseSelector(s string) (*selector, error) {
	bad := fmt.Errorf("unknown template %q", "{{"+s+"}}")
	switch s {
	case "identity.entity.id":
		return &selector{kind: selEntityID}, nil
	case "identity.entity.name":
		return &selector{kind: selEntityName}, nil
	}
	if key, ok := strings.CutPrefix(s, "identity.entity.metadata."); ok && key != "" {
		return &selector{kind: selEntityMeta, key: key}, nil
	}
	if rest, ok := strings.CutPrefix(s, "identity.entity.aliases."); ok {
		acc, attr, ok := strings.Cut(rest, ".")
		if !ok || acc == "" {
			return nil, bad
		}
		switch attr {
		case "id":
			return &selector{kind: selAliasID, ref: acc}, nil
		case "name":
			return &selector{kind: selAliasName, ref: acc}, nil
		}
		if key, ok := strings.CutPrefix(attr, "metadata."); ok && key != "" {
			return &selector{kind: selAliasMeta, ref: acc, key: key}, nil
		}
		if key, ok := strings.CutPrefix(attr, "custom_metadata."); ok && key != "" {
			return &selector{kind: selAliasCustomMeta, ref: acc, key: key}, nil
		}
		return nil, bad
	}
	if rest, ok := strings.CutPrefix(s, "identity.groups.ids."); ok {
		id, attr, ok := strings.Cut(rest, ".")
		if !ok || id == "" {
			return nil, bad
		}
		if attr == "name" {
			return &selector{kind: selGroupIDName, ref: id}, nil
		}
		if key, ok := strings.CutPrefix(attr, "metadata."); ok && key != "" {
			return &selector{kind: selGroupIDMeta, ref: id, key: key}, nil
		}
		return nil, bad
	}
	if rest, ok := strings.CutPrefix(s, "identity.groups.names."); ok {
		name, attr, ok := strings.Cut(rest, ".")
		if !ok || name == "" {
			return nil, bad
		}
		if attr == "id" {
			return &selector{kind: selGroupNameID, ref: name}, nil
		}
		if key, ok := strings.CutPrefix(attr, "metadata."); ok && key != "" {
			return &selector{kind: selGroupNameMeta, ref: name, key: key}, nil
		}
		return nil, bad
	}
	return nil, bad
}

// resolve returns the pattern with every placeholder replaced, or false when
// a placeholder cannot be resolved for d or resolves to an unsafe value.
//
// Security: identity data is partly user-controlled (entity names, alias
// names from an external IdP, metadata). A value that could change the shape
// of the pattern — one holding "*", "+", "/" or "{{", an empty value, "."
// or ".." — would let an identity widen its own access (an entity named
// "a/*" turning secret/{{identity.entity.name}} into secret/a/*). Such a
// value makes the block unresolvable, so it is skipped, exactly as if the
// data were missing. Substitution is a single pass: a value is never parsed
// as a template.
func (s *selector) resolve(d *TemplateData) (string, bool) {
	if d.EntityID == "" {
		return "", false
	}
	var v string
	var ok bool
	switch s.kind {
	case selEntityID:
		v, ok = d.EntityID, true
	case selEntityName:
		v, ok = d.EntityName, true
	case selEntityMeta:
		v, ok = d.EntityMetadata[s.key]
	case selAliasID, selAliasName, selAliasMeta, selAliasCustomMeta:
		var a Alias
		if a, ok = d.Aliases[s.ref]; ok {
			switch s.kind {
			case selAliasID:
				v = a.ID
			case selAliasName:
				v = a.Name
			case selAliasMeta:
				v, ok = a.Metadata[s.key]
			default:
				v, ok = a.CustomMetadata[s.key]
			}
		}
	case selGroupIDName, selGroupIDMeta:
		for _, g := range d.Groups {
			if g.ID == s.ref {
				if s.kind == selGroupIDName {
					v, ok = g.Name, true
				} else {
					v, ok = g.Metadata[s.key]
				}
				break
			}
		}
	case selGroupNameID, selGroupNameMeta:
		for _, g := range d.Groups {
			if g.Name == s.ref {
				if s.kind == selGroupNameID {
					v, ok = g.ID, true
				} else {
					v, ok = g.Metadata[s.key]
				}
				break
			}
		}
	}
	if !ok || !safeValue(v) {
		return "", false
	}
	return v, true
}

func safeValue(v string) bool {
	return v != "" && v != "." && v != ".." &&
		!strings.ContainsAny(v, "*+/") && !strings.Contains(v, "{{")
}

// resolvePattern resolves a templated pattern; see selector.resolve.
func resolvePattern(p string, d *TemplateData) (string, bool) {
	parts, err := parseTemplate(p)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	for _, part := range parts {
		if part.sel == nil {
			b.WriteString(part.lit)
			continue
		}
		v, ok := part.sel.resolve(d)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}
