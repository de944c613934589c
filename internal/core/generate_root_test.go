package core_test

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	otpRE  = regexp.MustCompile(`^[0-9A-Za-z]{43}$`)
)

// unsealedCore initializes a core with shares/threshold and unseals it.
func unsealedCore(t *testing.T, shares, threshold int) (*core.Core, *api.InitResponse) {
	t.Helper()
	c := newCore(t, inmem.New())
	init, err := c.Init(ctx, api.InitRequest{SecretShares: shares, SecretThreshold: threshold})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range init.Keys[:threshold] {
		if _, err := c.Unseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if c.Sealed() {
		t.Fatal("still sealed")
	}
	return c, init
}

// decodeRoot undoes the encoding Vault's CLI expects: unpadded standard
// base64 of token XOR otp.
func decodeRoot(t *testing.T, encoded, otp string) string {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("encoded token %q is not unpadded base64: %v", encoded, err)
	}
	if len(b) != len(otp) {
		t.Fatalf("encoded token has %d bytes, otp %d", len(b), len(otp))
	}
	for i := range b {
		b[i] ^= otp[i]
	}
	return string(b)
}

// wantRootToken fails unless tok is a working root token.
func wantRootToken(t *testing.T, c *core.Core, tok string) {
	t.Helper()
	if !strings.HasPrefix(tok, "ws.") || len(tok) != 43 {
		t.Fatalf("decoded token %q is not a Ward token", tok)
	}
	resp := mustCall(t, c, tok, engine.OpRead, "auth/token/lookup-self", nil)
	if p, _ := resp.Data["policies"].([]string); len(p) != 1 || p[0] != "root" {
		t.Fatalf("new token's policies = %v, want [root]", resp.Data["policies"])
	}
	mustCall(t, c, tok, engine.OpUpdate, "sys/policies/acl/made-by-new-root", map[string]any{"policy": `path "x" { capabilities = ["read"] }`})
}

func wantBadRequest(t *testing.T, err error, substr string) {
	t.Helper()
	if !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("want a 400 error containing %q, got %v", substr, err)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

func TestGenerateRootFlow(t *testing.T) {
	c, init := unsealedCore(t, 5, 3)

	st, err := c.GenerateRootStatus(ctx)
	if err != nil || st.Started || st.Nonce != "" || st.Progress != 0 || st.Required != 3 || st.OTPLength != 43 {
		t.Fatalf("status before start = %+v, %v", st, err)
	}
	st, err = c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Started || !uuidRE.MatchString(st.Nonce) || !otpRE.MatchString(st.OTP) || st.Required != 3 || st.Progress != 0 || st.Complete {
		t.Fatalf("start = %+v", st)
	}
	nonce, otp := st.Nonce, st.OTP

	// The OTP is shown once.
	st, err = c.GenerateRootStatus(ctx)
	if err != nil || !st.Started || st.Nonce != nonce || st.OTP != "" {
		t.Fatalf("status after start = %+v, %v", st, err)
	}
	_, err = c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	wantBadRequest(t, err, "already in progress")

	_, err = c.GenerateRootUpdate(ctx, init.Keys[0], "not-the-nonce")
	wantBadRequest(t, err, "incorrect nonce")
	if _, err := c.GenerateRootUpdate(ctx, "not a key!", nonce); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("garbage share: %v", err)
	}
	if _, err := c.GenerateRootUpdate(ctx, "", nonce); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("empty share: %v", err)
	}
	st, err = c.GenerateRootUpdate(ctx, init.Keys[0], nonce)
	if err != nil || st.Progress != 1 || st.Complete || st.EncodedToken != "" {
		t.Fatalf("share 1 = %+v, %v", st, err)
	}
	// The same share again, in base64, makes no progress.
	_, err = c.GenerateRootUpdate(ctx, init.KeysBase64[0], nonce)
	wantBadRequest(t, err, "already given")
	if st, _ = c.GenerateRootStatus(ctx); st.Progress != 1 {
		t.Fatalf("progress after a repeated share = %d, want 1", st.Progress)
	}
	st, err = c.GenerateRootUpdate(ctx, init.KeysBase64[3], nonce)
	if err != nil || st.Progress != 2 {
		t.Fatalf("share 2 = %+v, %v", st, err)
	}
	st, err = c.GenerateRootUpdate(ctx, init.Keys[4], nonce)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete || st.Progress != 3 || st.Required != 3 || st.EncodedToken == "" || st.EncodedRootToken != st.EncodedToken || st.OTP != "" {
		t.Fatalf("last share = %+v", st)
	}
	tok := decodeRoot(t, st.EncodedToken, otp)
	wantRootToken(t, c, tok)
	if tok == init.RootToken {
		t.Fatal("generate-root handed out the initial root token")
	}

	// The attempt is over.
	st, err = c.GenerateRootStatus(ctx)
	if err != nil || st.Started || st.Nonce != "" || st.Progress != 0 {
		t.Fatalf("status after completion = %+v, %v", st, err)
	}
	_, err = c.GenerateRootUpdate(ctx, init.Keys[1], nonce)
	wantBadRequest(t, err, "no attempt")
}

func TestGenerateRootBadSharesResetProgress(t *testing.T) {
	c, init := unsealedCore(t, 3, 2)
	other := newCore(t, inmem.New())
	foreign, err := other.Init(ctx, api.InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil {
		t.Fatal(err)
	}
	nonce, otp := st.Nonce, st.OTP
	if _, err := c.GenerateRootUpdate(ctx, init.Keys[0], nonce); err != nil {
		t.Fatal(err)
	}
	// A foreign share of the right size: the set does not combine to
	// this server's key.
	for _, k := range foreign.Keys {
		_, err = c.GenerateRootUpdate(ctx, k, nonce)
		if err == nil {
			t.Fatal("a foreign share completed the attempt")
		}
		if !strings.Contains(err.Error(), "already given") {
			break
		}
	}
	wantBadRequest(t, err, "progress reset")
	st, err = c.GenerateRootStatus(ctx)
	if err != nil || !st.Started || st.Nonce != nonce || st.Progress != 0 {
		t.Fatalf("after bad shares: %+v, %v (want the same attempt with no progress)", st, err)
	}
	// The attempt and its OTP survive: the right shares finish it.
	if _, err := c.GenerateRootUpdate(ctx, init.Keys[2], nonce); err != nil {
		t.Fatal(err)
	}
	st, err = c.GenerateRootUpdate(ctx, init.Keys[1], nonce)
	if err != nil || !st.Complete {
		t.Fatalf("retry: %+v, %v", st, err)
	}
	wantRootToken(t, c, decodeRoot(t, st.EncodedToken, otp))
}

func TestGenerateRootCancel(t *testing.T) {
	c, init := unsealedCore(t, 3, 2)
	// Cancel with nothing in progress is fine.
	if err := c.GenerateRootCancel(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil {
		t.Fatal(err)
	}
	old := st.Nonce
	if _, err := c.GenerateRootUpdate(ctx, init.Keys[0], old); err != nil {
		t.Fatal(err)
	}
	if err := c.GenerateRootCancel(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ = c.GenerateRootStatus(ctx); st.Started || st.Progress != 0 {
		t.Fatalf("after cancel: %+v", st)
	}
	_, err = c.GenerateRootUpdate(ctx, init.Keys[1], old)
	wantBadRequest(t, err, "no attempt")

	st, err = c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil || st.Nonce == old {
		t.Fatalf("restart: %+v, %v", st, err)
	}
	// The share given to the canceled attempt does not count.
	_, err = c.GenerateRootUpdate(ctx, init.Keys[1], old)
	wantBadRequest(t, err, "incorrect nonce")
	if st, err = c.GenerateRootUpdate(ctx, init.Keys[1], st.Nonce); err != nil || st.Progress != 1 {
		t.Fatalf("first share of the new attempt: %+v, %v", st, err)
	}
}

func TestGenerateRootNeedsUnsealedServer(t *testing.T) {
	fresh := newCore(t, inmem.New())
	if _, err := fresh.GenerateRootStatus(ctx); !errors.Is(err, core.ErrNotInitialized) {
		t.Fatalf("status of an uninitialized server: %v", err)
	}

	c, init := unsealedCore(t, 3, 2)
	st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GenerateRootUpdate(ctx, init.Keys[0], st.Nonce); err != nil {
		t.Fatal(err)
	}
	c.Seal()
	if _, err := c.GenerateRootStatus(ctx); !errors.Is(err, engine.ErrSealed) {
		t.Errorf("status while sealed: %v", err)
	}
	if _, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{}); !errors.Is(err, engine.ErrSealed) {
		t.Errorf("start while sealed: %v", err)
	}
	if _, err := c.GenerateRootUpdate(ctx, init.Keys[1], st.Nonce); !errors.Is(err, engine.ErrSealed) {
		t.Errorf("update while sealed: %v", err)
	}
	if err := c.GenerateRootCancel(ctx); !errors.Is(err, engine.ErrSealed) {
		t.Errorf("cancel while sealed: %v", err)
	}
	// Sealing ended the attempt.
	for _, k := range init.Keys[1:] {
		if _, err := c.Unseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := c.GenerateRootStatus(ctx); err != nil || st.Started || st.Progress != 0 {
		t.Fatalf("after seal and unseal: %+v, %v", st, err)
	}
}

func TestGenerateRootOTP(t *testing.T) {
	c, init := unsealedCore(t, 1, 1)
	for _, tc := range []struct {
		name string
		req  api.GenerateRootInitRequest
		want string
	}{
		{"pgp", api.GenerateRootInitRequest{PGPKey: "bm90IGEgcmVhbCBwZ3Aga2V5"}, "pgp_key is not supported"},
		{"short", api.GenerateRootInitRequest{OTP: "abc"}, "must be 43 base62 characters"},
		{"legacy base64", api.GenerateRootInitRequest{OTP: "c2l4dGVlbi1ieXRlcy0xMg=="}, "must be 43 base62 characters"},
		{"not base62", api.GenerateRootInitRequest{OTP: strings.Repeat("a", 42) + "/"}, "base62"},
	} {
		_, err := c.GenerateRootInit(ctx, tc.req)
		if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want a 400 containing %q", tc.name, err, tc.want)
		}
		if tc.req.OTP != "" && err != nil && strings.Contains(err.Error(), tc.req.OTP) {
			t.Errorf("%s: the error repeats the otp: %v", tc.name, err)
		}
	}
	if st, _ := c.GenerateRootStatus(ctx); st.Started {
		t.Fatalf("a refused start left an attempt: %+v", st)
	}

	// A chosen OTP is used and not echoed; one share of a 1-of-1 server
	// completes at once.
	otp := "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"
	st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{OTP: otp})
	if err != nil || st.OTP != "" || st.Required != 1 {
		t.Fatalf("start with own otp: %+v, %v", st, err)
	}
	st, err = c.GenerateRootUpdate(ctx, init.KeysBase64[0], st.Nonce)
	if err != nil || !st.Complete || st.Progress != 1 {
		t.Fatalf("update: %+v, %v", st, err)
	}
	wantRootToken(t, c, decodeRoot(t, st.EncodedToken, otp))
}

func TestGenerateRootOTPsDiffer(t *testing.T) {
	c, _ := unsealedCore(t, 1, 1)
	seen := map[string]bool{}
	for range 20 {
		st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !otpRE.MatchString(st.OTP) || seen[st.OTP] {
			t.Fatalf("otp %q: malformed or repeated", st.OTP)
		}
		seen[st.OTP] = true
		if err := c.GenerateRootCancel(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// With an auto-unseal seal the recovery shares authorise generate-root.
func TestGenerateRootWithRecoveryShares(t *testing.T) {
	c := newSealedCore(t, inmem.New(), newTestSeal(t), nil, nil)
	init, err := c.Init(ctx, api.InitRequest{RecoveryShares: 3, RecoveryThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	other := newSealedCore(t, inmem.New(), newTestSeal(t), nil, nil)
	foreign, err := other.Init(ctx, api.InitRequest{RecoveryShares: 3, RecoveryThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.GenerateRootInit(ctx, api.GenerateRootInitRequest{})
	if err != nil || st.Required != 2 {
		t.Fatalf("start = %+v, %v", st, err)
	}
	nonce, otp := st.Nonce, st.OTP
	if _, err := c.GenerateRootUpdate(ctx, init.RecoveryKeys[0], nonce); err != nil {
		t.Fatal(err)
	}
	// Another server's recovery share does not form this one's key.
	for _, k := range foreign.RecoveryKeys {
		if _, err = c.GenerateRootUpdate(ctx, k, nonce); err == nil || !strings.Contains(err.Error(), "already given") {
			break
		}
	}
	wantBadRequest(t, err, "progress reset")
	for _, k := range []string{init.RecoveryKeysBase64[2], init.RecoveryKeys[1]} {
		if st, err = c.GenerateRootUpdate(ctx, k, nonce); err != nil {
			t.Fatal(err)
		}
	}
	if !st.Complete {
		t.Fatalf("after two recovery shares: %+v", st)
	}
	wantRootToken(t, c, decodeRoot(t, st.EncodedToken, otp))
}
