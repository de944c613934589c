package barrier

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
)

// fuzzKeyring is a two-term keyring with fixed keys, so seeds made from it
// stay valid across runs.
func fuzzKeyring(t testing.TB) *keyring {
	t.Helper()
	kr := &keyring{rootKey: bytes.Repeat([]byte{0xaa}, keySize), terms: map[uint32]*termKey{}, encryptions: new(atomic.Uint64)}
	for term := uint32(1); term <= 2; term++ {
		k, err := newTermKey(term, bytes.Repeat([]byte{byte(term)}, keySize), time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		kr.terms[term] = k
		kr.active = k
	}
	return kr
}

// FuzzDecrypt feeds arbitrary values to the read path: it must not panic,
// an error must come with nil plaintext, and an authentic value must open to
// what was sealed. Seeds are real ciphertexts under both terms plus
// malformed headers.
func FuzzDecrypt(f *testing.F) {
	kr := fuzzKeyring(f)
	for _, v := range []string{"", "a", "secret value", string(bytes.Repeat([]byte{0}, 300))} {
		ct, err := kr.seal(rand.Reader, "logical/k", []byte(v))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("logical/k", ct)
		old := bytes.Clone(ct)
		binary.BigEndian.PutUint32(old, 1) // claims term 1: fails authentication
		f.Add("logical/k", old)
	}
	f.Add("k", []byte{})
	f.Add("k", []byte{0, 0, 0, 1, 1})
	f.Add("k", append([]byte{0, 0, 0, 9, 1}, make([]byte, 40)...))
	f.Add("k", append([]byte{0, 0, 0, 2, 2}, make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		pt, err := kr.open(key, value)
		if err != nil {
			if pt != nil {
				t.Fatalf("open returned %q with error %v", pt, err)
			}
			return
		}
		// It opened, so it must be authentic: sealing pt again under the
		// same key must open back to pt.
		ct, err := kr.seal(rand.Reader, key, pt)
		if err != nil {
			t.Fatal(err)
		}
		again, err := kr.open(key, ct)
		if err != nil || !bytes.Equal(again, pt) {
			t.Fatalf("reseal round trip = %q, %v; want %q", again, err, pt)
		}
	})
}

// FuzzDecodeKeyring feeds arbitrary blobs to the keyring decoder: no panic,
// and an error means no keyring.
func FuzzDecodeKeyring(f *testing.F) {
	kr := fuzzKeyring(f)
	blob, err := kr.encode(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add(blob[:len(blob)-1])
	f.Add([]byte{keyringVersion})
	f.Add([]byte{})
	bad, err := sealWithRoot(rand.Reader, kr.rootKey, []byte(`{"version":1,"active_term":3,"terms":[]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bad)
	bad, err = sealWithRoot(rand.Reader, kr.rootKey, []byte(`{"version":1,"active_term":1,"terms":[{"term":1,"key":"AAAA"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bad)
	f.Fuzz(func(t *testing.T, blob []byte) {
		got, err := decodeKeyring(kr.rootKey, blob)
		if err != nil {
			if got != nil {
				t.Fatalf("decodeKeyring returned a keyring with error %v", err)
			}
			return
		}
		if got.active == nil || got.terms[got.active.term] != got.active {
			t.Fatal("decoded keyring has no usable active term")
		}
	})
}
