package raft

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/storage"
)

// Op is one write in a Batch: a put of Value under Key, or, when Delete is
// set, a delete of Key (Value is then ignored).
type Op = storage.Op

// Command format, one raft log entry per Put, Delete or Batch:
//
//	version   1 byte, commandVersion
//	count     uvarint, number of ops (at least 1)
//	per op:   kind 1 byte (opPut or opDelete)
//	          key length uvarint, key bytes
//	          put only: value length uvarint, value bytes
//
// Nothing follows the last op.
const (
	commandVersion = 1
	opPut          = 1
	opDelete       = 2
)

// maxValueSize is the largest value bbolt stores.
const maxValueSize = bbolt.MaxValueSize

// errBadCommand marks a log entry that does not decode; every node rejects
// it the same way, so the FSM answers with an error instead of stopping.
var errBadCommand = errors.New("malformed command")

// checkOp rejects an op the FSM could not apply.
func checkOp(o Op) error {
	if !storage.ValidKey(o.Key) {
		return errors.New("invalid key: must be non-empty and not start or end with \"/\"")
	}
	if len(o.Key) > bbolt.MaxKeySize {
		return fmt.Errorf("key is %d bytes, over the limit of %d", len(o.Key), bbolt.MaxKeySize)
	}
	if !o.Delete && len(o.Value) > maxValueSize {
		return fmt.Errorf("value is %d bytes, over the limit of %d", len(o.Value), maxValueSize)
	}
	return nil
}

// encodeOps returns the command for ops, which the caller has checked.
func encodeOps(ops []Op) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, o := range ops {
		size += 1 + 2*binary.MaxVarintLen64 + len(o.Key) + len(o.Value)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, commandVersion)
	buf = binary.AppendUvarint(buf, uint64(len(ops)))
	for _, o := range ops {
		if o.Delete {
			buf = append(buf, opDelete)
			buf = appendBytes(buf, []byte(o.Key))
			continue
		}
		buf = append(buf, opPut)
		buf = appendBytes(buf, []byte(o.Key))
		buf = appendBytes(buf, o.Value)
	}
	return buf
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// decodeOps parses a command. The returned ops alias data. Every error wraps
// errBadCommand.
func decodeOps(data []byte) ([]Op, error) {
	if len(data) == 0 || data[0] != commandVersion {
		return nil, fmt.Errorf("%w: unknown version", errBadCommand)
	}
	rest := data[1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad op count", errBadCommand)
	}
	rest = rest[k:]
	// Each op takes at least 3 bytes, which bounds the allocation.
	if n == 0 || n > uint64(len(rest))/3 {
		return nil, fmt.Errorf("%w: op count %d does not fit %d bytes", errBadCommand, n, len(rest))
	}
	ops := make([]Op, 0, n)
	for i := range n {
		if len(rest) == 0 {
			return nil, fmt.Errorf("%w: op %d: truncated", errBadCommand, i)
		}
		kind := rest[0]
		rest = rest[1:]
		var o Op
		var key []byte
		var err error
		if key, rest, err = readBytes(rest); err != nil {
			return nil, fmt.Errorf("%w: op %d key: %w", errBadCommand, i, err)
		}
		o.Key = string(key)
		switch kind {
		case opPut:
			if o.Value, rest, err = readBytes(rest); err != nil {
				return nil, fmt.Errorf("%w: op %d value: %w", errBadCommand, i, err)
			}
		case opDelete:
			o.Delete = true
		default:
			return nil, fmt.Errorf("%w: op %d: unknown kind %d", errBadCommand, i, kind)
		}
		if err := checkOp(o); err != nil {
			return nil, fmt.Errorf("%w: op %d: %w", errBadCommand, i, err)
		}
		ops = append(ops, o)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadCommand, len(rest))
	}
	return ops, nil
}

func readBytes(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, nil, errors.New("bad length")
	}
	b = b[k:]
	if n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(b))
	}
	return b[:n:n], b[n:], nil
}
