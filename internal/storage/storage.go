// Package storage defines the contract every Ward storage backend meets.
//
// A Backend is a flat, ordered key/value store with "/"-separated keys. It
// knows nothing about encryption: the barrier (internal/barrier) wraps a
// Backend and is itself a Backend whose values are sealed with AES-256-GCM,
// so everything above the barrier stores ciphertext without knowing it.
//
// Implementations live in child packages (inmem, bolt, raft) and must pass
// the conformance suite in storagetest.
package storage

import (
	"context"
	"errors"
	"sort"
	"strings"
)

// ErrNotFound is returned by Get when no value is stored under the key.
var ErrNotFound = errors.New("storage: key not found")

// Backend is a key/value store.
//
// Keys are non-empty strings of "/"-separated segments; they never start with
// "/" and never end with "/" (a trailing "/" names a folder, which only List
// accepts). Values are opaque bytes; a Backend must not retain the slice it is
// given to Put nor let the caller's later writes to a slice returned by Get
// change what is stored.
//
// All methods are safe for concurrent use. A write that returned nil is
// durable to the degree the implementation promises (bolt: fsync'd; inmem:
// until the process exits) and visible to every later Get and List.
type Backend interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)

	// Put stores value under key, replacing any earlier value.
	Put(ctx context.Context, key string, value []byte) error

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// List returns the direct children of prefix, sorted: keys without the
	// prefix, and folders (keys with more segments below prefix) once each,
	// with a trailing "/". prefix is "" for the root or ends in "/".
	// A prefix with nothing below it yields an empty slice and no error.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Sub returns a view of b confined to keys under prefix, which must end in
// "/". Keys given to the view are relative to prefix; List results are too.
func Sub(b Backend, prefix string) Backend {
	if prefix == "" {
		return b
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if s, ok := b.(*sub); ok {
		return &sub{inner: s.inner, prefix: s.prefix + prefix}
	}
	return &sub{inner: b, prefix: prefix}
}

type sub struct {
	inner  Backend
	prefix string
}

func (s *sub) Get(ctx context.Context, key string) ([]byte, error) {
	return s.inner.Get(ctx, s.prefix+key)
}

func (s *sub) Put(ctx context.Context, key string, value []byte) error {
	return s.inner.Put(ctx, s.prefix+key, value)
}

func (s *sub) Delete(ctx context.Context, key string) error {
	return s.inner.Delete(ctx, s.prefix+key)
}

func (s *sub) List(ctx context.Context, prefix string) ([]string, error) {
	return s.inner.List(ctx, s.prefix+prefix)
}

// DeletePrefix removes every key under prefix (which ends in "/", or is "" for
// everything), walking folders depth first. It is how a disabled mount or a
// revoked token's cubbyhole loses its data.
func DeletePrefix(ctx context.Context, b Backend, prefix string) error {
	keys, err := List(ctx, b, prefix)
	if err != nil {
		return err
	}
	// In batches, so a backend that batches deletes a few thousand keys per
	// commit rather than one.
	const chunk = 1000
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		ops := make([]Op, n)
		for i, k := range keys[:n] {
			ops[i] = Op{Key: prefix + k, Delete: true}
		}
		if err := Batch(ctx, b, ops); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// List returns every key below prefix, recursively, relative to prefix and
// sorted. It is meant for maintenance walks, not for request paths.
func List(ctx context.Context, b Backend, prefix string) ([]string, error) {
	var out []string
	var walk func(p string) error
	walk = func(p string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		children, err := b.List(ctx, prefix+p)
		if err != nil {
			return err
		}
		for _, c := range children {
			if strings.HasSuffix(c, "/") {
				if err := walk(p + c); err != nil {
					return err
				}
				continue
			}
			out = append(out, p+c)
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// ValidKey reports whether key is acceptable to Put, Get and Delete.
func ValidKey(key string) bool {
	return key != "" && !strings.HasPrefix(key, "/") && !strings.HasSuffix(key, "/")
}

// ValidPrefix reports whether prefix is acceptable to List and DeletePrefix:
// "" for the root, or a key-like string ending in "/" that does not start
// with "/".
func ValidPrefix(prefix string) bool {
	return prefix == "" || (strings.HasSuffix(prefix, "/") && !strings.HasPrefix(prefix, "/"))
}
