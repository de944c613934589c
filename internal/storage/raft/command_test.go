package raft

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var commandCases = [][]Op{
	{{Key: "a", Value: []byte("1")}},
	{{Key: "core/keyring", Delete: true}},
	{{Key: "empty", Value: []byte{}}},
	{{Key: "bin", Value: []byte{0, 0xff, '\n', 0}}},
	{
		{Key: "logical/abc/x", Value: bytes.Repeat([]byte("v"), 300)},
		{Key: "logical/abc/y", Delete: true},
		{Key: "unicode/ключ", Value: []byte("é")},
	},
}

func TestCommandRoundTrip(t *testing.T) {
	for _, ops := range commandCases {
		got, err := decodeOps(encodeOps(ops))
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", ops, err)
		}
		for i := range ops {
			if ops[i].Delete {
				ops[i].Value = nil
			}
			if got[i].Value == nil && !got[i].Delete {
				t.Errorf("op %d: a put decoded with a nil value", i)
			}
		}
		if !opsEqual(got, ops) {
			t.Errorf("decode(encode(%v)) = %v", ops, got)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := encodeOps([]Op{{Key: "k", Value: []byte("v")}})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, valid[1:]...)},
		{"no ops", []byte{commandVersion, 0}},
		{"count too large", []byte{commandVersion, 5, opDelete, 1, 'k'}},
		{"unknown kind", []byte{commandVersion, 1, 7, 1, 'k'}},
		{"key past end", []byte{commandVersion, 1, opDelete, 9, 'k', 'k'}},
		{"value past end", []byte{commandVersion, 1, opPut, 1, 'k', 5, 'v'}},
		{"invalid key", []byte{commandVersion, 1, opDelete, 2, 'k', '/'}},
		{"empty key", []byte{commandVersion, 1, opDelete, 0, 0}},
		{"trailing bytes", append(bytes.Clone(valid), 0)},
		{"truncated", valid[:len(valid)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := decodeOps(tc.data)
			if !errors.Is(err, errBadCommand) {
				t.Fatalf("decodeOps = %v, %v; want errBadCommand", ops, err)
			}
			if ops != nil {
				t.Errorf("decodeOps returned ops %v with an error", ops)
			}
		})
	}
}

func TestOpStringHidesValue(t *testing.T) {
	s := Op{Key: "k", Value: []byte("ciphertext-bytes")}.String()
	if strings.Contains(s, "ciphertext") || !strings.Contains(s, "16 bytes") {
		t.Errorf("Op.String() = %q, want the length, not the value", s)
	}
}

// FuzzDecodeOps checks that decoding never panics, that an error means no
// ops, and that decoded ops re-encode to a command that decodes the same.
func FuzzDecodeOps(f *testing.F) {
	for _, ops := range commandCases {
		f.Add(encodeOps(ops))
	}
	f.Add([]byte{commandVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{commandVersion, 1, opPut, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := decodeOps(data)
		if err != nil {
			if ops != nil || !errors.Is(err, errBadCommand) {
				t.Fatalf("decodeOps error %v with ops %v", err, ops)
			}
			return
		}
		again, err := decodeOps(encodeOps(ops))
		if err != nil || !opsEqual(again, ops) {
			t.Fatalf("re-encoding %v decodes to %v, %v", ops, again, err)
		}
	})
}

func opsEqual(a, b []Op) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Delete != b[i].Delete || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
