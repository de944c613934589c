package engine

import (
	"context"
	"strings"
)

// Handler answers one operation on one Path.
type Handler func(ctx context.Context, req *Request) (*Response, error)

// Path is one route of a Mux.
//
// Pattern is "/"-separated segments relative to the mount: a literal
// segment, "{name}" (exactly one non-empty segment) or, last only,
// "{name...}" (the rest of the path, possibly empty, slashes included).
// Matched values land in Request.Vars.
type Path struct {
	Pattern string
	// Summary is one line shown by ?help=1.
	Summary string

	Read   Handler
	List   Handler
	Delete Handler
	Patch  Handler
	// Write answers both create and update unless Create or Update is set.
	Write  Handler
	Create Handler
	Update Handler

	// Exists tells create from update for writes; nil means every write is
	// an update.
	Exists func(ctx context.Context, req *Request) (bool, error)

	// Sudo marks a root-protected path; Unauthenticated one that needs no token.
	Sudo            bool
	Unauthenticated bool

	segments []segment
}

type segment struct {
	literal string
	name    string
	rest    bool
}

// Mux routes requests to the first Path whose pattern matches. It
// implements Backend, ExistenceChecker and SpecialPaths.
type Mux struct {
	paths []*Path
}

// NewMux compiles the patterns of paths. It panics on a malformed pattern:
// patterns are program text, not input.
func NewMux(paths ...Path) *Mux {
	m := &Mux{}
	for i := range paths {
		p := paths[i]
		p.segments = compilePattern(p.Pattern)
		m.paths = append(m.paths, &p)
	}
	return m
}

func compilePattern(pattern string) []segment {
	if pattern == "" {
		return nil
	}
	parts := strings.Split(pattern, "/")
	segs := make([]segment, len(parts))
	for i, part := range parts {
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "...}"):
			if i != len(parts)-1 {
				panic("engine: {name...} must be the last segment of " + pattern)
			}
			segs[i] = segment{name: part[1 : len(part)-4], rest: true}
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			segs[i] = segment{name: part[1 : len(part)-1]}
		case strings.ContainsAny(part, "{}"):
			panic("engine: malformed segment in " + pattern)
		default:
			segs[i] = segment{literal: part}
		}
	}
	return segs
}

// match reports whether path matches p and fills vars, making the map
// when the path has variables; a nil vars only matches.
func (p *Path) match(path string, vars *map[string]string) bool {
	rest := path
	for i, s := range p.segments {
		if s.rest {
			setVar(vars, s.name, rest)
			return true
		}
		part, after, more := strings.Cut(rest, "/")
		if s.name == "" {
			if part != s.literal {
				return false
			}
		} else {
			if part == "" {
				return false
			}
			setVar(vars, s.name, part)
		}
		if i == len(p.segments)-1 {
			return !more
		}
		if !more {
			// The path ended early: only a final {name...} matches nothing.
			next := p.segments[i+1]
			if next.rest {
				setVar(vars, next.name, "")
				return true
			}
			return false
		}
		rest = after
	}
	return path == ""
}

func setVar(vars *map[string]string, name, value string) {
	if vars == nil {
		return
	}
	if *vars == nil {
		*vars = make(map[string]string, 2)
	}
	(*vars)[name] = value
}

// route finds the first Path matching path. A list may also reach a
// route without the trailing slash core adds to every list
// ("policies/acl/" lists through "policies/acl"); other operations never
// do, so a policy on an exact path cannot be sidestepped with a slash.
func (m *Mux) route(path string, op Operation) (*Path, map[string]string) {
	var vars map[string]string
	p := m.find(path, op, &vars)
	return p, vars
}

// find is route filling vars, or only matching when vars is nil.
func (m *Mux) find(path string, op Operation, vars *map[string]string) *Path {
	for _, p := range m.paths {
		if p.match(path, vars) {
			return p
		}
		if vars != nil {
			clear(*vars)
		}
	}
	if trimmed, ok := strings.CutSuffix(path, "/"); ok && trimmed != "" && op == OpList {
		return m.find(trimmed, op, vars)
	}
	return nil
}

// Handle implements Backend.
func (m *Mux) Handle(ctx context.Context, req *Request) (*Response, error) {
	p, vars := m.route(req.Path, req.Operation)
	if p == nil {
		return nil, Errorf(ErrUnsupportedPath, "no handler for route %q. route entry not found.", req.MountPath+req.Path)
	}
	req.Vars = vars
	if req.Operation == OpHelp {
		return &Response{Data: map[string]any{"help": p.Summary}}, nil
	}
	h := p.handler(req.Operation)
	if h == nil {
		return nil, Errorf(ErrUnsupportedOperation, "unsupported operation")
	}
	return h(ctx, req)
}

func (p *Path) handler(op Operation) Handler {
	switch op {
	case OpRead:
		return p.Read
	case OpList:
		return p.List
	case OpDelete:
		return p.Delete
	case OpPatch:
		return p.Patch
	case OpCreate:
		if p.Create != nil {
			return p.Create
		}
		if p.Write != nil {
			return p.Write
		}
		return p.Update
	case OpUpdate:
		if p.Update != nil {
			return p.Update
		}
		if p.Write != nil {
			return p.Write
		}
		return p.Create
	}
	return nil
}

// Exists implements ExistenceChecker.
func (m *Mux) Exists(ctx context.Context, req *Request) (found, supported bool, err error) {
	p, vars := m.route(req.Path, req.Operation)
	if p == nil || p.Exists == nil {
		return false, false, nil
	}
	req.Vars = vars
	found, err = p.Exists(ctx, req)
	return found, true, err
}

// Special implements SpecialPaths.
func (m *Mux) Special(path string, op Operation) (sudo, unauthenticated bool) {
	p := m.find(path, op, nil)
	if p == nil {
		return false, false
	}
	return p.Sudo, p.Unauthenticated
}
