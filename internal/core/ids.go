package core

import (
	"encoding/hex"
	"io"
)

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID(r io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("core: read random bytes: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newAccessor(r io.Reader, e MountEntry) string {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("core: read random bytes: " + err.Error())
	}
	prefix := e.Type
	if e.Table == TableAuth {
		prefix = "auth_" + e.Type
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}
