package core

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"sync"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/token"
)

// otpLength is the length of a generate-root one-time password. The new
// root token is XORed with it byte for byte, so it is the length of a
// Ward token: the "ws." prefix and 40 base62 characters.
const otpLength = len(token.Prefix) + 40

// otpAlphabet is the alphabet of generated one-time passwords; a given one
// must use it too.
const otpAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// rootGeneration is the generate-root attempt in progress: at most one at
// a time. It lives in the unsealed state, so sealing ends it; mu guards
// every field and is taken only by the generate-root calls.
type rootGeneration struct {
	mu sync.Mutex
	// nonce names the attempt; "" when none is in progress.
	nonce string
	// otp is what the new root token is XORed with.
	otp []byte
	// shares are the key shares given so far, decoded.
	shares [][]byte
	// watch arranges, once per unseal, for the attempt to end at seal.
	watch sync.Once
}

// resetShares forgets the shares given so far, zeroing them.
func (g *rootGeneration) resetShares() {
	for _, s := range g.shares {
		clear(s)
	}
	g.shares = nil
}

// end forgets the attempt, zeroing its shares and OTP.
func (g *rootGeneration) end() {
	g.resetShares()
	clear(g.otp)
	g.otp = nil
	g.nonce = ""
}

// status reports the attempt; the OTP and encoded token are left empty.
func (g *rootGeneration) status(required int) *api.GenerateRootStatus {
	return &api.GenerateRootStatus{
		Started:   g.nonce != "",
		Nonce:     g.nonce,
		Progress:  len(g.shares),
		Required:  required,
		OTPLength: otpLength,
	}
}

// GenerateRootStatus answers GET sys/generate-root/attempt: whether an
// attempt is in progress, its nonce, and how many of the required key
// shares it has. An uninitialized server is ErrNotInitialized (400); a
// sealed one engine.ErrSealed (503).
func (c *Core) GenerateRootStatus(ctx context.Context) (*api.GenerateRootStatus, error) {
	_, threshold, err := c.keyShareConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	g := &s.rootGen
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status(threshold), nil
}

// GenerateRootInit starts an attempt to generate a root token. Without
// req.OTP it generates a one-time password and returns it, once, in the
// status's OTP; a given OTP must be otpLength base62 characters and is
// not echoed. It fails with a 400 when an attempt is already in progress,
// when req.PGPKey is set (Ward has no PGP) or when req.OTP is malformed,
// and with engine.ErrSealed while sealed.
func (c *Core) GenerateRootInit(ctx context.Context, req api.GenerateRootInitRequest) (*api.GenerateRootStatus, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	if req.PGPKey != "" {
		return nil, engine.BadRequest("generate root: pgp_key is not supported: Ward has no PGP; leave it out and keep the otp the server returns")
	}
	otp := req.OTP
	generated := otp == ""
	if generated {
		if otp, err = randomOTP(c.opts.Rand); err != nil {
			return nil, err
		}
	} else if err := validateOTP(otp); err != nil {
		return nil, err
	}
	_, threshold, err := c.keyShareConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("generate root: %w", err)
	}

	g := &s.rootGen
	g.watch.Do(func() {
		context.AfterFunc(s.ctx, func() {
			g.mu.Lock()
			g.end()
			g.mu.Unlock()
		})
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.nonce != "" {
		return nil, engine.BadRequest("generate root: an attempt is already in progress (nonce %s); finish it or cancel it first", g.nonce)
	}
	g.nonce = newUUID(c.opts.Rand)
	g.otp = []byte(otp)
	c.log.Info("core: root token generation started", "nonce", g.nonce)
	st := g.status(threshold)
	if generated {
		st.OTP = otp
	}
	return st, nil
}

// GenerateRootCancel ends the attempt in progress, if any, forgetting its
// shares. It fails only with engine.ErrSealed while sealed.
func (c *Core) GenerateRootCancel(ctx context.Context) error {
	s, err := c.state()
	if err != nil {
		return err
	}
	g := &s.rootGen
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.nonce != "" {
		c.log.Info("core: root token generation canceled", "nonce", g.nonce)
	}
	g.end()
	return nil
}

// GenerateRootUpdate adds one key share (hex or standard base64) to the
// attempt named by nonce. Below the threshold it returns the progress. At
// the threshold it checks the shares (unseal shares with a Shamir seal,
// recovery shares with an auto-unseal seal), creates a root token and
// returns it XORed with the attempt's OTP in EncodedToken, ending the
// attempt.
//
// Every refusal is a 400: no attempt in progress, a nonce that is not the
// attempt's, a malformed share, a share given twice (no progress is made),
// and shares that do not form the key (errBadShares: progress is reset,
// the attempt and its OTP stay). It is engine.ErrSealed while sealed.
// Shares are zeroed once used and never logged.
func (c *Core) GenerateRootUpdate(ctx context.Context, key, nonce string) (*api.GenerateRootStatus, error) {
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, &engine.InputError{Field: "key", Rule: "must be a key share; it is missing"}
	}
	share, err := decodeShare(key)
	if err != nil {
		return nil, err
	}
	_, threshold, err := c.keyShareConfig(ctx)
	if err != nil {
		clear(share)
		return nil, fmt.Errorf("generate root: %w", err)
	}

	g := &s.rootGen
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.admit(share, nonce); err != nil {
		clear(share)
		return nil, err
	}
	if len(g.shares) < threshold {
		return g.status(threshold), nil
	}

	shares := g.shares
	g.shares = nil
	defer func() {
		for _, sh := range shares {
			clear(sh)
		}
	}()
	if err := c.checkKeyShares(ctx, shares); err != nil {
		c.log.Warn("core: root token generation: key shares refused; progress reset", "nonce", g.nonce)
		return nil, err
	}
	root, err := s.tokens.CreateRoot(ctx)
	if err != nil {
		return nil, fmt.Errorf("generate root: create token: %w", err)
	}
	encoded, err := encodeRootToken(root, g.otp)
	if err != nil {
		return nil, err
	}
	st := &api.GenerateRootStatus{
		Started:          true,
		Nonce:            g.nonce,
		Progress:         threshold,
		Required:         threshold,
		EncodedToken:     encoded,
		EncodedRootToken: encoded,
		OTPLength:        otpLength,
		Complete:         true,
	}
	c.log.Info("core: root token generated", "nonce", g.nonce)
	g.end()
	return st, nil
}

// admit checks share against the attempt and adds it. The caller holds
// g.mu and keeps ownership of share when admit fails.
func (g *rootGeneration) admit(share []byte, nonce string) error {
	if g.nonce == "" {
		return engine.BadRequest("generate root: no attempt is in progress; start one first")
	}
	if nonce != g.nonce {
		return engine.BadRequest("generate root: incorrect nonce %q; the attempt in progress has nonce %s", nonce, g.nonce)
	}
	for _, have := range g.shares {
		if subtle.ConstantTimeCompare(have, share) == 1 {
			return engine.BadRequest("generate root: this key share was already given in this attempt; progress unchanged")
		}
	}
	g.shares = append(g.shares, share)
	return nil
}

// encodeRootToken XORs the token's bytes with the OTP's and encodes the
// result in unpadded standard base64, as Vault does.
func encodeRootToken(tok string, otp []byte) (string, error) {
	if len(tok) != len(otp) {
		return "", fmt.Errorf("generate root: encode token: token is %d bytes, otp %d", len(tok), len(otp))
	}
	b := make([]byte, len(otp))
	for i := range b {
		b[i] = tok[i] ^ otp[i]
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// randomOTP returns otpLength uniformly random base62 characters.
func randomOTP(r io.Reader) (string, error) {
	out := make([]byte, 0, otpLength)
	var buf [64]byte
	for len(out) < otpLength {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("generate root: read random otp: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting the bytes above keeps every
			// character equally likely.
			if b < 248 && len(out) < otpLength {
				out = append(out, otpAlphabet[b%62])
			}
		}
	}
	return string(out), nil
}

// validateOTP checks an OTP the caller chose: otpLength base62 characters.
// The message never repeats the OTP.
func validateOTP(otp string) error {
	if len(otp) != otpLength {
		return &engine.InputError{Field: "otp", Rule: fmt.Sprintf("must be %d base62 characters (got %d); leave it out to have the server generate one", otpLength, len(otp))}
	}
	for i := 0; i < len(otp); i++ {
		if !isBase62(otp[i]) {
			return &engine.InputError{Field: "otp", Rule: fmt.Sprintf("must be %d base62 characters (0-9, A-Z, a-z); leave it out to have the server generate one", otpLength)}
		}
	}
	return nil
}

func isBase62(b byte) bool {
	return '0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z'
}
