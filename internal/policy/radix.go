package policy

import (
	"slices"
	"strings"
)

// globIndex finds the highest-priority glob rule for a path.
//
// Rules are filed in a radix tree under their literal prefix (the text
// before the first wildcard). A rule can only match a path that starts with
// its literal prefix, and the first precedence criterion is exactly the
// prefix length, so the search descends along the path and then tries the
// rule lists from the deepest node up; each list is sorted by the remaining
// criteria, and the first rule that matches is the answer. The cost is the
// path length plus the rules that share a matching prefix, not the number
// of rules.
type globIndex struct {
	root radixNode
}

type radixNode struct {
	label string       // edge label from the parent; empty only at the root
	kids  []*radixNode // distinct first bytes
	rules []*rule      // rules whose literal prefix ends here, best first
}

func (x *globIndex) insert(r *rule) {
	n := &x.root
	key := r.pattern[:r.lit]
	for key != "" {
		c := n.child(key[0])
		if c == nil {
			c = &radixNode{label: key}
			n.kids = append(n.kids, c)
			n = c
			break
		}
		common := commonPrefix(key, c.label)
		if common < len(c.label) {
			split := &radixNode{label: c.label[:common], kids: []*radixNode{c}}
			n.replace(c, split)
			c.label = c.label[common:]
			c = split
		}
		key = key[common:]
		n = c
	}
	n.rules = append(n.rules, r)
}

// sort orders every rule list by precedence; call once after the inserts.
func (x *globIndex) sort() { x.root.sortRules() }

func (n *radixNode) sortRules() {
	slices.SortFunc(n.rules, func(a, b *rule) int {
		switch {
		case higher(&a.glob, &b.glob):
			return -1
		case higher(&b.glob, &a.glob):
			return 1
		}
		return 0
	})
	for _, c := range n.kids {
		c.sortRules()
	}
}

func (n *radixNode) child(b byte) *radixNode {
	for _, c := range n.kids {
		if c.label[0] == b {
			return c
		}
	}
	return nil
}

func (n *radixNode) replace(old, c *radixNode) {
	for i, k := range n.kids {
		if k == old {
			n.kids[i] = c
			return
		}
	}
}

// best returns the highest-priority rule matching path, or nil.
func (x *globIndex) best(path string) *rule { return x.root.best(path, 0) }

// best searches below n, which the first off bytes of path have reached.
func (n *radixNode) best(path string, off int) *rule {
	if off < len(path) {
		if c := n.child(path[off]); c != nil && strings.HasPrefix(path[off:], c.label) {
			if r := c.best(path, off+len(c.label)); r != nil {
				return r
			}
		}
	}
	for _, r := range n.rules {
		if r.match(path) {
			return r
		}
	}
	return nil
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
