package token

import (
	"maps"
	"slices"
)

// cacheSize bounds the entries the store keeps decoded in memory (a few
// tens of MiB at most); live tokens beyond it are read from storage.
const cacheSize = 20_000

// clone is a deep copy of e: entries in the cache are shared, so callers
// get copies.
func (e *Entry) clone() *Entry {
	c := *e
	c.Policies = slices.Clone(e.Policies)
	c.Meta = maps.Clone(e.Meta)
	c.BoundCIDRs = slices.Clone(e.BoundCIDRs)
	return &c
}
