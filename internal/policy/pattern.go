package policy

import (
	"errors"
	"strings"
)

// checkPattern validates a path pattern as written in a policy and reports
// whether it is templated. The pattern has had its leading "/" removed.
func checkPattern(p string) (templated bool, err error) {
	if p == "" {
		return false, errors.New("empty path pattern")
	}
	parts, err := parseTemplate(p)
	if err != nil {
		return false, err
	}
	for i, part := range parts {
		if part.sel != nil {
			templated = true
			continue
		}
		star := strings.IndexByte(part.lit, '*')
		if star >= 0 && (star != len(part.lit)-1 || i != len(parts)-1) {
			return false, errors.New(`"*" is only allowed as the last character`)
		}
	}
	if strings.Contains(p, "+*") {
		return false, errors.New(`"+*" is not allowed; use "+/*" or "+"`)
	}
	return templated, nil
}

// checkResolved validates a pattern after template resolution (or one built
// without Parse): Compile's last line of defence.
func checkResolved(p string) error {
	if p == "" {
		return errors.New("empty path pattern")
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return errors.New(`"*" is only allowed as the last character`)
	}
	if strings.Contains(p, "+*") {
		return errors.New(`"+*" is not allowed`)
	}
	if strings.Contains(p, "{{") || strings.Contains(p, "}}") {
		return errors.New("unresolved template")
	}
	return nil
}

// glob is a compiled path pattern.
//
// A pattern is "/"-separated segments. A segment that is exactly "+" matches
// any one segment (any characters but "/"); a trailing "*" makes the pattern
// a prefix match. The literal prefix is the text before the first wildcard;
// its length is the "first wildcard position" of the precedence rules.
type glob struct {
	pattern string   // as compiled
	core    string   // pattern without its trailing "*"
	star    bool     // pattern ends in "*"
	plus    int      // number of "+" segments
	segs    []string // core split on "/", only when plus > 0
	lit     int      // length of the literal prefix
}

func compileGlob(p string) glob {
	g := glob{pattern: p, core: p}
	if strings.HasSuffix(p, "*") {
		g.star = true
		g.core = p[:len(p)-1]
	}
	g.lit = len(g.core)
	if g.core != "+" && !strings.HasPrefix(g.core, "+/") && !strings.Contains(g.core, "/+") {
		return g // no "+" segment
	}
	segs := strings.Split(g.core, "/")
	off := 0
	for _, s := range segs {
		if s == "+" {
			if g.plus == 0 {
				g.lit = off
			}
			g.plus++
		}
		off += len(s) + 1
	}
	if g.plus > 0 {
		g.segs = segs
	}
	return g
}

// exact reports whether the pattern matches only itself.
func (g *glob) exact() bool { return !g.star && g.plus == 0 }

// match reports whether path matches the pattern.
func (g *glob) match(path string) bool { return g.walk(path, false) }

// matchesUnder reports whether some path starting with prefix (prefix itself
// included) matches the pattern.
func (g *glob) matchesUnder(prefix string) bool { return g.walk(prefix, true) }

// walk matches s against the pattern. With partial set, running out of s
// before the pattern is exhausted counts as a match, since s could be
// extended to fit. Because "+" never crosses a "/", matching is a single
// deterministic pass.
func (g *glob) walk(s string, partial bool) bool {
	if g.plus == 0 {
		if partial && len(s) <= len(g.core) {
			return strings.HasPrefix(g.core, s)
		}
		if g.star {
			return strings.HasPrefix(s, g.core)
		}
		return s == g.core
	}
	i := 0
	last := len(g.segs) - 1
	for k, seg := range g.segs {
		if seg == "+" {
			if j := strings.IndexByte(s[i:], '/'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
		} else {
			rest := s[i:]
			if len(rest) < len(seg) {
				return partial && strings.HasPrefix(seg, rest)
			}
			if rest[:len(seg)] != seg {
				return false
			}
			i += len(seg)
		}
		if k == last {
			break
		}
		if i == len(s) {
			return partial
		}
		if s[i] != '/' {
			return false
		}
		i++
	}
	return i == len(s) || g.star
}

// higher reports whether a takes precedence over b, two patterns that both
// match a path. Vault's order, highest first: the first wildcard ("+" or
// "*") comes later; not ending in "*"; fewer "+" segments; longer; and
// finally lexicographically larger.
func higher(a, b *glob) bool {
	if a.lit != b.lit {
		return a.lit > b.lit
	}
	if a.star != b.star {
		return !a.star
	}
	if a.plus != b.plus {
		return a.plus < b.plus
	}
	if len(a.core) != len(b.core) {
		return len(a.core) > len(b.core)
	}
	return a.core > b.core
}
