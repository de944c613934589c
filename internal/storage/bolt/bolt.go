package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/wardsec/ward/internal/storage"
)

// FileName is the name of the database file inside the configured directory.
const FileName = "ward.db"

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// bucket is the one bbolt bucket that holds every key.
var bucket = []byte("ward")

// Options tunes Open. A nil *Options, and any zero field, means the default.
type Options struct {
	// Timeout bounds the wait for the exclusive file lock that keeps a
	// second process from opening the same database. Zero means
	// DefaultTimeout; Open never waits forever.
	Timeout time.Duration
}

// Backend is a storage.Backend on a bbolt file. It is safe for concurrent
// use; Close it when done to release the file lock.
type Backend struct {
	db      *bbolt.DB
	path    string // the database file
	commits committer
}

var _ storage.Backend = (*Backend)(nil)

// Open opens, creating if needed, the database in directory dir. It fails if
// another process holds the database open for longer than the lock timeout.
func Open(dir string, opts *Options) (*Backend, error) {
	if dir == "" {
		return nil, errors.New("bolt: open: path is empty; set path to a directory")
	}
	timeout := DefaultTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open: create directory: %w", err)
	}
	file := filepath.Join(dir, FileName)
	db, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: file is locked by another process (is another ward server using this path?); gave up after %s: %w", file, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", file, err)
	}
	// Durability rests on bbolt's fsync at commit; make sure nothing turned
	// it off.
	db.NoSync = false
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: open %s: create bucket: %w", file, err)
	}
	return &Backend{db: db, path: file}, nil
}

// Path returns the database file's path.
func (b *Backend) Path() string { return b.path }

// Close releases the file lock and closes the file. Operations after Close
// fail.
func (b *Backend) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", b.path, err)
	}
	return nil
}

// Get returns a copy of the value under key, or storage.ErrNotFound.
func (b *Backend) Get(ctx context.Context, key string) ([]byte, error) {
	if err := check(ctx, "get", key); err != nil {
		return nil, err
	}
	var out []byte
	err := b.db.View(func(tx *bbolt.Tx) error {
		// A cursor rather than Bucket.Get, so that an empty value is told
		// apart from a missing key by the key, not by a nil slice.
		k, v := tx.Bucket(bucket).Cursor().Seek([]byte(key))
		if k != nil && string(k) == key {
			// v points into the memory map and is valid only inside
			// the transaction.
			out = make([]byte, len(v))
			copy(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: get %q: %w", key, err)
	}
	if out == nil {
		return nil, storage.ErrNotFound
	}
	return out, nil
}

// Put stores value under key. It returns once an fsync'd transaction
// holding the write committed; concurrent writes share transactions (see
// commit.go).
func (b *Backend) Put(ctx context.Context, key string, value []byte) error {
	if err := check(ctx, "put", key); err != nil {
		return err
	}
	if len(key) > bbolt.MaxKeySize || int64(len(value)) > bbolt.MaxValueSize {
		return fmt.Errorf("bolt: put %q: key or value too large", key)
	}
	if err := b.write(&writeOp{ops: []storage.Op{{Key: key, Value: value}}}); err != nil {
		return fmt.Errorf("bolt: put %q: %w", key, err)
	}
	return nil
}

// Delete removes key, durably as Put writes; a missing key is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := check(ctx, "delete", key); err != nil {
		return err
	}
	if len(key) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: delete %q: key too large", key)
	}
	if err := b.write(&writeOp{ops: []storage.Op{{Key: key, Delete: true}}}); err != nil {
		return fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	return nil
}

// Batch applies ops in one fsync'd transaction: all or none.
func (b *Backend) Batch(ctx context.Context, ops []storage.Op) error {
	for _, o := range ops {
		if err := check(ctx, "batch", o.Key); err != nil {
			return err
		}
		if len(o.Key) > bbolt.MaxKeySize || int64(len(o.Value)) > bbolt.MaxValueSize {
			return fmt.Errorf("bolt: batch: %s: key or value too large", o)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if err := b.write(&writeOp{ops: ops}); err != nil {
		return fmt.Errorf("bolt: batch: %w", err)
	}
	return nil
}

// List returns the sorted direct children of prefix, folders with a
// trailing "/". Each folder costs one seek, however many keys it holds.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: list %q: %w", prefix, err)
	}
	if !storage.ValidPrefix(prefix) {
		return nil, fmt.Errorf("bolt: list %q: prefix must be empty or end in \"/\" and not start with \"/\"", prefix)
	}
	out := []string{}
	err := b.db.View(func(tx *bbolt.Tx) error {
		out = listChildren(tx.Bucket(bucket).Cursor(), []byte(prefix), out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: list %q: %w", prefix, err)
	}
	return out, nil
}

// listChildren appends to out the direct children of prefix, in key order,
// which is also the sorted order of the children: every key in a folder
// "p/f/" sorts after "p/f/" and before anything else that follows it.
func listChildren(c *bbolt.Cursor, prefix []byte, out []string) []string {
	k, _ := c.Seek(prefix)
	for k != nil && bytes.HasPrefix(k, prefix) {
		rest := k[len(prefix):]
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			if len(rest) > 0 { // rest is empty only for an invalid stored key
				out = append(out, string(rest))
			}
			k, _ = c.Next()
			continue
		}
		folder := rest[:i+1]
		out = append(out, string(folder))
		k, _ = c.Seek(folderEnd(prefix, folder))
	}
	return out
}

// folderEnd returns the smallest key that sorts after every key starting
// with prefix+folder. folder ends in "/", and "/"+1 is "0", so the result is
// prefix+folder with its last byte incremented.
func folderEnd(prefix, folder []byte) []byte {
	end := make([]byte, 0, len(prefix)+len(folder))
	end = append(end, prefix...)
	end = append(end, folder...)
	end[len(end)-1]++
	return end
}

// check rejects a cancelled context and an invalid key before any work.
func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s %q: %w", op, key, err)
	}
	if !storage.ValidKey(key) {
		return fmt.Errorf("bolt: %s %q: invalid key: must be non-empty and not start or end with \"/\"", op, key)
	}
	return nil
}
