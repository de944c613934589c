package core

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/storage"
)

const policyPrefix = "sys/policy/"

// Names of the built-in policies.
const (
	PolicyRoot     = "root"
	PolicyDefault  = "default"
	PolicyWrapping = "response-wrapping"
)

// policyStore keeps ACL policies in the barrier and compiled ACLs in
// memory. Policies are few and small, so all of them are parsed at unseal;
// reads take no lock (an immutable snapshot swapped on every change).
type policyStore struct {
	st storage.Backend

	mu       sync.Mutex // serializes writers
	policies atomic.Pointer[map[string]*policy.Policy]
	// acls caches compiled ACLs by policy set; replaced wholesale when any
	// policy changes.
	acls atomic.Pointer[sync.Map]
}

type storedPolicy struct {
	Name   string `json:"name"`
	Policy string `json:"policy"`
}

func loadPolicies(ctx context.Context, st storage.Backend) (*policyStore, error) {
	ps := &policyStore{st: storage.Sub(st, policyPrefix)}
	names, err := ps.st.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	all := map[string]*policy.Policy{}
	for _, name := range names {
		raw, err := ps.st.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("load policy %q: %w", name, err)
		}
		var sp storedPolicy
		if err := json.Unmarshal(raw, &sp); err != nil {
			return nil, fmt.Errorf("load policy %q: %w", name, err)
		}
		p, err := policy.Parse(sp.Name, sp.Policy)
		if err != nil {
			return nil, fmt.Errorf("load policy %q: %w", name, err)
		}
		all[name] = p
	}
	ps.policies.Store(&all)
	ps.acls.Store(&sync.Map{})
	if all[PolicyDefault] == nil {
		if err := ps.put(ctx, PolicyDefault, policy.DefaultPolicy); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// wrappingPolicy is the response-wrapping policy, parsed once.
var wrappingPolicy = sync.OnceValue(func() *policy.Policy {
	p, err := policy.Parse(PolicyWrapping, policy.ResponseWrappingPolicy)
	if err != nil {
		panic("core: the built-in response-wrapping policy does not parse: " + err.Error())
	}
	return p
})

// builtin returns the fixed policies that are not stored.
func builtin(name string) (*policy.Policy, bool) {
	if name == PolicyWrapping {
		return wrappingPolicy(), true
	}
	return nil, false
}

func (ps *policyStore) get(name string) *policy.Policy {
	return (*ps.policies.Load())[name]
}

func (ps *policyStore) names() []string {
	all := *ps.policies.Load()
	out := make([]string, 0, len(all)+1)
	for n := range all {
		out = append(out, n)
	}
	sort.Strings(out)
	return append(out, PolicyRoot)
}

// checkName refuses policy names that are not already in their stored
// form. Vault lower-cases names after its ACL check, so a token allowed
// sys/policies/acl/* but denied sys/policies/acl/admin could still rewrite
// "admin" as "ADMIN"; Ward refuses the unstored spelling instead.
func checkName(name string) error {
	if canon := strings.ToLower(strings.TrimSpace(name)); canon != name {
		return &engine.InputError{Field: "name", Rule: fmt.Sprintf("policy names are lower case without surrounding spaces: use %q", canon)}
	}
	return nil
}

func (ps *policyStore) put(ctx context.Context, name, text string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if name == PolicyRoot || name == PolicyWrapping {
		return engine.BadRequest("cannot update the %q policy", name)
	}
	p, err := policy.Parse(name, text)
	if err != nil {
		return engine.BadRequest("failed to parse policy: %v", err)
	}
	raw, err := json.Marshal(storedPolicy{Name: name, Policy: text})
	if err != nil {
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if err := ps.st.Put(ctx, name, raw); err != nil {
		return fmt.Errorf("write policy %q: %w", name, err)
	}
	ps.swap(func(m map[string]*policy.Policy) { m[name] = p })
	return nil
}

func (ps *policyStore) delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if name == PolicyRoot || name == PolicyDefault || name == PolicyWrapping {
		return engine.BadRequest("cannot delete the %q policy", name)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if err := ps.st.Delete(ctx, name); err != nil {
		return fmt.Errorf("delete policy %q: %w", name, err)
	}
	ps.swap(func(m map[string]*policy.Policy) { delete(m, name) })
	return nil
}

// swap applies change to a copy of the policy map and drops cached ACLs.
func (ps *policyStore) swap(change func(map[string]*policy.Policy)) {
	old := *ps.policies.Load()
	next := make(map[string]*policy.Policy, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	change(next)
	ps.policies.Store(&next)
	ps.acls.Store(&sync.Map{})
}

// identityView is what ACLs need from the identity store: the entity's
// template values, and a generation that changes whenever they may have.
type identityView interface {
	TemplateData(entityID string) policy.TemplateData
	Generation() uint64
}

// acl returns the compiled ACL for a set of policy names and an entity.
// ACLs are cached by policy set; a set with templated policies is cached
// per entity too, and recompiled when the identity generation moved (the
// entity's data may have changed), replacing its entry, so the cache holds
// at most one ACL per set and entity.
func (ps *policyStore) acl(names []string, entityID string, ident identityView) (*policy.ACL, error) {
	templated := ps.templated(names)
	key := strings.Join(names, "\x00")
	var gen uint64
	if templated && entityID != "" {
		key += "\x01" + entityID
		gen = ident.Generation()
	}
	cache := ps.acls.Load()
	if v, ok := cache.Load(key); ok {
		if c := v.(cachedACL); c.gen == gen {
			return c.acl, nil
		}
	}
	data := policy.TemplateData{}
	if templated && entityID != "" {
		data = ident.TemplateData(entityID)
	}
	acl, err := policy.Compile(ps.resolve(names), data)
	if err != nil {
		return nil, fmt.Errorf("compile acl: %w", err)
	}
	cache.Store(key, cachedACL{acl: acl, gen: gen})
	return acl, nil
}

// cachedACL is an ACL and the identity generation it was compiled at.
type cachedACL struct {
	acl *policy.ACL
	gen uint64
}

// resolve finds the policies named.
func (ps *policyStore) resolve(names []string) []*policy.Policy {
	set := make([]*policy.Policy, 0, len(names))
	for _, n := range names {
		if p := ps.lookup(n); p != nil {
			set = append(set, p)
		}
	}
	return set
}

// templated reports whether any of the policies named is templated, so
// that its ACL depends on the entity.
func (ps *policyStore) templated(names []string) bool {
	for _, n := range names {
		if p := ps.lookup(n); p != nil && p.Templated() {
			return true
		}
	}
	return false
}

// lookup finds one policy by name: stored, built in, or root; nil when
// there is none.
func (ps *policyStore) lookup(name string) *policy.Policy {
	if name == PolicyRoot {
		return rootPolicy
	}
	if p := ps.get(name); p != nil {
		return p
	}
	p, _ := builtin(name)
	return p
}

// rootPolicy stands for the root policy in a set; it has no rules.
var rootPolicy = &policy.Policy{Name: PolicyRoot}

// Policy returns the text of a policy; ok is false if it does not exist.
// The root policy exists but has no text.
func (c *Core) Policy(name string) (text string, ok bool, err error) {
	s, err := c.state()
	if err != nil {
		return "", false, err
	}
	if name == PolicyRoot {
		return "", true, nil
	}
	p := s.policies.get(name)
	if p == nil {
		return "", false, nil
	}
	return p.Raw, true, nil
}

// Policies lists policy names, "root" last.
func (c *Core) Policies() ([]string, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	return s.policies.names(), nil
}

// PutPolicy creates or replaces a policy.
func (c *Core) PutPolicy(ctx context.Context, name, text string) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	if name == "" {
		return &engine.InputError{Field: "name", Rule: "is required"}
	}
	return s.policies.put(ctx, name, text)
}

// DeletePolicy removes a policy; deleting a missing one succeeds.
func (c *Core) DeletePolicy(ctx context.Context, name string) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	return s.policies.delete(ctx, name)
}

// PolicyExists reports whether a policy of that name exists (built-ins included).
func (c *Core) policyExists(s *unsealed, name string) bool {
	if name == PolicyRoot || name == PolicyWrapping {
		return true
	}
	return s.policies.get(name) != nil
}
