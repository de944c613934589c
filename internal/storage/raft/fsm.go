package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// fsmFile is the state file's name inside Options.Dir.
const fsmFile = "fsm.db"

var (
	kvBucket   = []byte("kv")   // the stored keys and values
	metaBucket = []byte("meta") // appliedKey and cleanKey
	appliedKey = []byte("applied")
	cleanKey   = []byte("clean")
)

// fsm is the replicated state machine: the key/value state in a bbolt file.
//
// Commits skip fsync (NoSync): the raft log, which is fsync'd, is the
// durable record, and fsm.db is a cache of it that can always be rebuilt
// from the latest snapshot plus the log. Close writes a "clean" marker with
// a synced commit; Open trusts the file only when the marker is there and
// removes it (synced) before raft starts, so after a crash or power loss the
// file is discarded and rebuilt instead of being trusted half-written.
//
// The meta bucket records the index of the last command applied, in the
// same transaction as the command, so a replay after a clean restart skips
// entries the file already holds.
type fsm struct {
	path   string
	logger *slog.Logger

	mu sync.RWMutex // write-held only while Restore swaps db, and by close
	db *bbolt.DB
}

var (
	_ hraft.FSM         = (*fsm)(nil)
	_ hraft.BatchingFSM = (*fsm)(nil)
)

func openFSMDB(path string) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is locked by another process (is another ward server using this path?): %w", path, err)
	}
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(kvBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(metaBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openFSM opens the state file at path. keep is called with the file's
// last applied index when the file was closed cleanly; if the file is
// unclean, unreadable or keep returns false, it is replaced by an empty one.
// reused reports whether the old contents were kept.
func openFSM(path string, logger *slog.Logger, keep func(applied uint64) bool) (f *fsm, reused bool, err error) {
	os.Remove(path + ".restore") // a Restore interrupted by a crash
	db, err := openFSMDB(path)
	if err != nil && errors.Is(err, berrors.ErrTimeout) {
		return nil, false, err
	}
	if err == nil {
		applied, clean := readMeta(db)
		if clean && keep(applied) {
			reused = true
		} else {
			db.Close()
			db = nil
		}
	} else {
		logger.Warn("raft: fsm state file unreadable; rebuilding it from the raft log and snapshots", "path", path, "error", err)
	}
	if db == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, false, fmt.Errorf("remove stale %s: %w", path, err)
		}
		if db, err = openFSMDB(path); err != nil {
			return nil, false, err
		}
	}
	// Clear the marker durably before raft applies anything, so a crash
	// from here on leaves an unclean file.
	err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(metaBucket).Delete(cleanKey) })
	if err != nil {
		db.Close()
		return nil, false, err
	}
	db.NoSync = true
	return &fsm{path: path, logger: logger, db: db}, reused, nil
}

func readMeta(db *bbolt.DB) (applied uint64, clean bool) {
	db.View(func(tx *bbolt.Tx) error {
		m := tx.Bucket(metaBucket)
		if v := m.Get(appliedKey); len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		clean = m.Get(cleanKey) != nil
		return nil
	})
	return applied, clean
}

// close marks the file clean with a synced commit and closes it.
func (f *fsm) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.db.NoSync = false
	err := f.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(metaBucket).Put(cleanKey, []byte{1}) })
	if cerr := f.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Apply applies one committed log entry.
func (f *fsm) Apply(l *hraft.Log) any {
	return f.ApplyBatch([]*hraft.Log{l})[0]
}

// ApplyBatch applies committed entries in one bbolt transaction. A
// malformed command gets an error response on every node alike; a failure
// to write the state file is not deterministic, so it panics rather than
// let this node's state silently diverge (a restart rebuilds the file).
func (f *fsm) ApplyBatch(logs []*hraft.Log) []any {
	resp := make([]any, len(logs))
	f.mu.RLock()
	defer f.mu.RUnlock()
	err := f.db.Update(func(tx *bbolt.Tx) error {
		kv, meta := tx.Bucket(kvBucket), tx.Bucket(metaBucket)
		var applied uint64
		if v := meta.Get(appliedKey); len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		last := applied
		for i, l := range logs {
			if l.Type != hraft.LogCommand || l.Index <= applied {
				continue
			}
			last = l.Index
			ops, err := decodeOps(l.Data)
			if err != nil {
				resp[i] = fmt.Errorf("raft: apply entry %d: %w", l.Index, err)
				continue
			}
			for _, o := range ops {
				if o.Delete {
					err = kv.Delete([]byte(o.Key))
				} else {
					err = kv.Put([]byte(o.Key), nonNil(o.Value))
				}
				if err != nil {
					return fmt.Errorf("entry %d: %s: %w", l.Index, o, err)
				}
			}
		}
		if last == applied {
			return nil
		}
		return meta.Put(appliedKey, binary.BigEndian.AppendUint64(nil, last))
	})
	if err != nil {
		f.logger.Error("raft: fsm: cannot write the state file; stopping this node", "path", f.path, "error", err)
		panic(fmt.Sprintf("raft: fsm: apply to %s: %v", f.path, err))
	}
	return resp
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Snapshot opens a read transaction: a consistent view that Persist streams
// while Apply goes on.
func (f *fsm) Snapshot() (hraft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("raft: fsm snapshot: %w", err)
	}
	return &fsmSnapshot{tx: tx}, nil
}

type fsmSnapshot struct{ tx *bbolt.Tx }

// Persist writes the whole bbolt file, as of the snapshot, to sink.
func (s *fsmSnapshot) Persist(sink hraft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("raft: fsm snapshot: write: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.tx.Rollback() }

// Restore replaces the state with a snapshot: it writes the stream to a
// temporary file, checks it is a state file, and renames it over fsm.db.
// On error the old state is kept. The restored file's applied index is
// reset to 0, because the snapshot may come from another cluster whose
// indexes mean nothing here; raft itself skips entries the snapshot covers.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp := f.path + ".restore"
	if err := writeSynced(tmp, rc); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("raft: fsm restore: %w", err)
	}
	if err := prepareRestored(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("raft: fsm restore: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("raft: fsm restore: close old state: %w", err)
	}
	renameErr := os.Rename(tmp, f.path)
	if renameErr == nil {
		syncDir(filepath.Dir(f.path))
	}
	db, err := openFSMDB(f.path)
	if err != nil {
		// Neither the old nor the new state is open: this node cannot go
		// on, and a restart rebuilds the file from raft.
		panic(fmt.Sprintf("raft: fsm restore: reopen %s: %v", f.path, err))
	}
	db.NoSync = true
	f.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return fmt.Errorf("raft: fsm restore: %w", renameErr)
	}
	return nil
}

// prepareRestored checks that path is a state file and resets its meta.
func prepareRestored(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("snapshot is not a state file: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(kvBucket) == nil {
			return errors.New("snapshot is not a ward raft state file: no kv bucket")
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if err := meta.Delete(cleanKey); err != nil {
			return err
		}
		return meta.Put(appliedKey, make([]byte, 8))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeSynced(path string, r io.Reader) error {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(file, r)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// get returns a copy of the value under key; ok is false if there is none.
func (f *fsm) get(key string) (value []byte, ok bool, err error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	err = f.db.View(func(tx *bbolt.Tx) error {
		// A cursor tells an empty value from a missing key.
		k, v := tx.Bucket(kvBucket).Cursor().Seek([]byte(key))
		if k != nil && string(k) == key {
			value, ok = bytes.Clone(nonNil(v)), true
		}
		return nil
	})
	return value, ok, err
}

// list returns the sorted direct children of prefix.
func (f *fsm) list(prefix string) ([]string, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := []string{}
	err := f.db.View(func(tx *bbolt.Tx) error {
		out = listChildren(tx.Bucket(kvBucket).Cursor(), []byte(prefix), out)
		return nil
	})
	return out, err
}

// listChildren appends the direct children of prefix in key order, which
// is their sorted order. A folder costs one seek however many keys it
// holds: after "p/f/" it seeks to "p/f0" ("/"+1 is "0").
func listChildren(c *bbolt.Cursor, prefix []byte, out []string) []string {
	k, _ := c.Seek(prefix)
	for k != nil && bytes.HasPrefix(k, prefix) {
		rest := k[len(prefix):]
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			if len(rest) > 0 {
				out = append(out, string(rest))
			}
			k, _ = c.Next()
			continue
		}
		out = append(out, string(rest[:i+1]))
		end := bytes.Clone(k[:len(prefix)+i+1])
		end[len(end)-1]++
		k, _ = c.Seek(end)
	}
	return out
}

// checkStateFile checks that path is an intact state file: a bbolt file
// whose page structure is consistent and which has the kv bucket.
func checkStateFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("snapshot state is not a state file: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(kvBucket) == nil {
			return errors.New("snapshot state is not a ward raft state file: no kv bucket")
		}
		var first error
		for err := range tx.Check() { // drain: Check's goroutine sends every error
			if first == nil {
				first = fmt.Errorf("snapshot state is damaged: %w", err)
			}
		}
		return first
	})
}
