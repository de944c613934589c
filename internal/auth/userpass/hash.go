package userpass

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/wardsec/ward/internal/engine"
)

const (
	// MaxPasswordLen is the longest password accepted, in bytes.
	MaxPasswordLen = 1024
	// bcryptMaxPassword is how much of a password bcrypt reads.
	bcryptMaxPassword = 72

	argon2Version = argon2.Version // 19
	argon2SaltLen = 16
	argon2KeyLen  = 32
	minArgon2Salt = 8
	maxArgon2Salt = 64
	minArgon2Key  = 16
	maxArgon2Key  = 64
)

// argon2Params are argon2id's work factors.
type argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

func (p argon2Params) validate() error {
	if p.Time < 1 || p.Time > MaxArgon2Time {
		return &engine.InputError{Field: "argon2_time", Rule: fmt.Sprintf("must be between 1 and %d", MaxArgon2Time)}
	}
	if p.Threads < 1 || p.Threads > MaxArgon2Threads {
		return &engine.InputError{Field: "argon2_threads", Rule: fmt.Sprintf("must be between 1 and %d", MaxArgon2Threads)}
	}
	low := max(uint32(MinArgon2Memory), 8*uint32(p.Threads))
	if p.Memory < low || p.Memory > MaxArgon2Memory {
		return &engine.InputError{Field: "argon2_memory", Rule: fmt.Sprintf("must be between %d and %d KiB (and at least 8 KiB per thread)", low, MaxArgon2Memory)}
	}
	return nil
}

// hash is a parsed stored hash.
type hash struct {
	alg    string
	cost   int          // bcrypt
	params argon2Params // argon2id
	salt   []byte       // argon2id
	key    []byte       // argon2id
	raw    string
}

// bcryptHash matches the modular crypt format of bcrypt: version, two
// digit cost, 22 characters of salt and 31 of hash.
var bcryptHash = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// b64 is the PHC string format's base64: standard alphabet, no padding,
// and no stray bits, so that a string has one decoding and one encoding.
var b64 = base64.RawStdEncoding.Strict()

// parseHash parses a stored or imported hash: bcrypt, or argon2id as a
// PHC string. Work factors must be within Config's bounds. The error
// never quotes the hash.
func parseHash(s string) (hash, error) {
	if strings.HasPrefix(s, "$argon2id$") {
		return parseArgon2(s)
	}
	if !bcryptHash.MatchString(s) {
		return hash{}, fmt.Errorf("not a bcrypt hash or an argon2id PHC string")
	}
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil {
		return hash{}, fmt.Errorf("malformed bcrypt hash")
	}
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return hash{}, fmt.Errorf("bcrypt cost must be between %d and %d", MinBcryptCost, MaxBcryptCost)
	}
	return hash{alg: Bcrypt, cost: cost, raw: s}, nil
}

// parseArgon2 parses "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>".
func parseArgon2(s string) (hash, error) {
	bad := fmt.Errorf("malformed argon2id PHC string")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != Argon2id || parts[2] != "v="+strconv.Itoa(argon2Version) {
		return hash{}, bad
	}
	var p argon2Params
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return hash{}, bad
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return hash{}, bad
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return hash{}, bad
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return hash{}, bad
			}
			p.Threads = uint8(n)
		}
	}
	if err := p.validate(); err != nil {
		return hash{}, fmt.Errorf("argon2id parameters out of bounds: %w", err)
	}
	salt, ok := decodeB64(parts[4])
	if !ok || len(salt) < minArgon2Salt || len(salt) > maxArgon2Salt {
		return hash{}, bad
	}
	key, ok := decodeB64(parts[5])
	if !ok || len(key) < minArgon2Key || len(key) > maxArgon2Key {
		return hash{}, bad
	}
	return hash{alg: Argon2id, params: p, salt: salt, key: key, raw: s}, nil
}

// decodeB64 decodes s, refusing any s that is not the one encoding of
// its bytes (the decoder skips newlines, for one).
func decodeB64(s string) ([]byte, bool) {
	out, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(out) != s {
		return nil, false
	}
	return out, true
}

// formatArgon2 renders an argon2id hash as a PHC string.
func formatArgon2(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", Argon2id, argon2Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// String never shows the hash.
func (h hash) String() string { return h.alg + " hash [redacted]" }

// verify reports whether password matches h, in time independent of
// where they differ. With bcrypt a password over 72 bytes never matches:
// bcrypt would compare only its first 72 bytes.
func (h hash) verify(password []byte) bool {
	switch h.alg {
	case Bcrypt:
		if len(password) > bcryptMaxPassword {
			return false
		}
		return bcrypt.CompareHashAndPassword([]byte(h.raw), password) == nil
	case Argon2id:
		got := argon2.IDKey(password, h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
		return subtle.ConstantTimeCompare(got, h.key) == 1
	}
	return false
}

// current reports whether h was made with c's algorithm and work factors.
func (h hash) current(c Config) bool {
	switch h.alg {
	case Bcrypt:
		return c.HashAlgorithm == Bcrypt && h.cost == c.BcryptCost
	case Argon2id:
		return c.HashAlgorithm == Argon2id && h.params == c.argon2() &&
			len(h.salt) == argon2SaltLen && len(h.key) == argon2KeyLen
	}
	return false
}

// errPasswordTooLong refuses a password over MaxPasswordLen, naming the
// rule and never the password.
var errPasswordTooLong = &engine.InputError{Field: "password", Rule: fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)}

// within refuses an imported hash whose work factors exceed c's, so that
// checking it costs no more than checking a hash the mount made itself:
// a user who may set their own password_hash could otherwise make every
// login for their name allocate up to MaxArgon2Memory. The error names
// the rule, never the hash.
func (h hash) within(c Config) error {
	switch h.alg {
	case Bcrypt:
		if h.cost > c.BcryptCost {
			return fmt.Errorf("bcrypt cost must be between %d and the mount's bcrypt_cost (%d)", MinBcryptCost, c.BcryptCost)
		}
	case Argon2id:
		p := c.argon2()
		if h.params.Time > p.Time || h.params.Memory > p.Memory || h.params.Threads > p.Threads {
			return fmt.Errorf("argon2id parameters must not exceed the mount's argon2_time (%d), argon2_memory (%d KiB) and argon2_threads (%d)", p.Time, p.Memory, p.Threads)
		}
	}
	return nil
}

// checkPassword refuses a password c cannot hash. The error names the
// rule, never the password.
func checkPassword(c Config, password []byte) error {
	switch {
	case len(password) == 0:
		return &engine.InputError{Field: "password", Rule: "must not be empty"}
	case len(password) > MaxPasswordLen:
		return errPasswordTooLong
	case c.HashAlgorithm == Bcrypt && len(password) > bcryptMaxPassword:
		return &engine.InputError{Field: "password", Rule: "must be at most 72 bytes with bcrypt (set hash_algorithm=argon2id in config for longer passwords)"}
	}
	return nil
}

// hashPassword hashes password with c's algorithm and work factors;
// random supplies argon2id's salt (bcrypt draws its own). The password
// must have passed checkPassword.
func hashPassword(c Config, password []byte, random io.Reader) (string, error) {
	switch c.HashAlgorithm {
	case Bcrypt:
		out, err := bcrypt.GenerateFromPassword(password, c.BcryptCost)
		if err != nil {
			return "", fmt.Errorf("hash password: %w", err)
		}
		return string(out), nil
	case Argon2id:
		salt := make([]byte, argon2SaltLen)
		if _, err := io.ReadFull(random, salt); err != nil {
			return "", fmt.Errorf("hash password: read salt: %w", err)
		}
		p := c.argon2()
		key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, argon2KeyLen)
		return formatArgon2(p, salt, key), nil
	}
	return "", fmt.Errorf("hash password: unknown algorithm %q", c.HashAlgorithm)
}

// acquire takes one of the slots that bound concurrent hashing, waiting
// for one as long as ctx allows. The caller must call release.
func (b *backend) acquire(ctx context.Context) error {
	select {
	case b.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *backend) release() { <-b.hashSlots }

// hash hashes password with c, in a hashing slot.
func (b *backend) hash(ctx context.Context, c Config, password []byte) (string, error) {
	if err := b.acquire(ctx); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	defer b.release()
	return hashPassword(c, password, b.rand)
}

// verify checks password against h, in a hashing slot.
func (b *backend) verify(ctx context.Context, h hash, password []byte) (bool, error) {
	if err := b.acquire(ctx); err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	defer b.release()
	return h.verify(password), nil
}

// dummy returns a hash of a random password made with c's settings, for
// checking an unknown user's password in the time a real check takes. It
// is made once per setting.
func (b *backend) dummy(ctx context.Context, c Config) (hash, error) {
	key := fmt.Sprintf("%s/%d/%+v", c.HashAlgorithm, c.BcryptCost, c.argon2())
	b.dummyMu.Lock()
	defer b.dummyMu.Unlock()
	if b.dummyKey == key {
		return b.dummyHash, nil
	}
	pw := make([]byte, 24)
	if _, err := io.ReadFull(b.rand, pw); err != nil {
		return hash{}, fmt.Errorf("make dummy hash: %w", err)
	}
	raw, err := b.hash(ctx, c, pw)
	if err != nil {
		return hash{}, err
	}
	h, err := parseHash(raw)
	if err != nil {
		return hash{}, fmt.Errorf("make dummy hash: %w", err)
	}
	b.dummyKey, b.dummyHash = key, h
	return h, nil
}
