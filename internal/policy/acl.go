package policy

import (
	"fmt"
	"strings"
)

// ACL is the compiled, merged form of a token's policies. It is immutable and
// safe for concurrent use.
type ACL struct {
	root  bool
	exact map[string]*rule // patterns without wildcards
	globs globIndex        // patterns with "+" segments or a trailing "*"
	all   []*rule          // every rule, in order of first appearance
}

// rule is one merged pattern of an ACL.
type rule struct {
	glob
	perm PathRule
}

// Compile merges policies into an ACL.
//
// A policy named RootName makes the ACL root: it allows every operation on
// every path, sudo included, and ignores the other policies. Otherwise each
// rule's pattern is resolved against ident when templated; a rule whose
// template cannot be resolved (no entity, missing data, or a value that
// would widen the pattern — see TemplateData) is skipped silently, as Vault
// does. Rules with the same resulting pattern are merged (see PathRule):
// capabilities unioned with Deny winning, parameter constraints merged,
// the lowest wrapping TTL bounds kept.
//
// Compile fails only on a nil policy or a pattern that is invalid after
// resolution, which Parse never produces.
func Compile(policies []*Policy, ident TemplateData) (*ACL, error) {
	for _, p := range policies {
		if p == nil {
			return nil, fmt.Errorf("compile policies: nil policy")
		}
		if p.Name == RootName {
			return &ACL{root: true}, nil
		}
	}
	total := 0
	for _, p := range policies {
		total += len(p.Paths)
	}
	// Rules live in one slice, allocated once, so pointers into it stay valid.
	store := make([]rule, 0, total)
	merged := make(map[string]*rule, total)
	for _, p := range policies {
		for i := range p.Paths {
			src := &p.Paths[i]
			pattern := src.Pattern
			if src.Templated || strings.Contains(pattern, "{{") {
				var ok bool
				if pattern, ok = resolvePattern(pattern, &ident); !ok {
					continue
				}
			}
			if err := checkResolved(pattern); err != nil {
				return nil, fmt.Errorf("compile policy %q: path %q: %w", p.Name, pattern, err)
			}
			if r, ok := merged[pattern]; ok {
				mergeRule(&r.perm, src)
				continue
			}
			store = append(store, rule{glob: compileGlob(pattern), perm: cloneRule(src)})
			r := &store[len(store)-1]
			r.perm.Pattern = pattern
			r.perm.Capabilities = r.perm.Capabilities.normalize()
			merged[pattern] = r
		}
	}
	a := &ACL{exact: make(map[string]*rule, len(store)), all: make([]*rule, len(store))}
	for i := range store {
		r := &store[i]
		a.all[i] = r
		if r.exact() {
			a.exact[r.pattern] = r
		} else {
			a.globs.insert(r)
		}
	}
	a.globs.sort()
	return a, nil
}

// Root reports whether the ACL came from the root policy.
func (a *ACL) Root() bool { return a.root }

// Capabilities returns the capabilities the ACL grants on path: those of the
// single highest-priority pattern matching it (see the package doc), Deny
// when that pattern denies, and zero when nothing matches. A root ACL returns
// All. path is a request path without "/v1/" or a leading "/".
func (a *ACL) Capabilities(path string) Capability {
	if a.root {
		return All
	}
	if r := a.lookup(path, false); r != nil {
		return r.perm.Capabilities
	}
	return 0
}

// lookup returns the rule deciding path. For a list operation on "p/" it
// follows Vault: an exact rule for "p/" or "p", then the globs for "p", then
// the globs for "p/".
func (a *ACL) lookup(path string, list bool) *rule {
	if r, ok := a.exact[path]; ok {
		return r
	}
	trimmed, slash := strings.CutSuffix(path, "/")
	if list && slash {
		if r, ok := a.exact[trimmed]; ok {
			return r
		}
		if r := a.globs.best(trimmed); r != nil {
			return r
		}
	}
	return a.globs.best(path)
}

// AnyCapabilityUnder reports whether some rule granting anything (a
// capability other than Deny) has a pattern that could match prefix or a
// path below it. It answers the preflight of sys/internal/ui/mounts/<path>:
// may this token see that the mount exists? It is deliberately generous: a
// higher-priority deny on a particular path is not considered. A root ACL
// returns true.
func (a *ACL) AnyCapabilityUnder(prefix string) bool {
	if a.root {
		return true
	}
	for _, r := range a.all {
		c := r.perm.Capabilities
		if c != 0 && c&Deny == 0 && r.matchesUnder(prefix) {
			return true
		}
	}
	return false
}
