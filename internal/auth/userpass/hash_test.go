package userpass

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

var testArgon2 = Config{HashAlgorithm: Argon2id, Argon2Time: 1, Argon2Memory: 64, Argon2Threads: 1}

func TestArgon2PHC(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, argon2SaltLen)
	s, err := hashPassword(testArgon2, []byte("pw"), bytes.NewReader(salt))
	if err != nil {
		t.Fatal(err)
	}
	// The PHC string carries the parameters, the salt and argon2id's key,
	// each in unpadded standard base64.
	key := argon2.IDKey([]byte("pw"), salt, 1, 64, 1, argon2KeyLen)
	want := "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	if s != want {
		t.Fatalf("PHC = %s\nwant  %s", s, want)
	}
	h, err := parseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	if !h.verify([]byte("pw")) || h.verify([]byte("pW")) || h.verify(nil) {
		t.Fatal("argon2id verify is wrong")
	}
	if !h.current(testArgon2) {
		t.Fatal("fresh hash is not current")
	}
	for _, c := range []Config{
		{HashAlgorithm: Argon2id, Argon2Time: 2, Argon2Memory: 64, Argon2Threads: 1},
		{HashAlgorithm: Argon2id, Argon2Time: 1, Argon2Memory: 128, Argon2Threads: 1},
		{HashAlgorithm: Bcrypt, BcryptCost: 4},
	} {
		if h.current(c) {
			t.Errorf("hash counted current for %+v", c)
		}
	}
	if s := h.String(); strings.Contains(s, base64.RawStdEncoding.EncodeToString(key)) {
		t.Fatalf("hash prints its key: %s", s)
	}
}

func TestBcryptHash(t *testing.T) {
	s, err := hashPassword(Config{HashAlgorithm: Bcrypt, BcryptCost: 4}, []byte("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	if h.alg != Bcrypt || h.cost != 4 || !h.verify([]byte("pw")) || h.verify([]byte("pw2")) {
		t.Fatalf("bcrypt hash %+v", h)
	}
	if !h.current(Config{HashAlgorithm: Bcrypt, BcryptCost: 4}) || h.current(Config{HashAlgorithm: Bcrypt, BcryptCost: 5}) {
		t.Fatal("bcrypt current is wrong")
	}
	// Hashes from other bcrypt implementations ($2b$, $2y$) verify too.
	for _, v := range []string{"$2b$", "$2y$"} {
		h, err := parseHash(v + s[4:])
		if err != nil || !h.verify([]byte("pw")) {
			t.Errorf("%s hash: %v", v, err)
		}
	}
}

func TestParseHashRejects(t *testing.T) {
	good, _ := hashPassword(testArgon2, []byte("pw"), bytes.NewReader(make([]byte, 16)))
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	for _, bad := range []string{
		"", "pw", "$2a$", string(bc[:59]), string(bc) + "a", "$2c$" + string(bc[4:]), "$2a$32" + string(bc[6:]),
		"$2a$17" + string(bc[6:]), "$1$abc$def",
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		strings.Replace(good, "m=64", "m=064", 1),
		strings.Replace(good, "m=64", "m=+64", 1),
		strings.Replace(good, "m=64", "m=63", 1),
		strings.Replace(good, "m=64", "m=1048577", 1),
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "t=1", "t=33", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "p=1", "p=256", 1),
		strings.Replace(good, "m=64,t=1,p=1", "t=1,m=64,p=1", 1),
		strings.Replace(good, "m=64,t=1,p=1", "m=64,t=1,p=1,k=2", 1),
		good + "$", good + "=", good[:len(good)-1] + "!",
		"$argon2id$v=19$m=64,t=1,p=1$AAAA$" + strings.Repeat("A", 43),      // salt too short
		"$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 22) + "$AAAA", // key too short
	} {
		if h, err := parseHash(bad); err == nil {
			t.Errorf("parseHash(%q) = %+v, want an error", bad, h)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error quotes the hash: %v", err)
		}
	}
}

// FuzzParseHash checks that no input panics the hash parser, that an
// accepted argon2id string is canonical (it re-renders to itself) and
// carries bounded parameters, and that an accepted hash can be verified.
func FuzzParseHash(f *testing.F) {
	good, err := hashPassword(testArgon2, []byte("pw"), bytes.NewReader(make([]byte, 16)))
	if err != nil {
		f.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, string(bc), "$2y$" + string(bc[4:]), "", "$argon2id$", "$argon2id$v=19$m=64,t=1,p=1$$",
		strings.Replace(good, "m=64", "m=4294967295", 1), strings.Replace(good, "p=1", "p=4", 1), string(bc[:59])} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			if h.alg != "" {
				t.Fatalf("error with output: %+v", h)
			}
			return
		}
		switch h.alg {
		case Argon2id:
			if got := formatArgon2(h.params, h.salt, h.key); got != s {
				t.Fatalf("not canonical: %q re-renders as %q", s, got)
			}
			if h.params.validate() != nil {
				t.Fatalf("accepted out-of-bounds parameters %+v", h.params)
			}
			if h.params.Memory <= 4096 && h.params.Time <= 4 {
				h.verify([]byte("pw"))
			}
		case Bcrypt:
			if h.cost < MinBcryptCost || h.cost > MaxBcryptCost || len(s) != 60 {
				t.Fatalf("accepted bcrypt %q", s)
			}
			if h.cost <= 6 {
				h.verify([]byte("pw"))
			}
		default:
			t.Fatalf("accepted %q as %q", s, h.alg)
		}
	})
}
