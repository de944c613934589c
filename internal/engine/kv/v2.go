package kv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// defaultMaxVersions is kept when neither the key nor the mount sets
// max_versions.
const defaultMaxVersions = 10

// v2 is the versioned store. See doc.go for its paths and storage layout.
type v2 struct {
	*engine.Mux
	store storage.Backend
	now   func() time.Time

	// locks serialise writes to one secret (striped by path hash); cfgMu
	// serialises config writes. Reads take no lock.
	locks stripes
	cfgMu sync.Mutex
	// metas caches decoded metadata by path, written through under the
	// secret's lock, so a read costs one storage read instead of two.
	// Readers share cached metadata; writers change a clone.
	metas *storage.Cache[*keyMeta]
	// datas caches version data by storage key (see cache.go).
	datas *storage.Cache[[]byte]
}

func newV2(env engine.Env) *v2 {
	b := &v2{
		store: env.Storage, now: env.Now,
		metas: storage.NewCache[*keyMeta](metaCacheSize),
		datas: storage.NewCache[[]byte](dataCacheSize),
	}
	b.Mux = engine.NewMux(
		engine.Path{
			Pattern: "config",
			Summary: "Configure the defaults for every secret of this mount.",
			Read:    b.readConfig,
			Write:   b.writeConfig,
		},
		engine.Path{
			Pattern: "data/{path...}",
			Summary: "Read, write, patch and delete versions of a secret.",
			Read:    b.readData,
			Write:   b.writeData,
			Patch:   b.patchData,
			Delete:  b.deleteLatest,
			List:    b.invalidPath,
			Exists:  b.metaExists,
		},
		engine.Path{
			Pattern: "delete/{path...}",
			Summary: "Soft-delete versions of a secret.",
			Write:   b.deleteVersions,
		},
		engine.Path{
			Pattern: "undelete/{path...}",
			Summary: "Restore soft-deleted versions of a secret.",
			Write:   b.undeleteVersions,
		},
		engine.Path{
			Pattern: "destroy/{path...}",
			Summary: "Permanently remove the data of versions of a secret.",
			Write:   b.destroyVersions,
		},
		engine.Path{
			Pattern: "metadata/{path...}",
			Summary: "Read, write, patch, delete and list secrets' metadata.",
			Read:    b.readMetadata,
			Write:   b.writeMetadata,
			Patch:   b.patchMetadata,
			Delete:  b.deleteMetadata,
			List:    b.listMetadata,
			Exists:  b.metaExists,
		},
		engine.Path{
			Pattern: "subkeys/{path...}",
			Summary: "Read the structure of a secret without its values.",
			Read:    b.readSubkeys,
		},
		engine.Path{
			Pattern: "{path...}",
			Summary: "Not an API path of a versioned K/V engine: use \"ward kv\".",
			Read:    b.invalidPath,
			Write:   b.invalidPath,
			Patch:   b.invalidPath,
			Delete:  b.invalidPath,
			List:    b.invalidPath,
		},
	)
	return b
}

// invalidPath answers requests outside the API with a 404 and a warning
// that says which "ward kv" command does what the caller likely meant.
func (b *v2) invalidPath(_ context.Context, req *engine.Request) (*engine.Response, error) {
	cmd := "get"
	switch req.Operation {
	case engine.OpCreate, engine.OpUpdate:
		cmd = "put"
	case engine.OpPatch:
		cmd = "patch"
	case engine.OpDelete:
		cmd = "delete"
	case engine.OpList:
		cmd = "list"
	}
	return &engine.Response{Status: 404, Warnings: []string{fmt.Sprintf(
		"Invalid path for a versioned K/V secrets engine. See the API docs for the "+
			"appropriate API endpoints to use. If using the Ward CLI, use 'ward kv %s' for this operation.", cmd)}}, nil
}

// lock serialises writers of one secret; call the returned func to unlock.
func (b *v2) lock(p string) func() { return b.locks.lock(p) }

// keyMeta is the stored metadata of one secret.
type keyMeta struct {
	Created            time.Time            `json:"created"`
	Updated            time.Time            `json:"updated"`
	CurrentVersion     int                  `json:"current_version"`
	OldestVersion      int                  `json:"oldest_version"`
	MaxVersions        int                  `json:"max_versions,omitempty"`
	CASRequired        bool                 `json:"cas_required,omitempty"`
	DeleteVersionAfter time.Duration        `json:"delete_version_after,omitempty"`
	CustomMetadata     map[string]string    `json:"custom_metadata,omitempty"`
	Versions           map[int]*versionMeta `json:"versions"`
}

// versionMeta is the stored metadata of one version. A non-zero Deletion
// at or before now means deleted; a later one is a scheduled deletion.
type versionMeta struct {
	Created   time.Time `json:"created"`
	Deletion  time.Time `json:"deletion,omitzero"`
	Destroyed bool      `json:"destroyed,omitempty"`
}

func (v *versionMeta) deleted(now time.Time) bool {
	return !v.Deletion.IsZero() && !v.Deletion.After(now)
}

func (v *versionMeta) readable(now time.Time) bool {
	return !v.Destroyed && !v.deleted(now)
}

func newKeyMeta(now time.Time) *keyMeta {
	return &keyMeta{Created: now, Updated: now, Versions: map[int]*versionMeta{}}
}

// mountConfig is the stored engine config; zero values mean defaults.
type mountConfig struct {
	MaxVersions        int           `json:"max_versions,omitempty"`
	CASRequired        bool          `json:"cas_required,omitempty"`
	DeleteVersionAfter time.Duration `json:"delete_version_after,omitempty"`
}

const configKey = "config"

func metaKey(p string) string { return "meta/" + p }

// versionFolder holds the data of every version of every secret.
const versionFolder = "ver/"

// versionPrefix is the folder holding the data of p's versions.
func versionPrefix(p string) string {
	sum := sha256.Sum256([]byte(p))
	return versionFolder + hex.EncodeToString(sum[:]) + "/"
}

// versionKey is where version n of p is stored: versionPrefix(p) and n,
// built in one allocation (every read makes one).
func versionKey(p string, n int) string {
	sum := sha256.Sum256([]byte(p))
	var buf [len(versionFolder) + 2*sha256.Size + len("/") + 20]byte
	k := append(buf[:0], versionFolder...)
	k = hex.AppendEncode(k, sum[:])
	k = append(k, '/')
	return string(strconv.AppendInt(k, int64(n), 10))
}

// loadMeta returns p's metadata, or nil if the secret does not exist.
// loadMeta returns a private copy of p's metadata, for a writer to change;
// nil when p has none.
func (b *v2) loadMeta(ctx context.Context, p string) (*keyMeta, error) {
	m, err := b.sharedMeta(ctx, p)
	if m == nil || err != nil {
		return nil, err
	}
	return m.clone(), nil
}

// sharedMeta returns p's metadata as cached: callers must not change it.
func (b *v2) sharedMeta(ctx context.Context, p string) (*keyMeta, error) {
	if m, ok := b.metas.Get(p); ok {
		return m, nil
	}
	gen := b.metas.Generation()
	raw, err := b.store.Get(ctx, metaKey(p))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	var m keyMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	if m.Versions == nil {
		m.Versions = map[int]*versionMeta{}
	}
	b.metas.Fill(p, &m, gen)
	return &m, nil
}

// saveMeta writes p's metadata, after the writes in before (new version
// data, deletions of pruned versions) in the same storage batch: one
// commit where the storage batches, and otherwise in order, so metadata
// never names data that is not there. The cache follows the outcome.
func (b *v2) saveMeta(ctx context.Context, p string, m *keyMeta, before ...storage.Op) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("save metadata: %w", err)
	}
	ops := append(before[:len(before):len(before)], storage.Op{Key: metaKey(p), Value: raw})
	if err := storage.Batch(ctx, b.store, ops); err != nil {
		b.cacheData(before, false)
		b.metas.Drop(p)
		return fmt.Errorf("save metadata: %w", err)
	}
	b.cacheData(before, true)
	b.metas.Set(p, m.clone())
	return nil
}

// wipeOps are the deletions of the stored data of versions ns of p.
func wipeOps(p string, ns []int) []storage.Op {
	ops := make([]storage.Op, len(ns))
	for i, n := range ns {
		ops[i] = storage.Op{Key: versionKey(p, n), Delete: true}
	}
	return ops
}

// wipeVersions removes the stored data of versions ns of p.
func (b *v2) wipeVersions(ctx context.Context, p string, ns []int) error {
	ops := wipeOps(p, ns)
	err := storage.Batch(ctx, b.store, ops)
	b.cacheData(ops, err == nil)
	if err != nil {
		return fmt.Errorf("remove versions: %w", err)
	}
	return nil
}

func (b *v2) loadConfig(ctx context.Context) (mountConfig, error) {
	var c mountConfig
	raw, err := b.store.Get(ctx, configKey)
	if errors.Is(err, storage.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("load kv config: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("load kv config: %w", err)
	}
	return c, nil
}

// maxVersions is the number of versions p keeps.
func maxVersions(c mountConfig, m *keyMeta) int {
	switch {
	case m.MaxVersions > 0:
		return m.MaxVersions
	case c.MaxVersions > 0:
		return c.MaxVersions
	}
	return defaultMaxVersions
}

// deleteAfter is the lifetime given to new versions of p: the smaller of the
// key's and the mount's non-zero settings, or 0 for none.
func deleteAfter(c mountConfig, m *keyMeta) time.Duration {
	k, g := m.DeleteVersionAfter, c.DeleteVersionAfter
	switch {
	case k > 0 && g > 0:
		return min(k, g)
	case k > 0:
		return k
	}
	return g
}

// prune drops all but the newest keep versions from m and returns their
// numbers, whose data the caller must wipe. Like Vault, it leaves
// OldestVersion at 0 until something has been pruned.
func (m *keyMeta) prune(keep int) []int {
	cut := m.CurrentVersion - keep // versions <= cut go
	if cut <= 0 {
		return nil
	}
	var gone []int
	for n := range m.Versions {
		if n <= cut {
			gone = append(gone, n)
			delete(m.Versions, n)
		}
	}
	if m.OldestVersion <= cut {
		m.OldestVersion = cut + 1
	}
	return gone
}

// versionData is the public metadata of one version, as data writes and
// reads return it.
func versionData(n int, v *versionMeta, custom map[string]string) map[string]any {
	return map[string]any{
		"created_time":    formatTime(v.Created),
		"custom_metadata": customOrNil(custom),
		"deletion_time":   formatTime(v.Deletion),
		"destroyed":       v.Destroyed,
		"version":         n,
	}
}

func customOrNil(c map[string]string) any {
	if len(c) == 0 {
		return nil
	}
	return c
}

// goneResponse is Vault's answer for a deleted or destroyed version: 404
// with the version's metadata and a null payload under field.
func goneResponse(field string, md map[string]any) *engine.Response {
	return &engine.Response{Status: 404, Data: map[string]any{field: nil, "metadata": md}}
}

// metaExists reports whether the secret has metadata; it is the existence
// check of data/ and metadata/.
func (b *v2) metaExists(ctx context.Context, req *engine.Request) (bool, error) {
	p := req.Var("path")
	if validatePath(p) != nil {
		return false, nil // the handler reports the bad path
	}
	_, err := b.store.Get(ctx, metaKey(p))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check secret: %w", err)
	}
	return true, nil
}
