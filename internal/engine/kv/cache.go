package kv

import "maps"

// metaCacheSize bounds the metadata a KV v2 mount keeps decoded.
const metaCacheSize = 20_000

// clone is a deep copy of m: cached metadata is shared by readers, and
// writers change a copy.
func (m *keyMeta) clone() *keyMeta {
	c := *m
	c.CustomMetadata = maps.Clone(m.CustomMetadata)
	c.Versions = make(map[int]*versionMeta, len(m.Versions))
	for n, v := range m.Versions {
		vc := *v
		c.Versions[n] = &vc
	}
	return &c
}
