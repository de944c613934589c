package kv

import (
	"maps"
	"strings"

	"github.com/wardsec/ward/internal/storage"
)

// metaCacheSize bounds the metadata a KV v2 mount keeps decoded.
const metaCacheSize = 20_000

// The data cache keeps the stored JSON of recently written or read
// versions, so that a read of a hot secret costs no storage read and no
// decryption. A version's data never changes once written, only goes
// away, and a read serves it only when the metadata says the version is
// readable, so the cache needs no more than write-through and dropping on
// deletion. It holds plaintext, like the token and transit key caches, so
// it is small: at most dataCacheSize values of at most maxCachedData
// bytes each (10 MiB), in process memory that the server locks out of
// swap.
const (
	dataCacheSize = 10_000
	maxCachedData = 1024
)

// cacheData records what a storage batch did to version data: ok says
// whether it committed. Values written are cached; anything deleted, and
// everything when the outcome is unknown, is dropped.
func (b *v2) cacheData(ops []storage.Op, ok bool) {
	for _, op := range ops {
		if !strings.HasPrefix(op.Key, versionFolder) {
			continue
		}
		if ok && !op.Delete && len(op.Value) <= maxCachedData {
			b.datas.Set(op.Key, op.Value)
			continue
		}
		b.datas.Drop(op.Key)
	}
}

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
