package main

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// vaultDecodeRoot decodes an encoded root token the way the Vault CLI
// does for a server-generated OTP: unpadded standard base64, then XOR
// with the OTP's bytes.
func vaultDecodeRoot(t *testing.T, encoded, otp string) string {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("encoded token %q: %v", encoded, err)
	}
	if len(b) != len(otp) {
		t.Fatalf("encoded token is %d bytes, otp %d", len(b), len(otp))
	}
	for i := range b {
		b[i] ^= otp[i]
	}
	return string(b)
}

// TestVaultGenerateRoot runs root token generation on a 3-of-5 server
// with Vault's Go client: the whole flow, then the refusals.
func TestVaultGenerateRoot(t *testing.T) {
	t.Parallel()
	p := startConfig(t, t.TempDir(), lcInmemHCL)
	anon := vaultClient(t, p.Addr, "")
	anon.ClearToken()
	sys := anon.Sys()
	init, err := sys.Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	keys, keysB64 := init.Keys, init.KeysB64

	// Sealed: 503 to every generate-root call.
	_, err = sys.GenerateRootStatus()
	wantStatus(t, err, http.StatusServiceUnavailable, "sealed")
	_, err = sys.GenerateRootInit("", "")
	wantStatus(t, err, http.StatusServiceUnavailable, "sealed")
	for _, k := range keys[:3] {
		if _, err := sys.Unseal(k); err != nil {
			t.Fatal(err)
		}
	}

	st, err := sys.GenerateRootStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.Started || st.Nonce != "" || st.Progress != 0 || st.Required != 3 || st.OTPLength != 43 || st.Complete {
		t.Fatalf("status before start = %+v", st)
	}

	// The whole flow, with no token at all.
	st, err = sys.GenerateRootInit("", "")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Started || st.Nonce == "" || len(st.OTP) != st.OTPLength || st.Required != 3 {
		t.Fatalf("start = %+v", st)
	}
	nonce, otp := st.Nonce, st.OTP
	if again, err := sys.GenerateRootStatus(); err != nil || again.Nonce != nonce || again.OTP != "" {
		t.Fatalf("status after start = %+v, %v (the OTP must not be shown again)", again, err)
	}
	_, err = sys.GenerateRootInit("", "")
	wantStatus(t, err, http.StatusBadRequest, "already in progress")
	_, err = sys.GenerateRootUpdate(keys[0], "not-"+nonce)
	wantStatus(t, err, http.StatusBadRequest, "incorrect nonce")

	if st, err = sys.GenerateRootUpdate(keys[0], nonce); err != nil || st.Progress != 1 || st.Complete {
		t.Fatalf("share 1: %+v, %v", st, err)
	}
	_, err = sys.GenerateRootUpdate(keysB64[0], nonce)
	wantStatus(t, err, http.StatusBadRequest, "already given")
	if st, err = sys.GenerateRootUpdate(keysB64[3], nonce); err != nil || st.Progress != 2 {
		t.Fatalf("share 2: %+v, %v", st, err)
	}
	st, err = sys.GenerateRootUpdate(keys[4], nonce)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete || st.Progress != 3 || st.EncodedToken == "" || st.EncodedRootToken != st.EncodedToken {
		t.Fatalf("last share = %+v", st)
	}
	newRoot := vaultDecodeRoot(t, st.EncodedToken, otp)
	if newRoot == init.RootToken || !strings.HasPrefix(newRoot, "ws.") {
		t.Fatalf("decoded token %q", newRoot)
	}
	root := withToken(t, anon, newRoot)
	self, err := root.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if pol, _ := self.TokenPolicies(); !slices.Equal(pol, []string{"root"}) {
		t.Fatalf("new token's policies = %v", pol)
	}
	if err := root.Sys().PutPolicy("from-new-root", `path "secret/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if st, err = sys.GenerateRootStatus(); err != nil || st.Started {
		t.Fatalf("status after completion = %+v, %v", st, err)
	}

	// Shares that do not form the key: 400, progress reset, the attempt
	// (nonce and OTP) kept.
	st, err = sys.GenerateRootInit("", "")
	if err != nil {
		t.Fatal(err)
	}
	nonce = st.Nonce
	raw, _ := hex.DecodeString(keys[2])
	raw[0] ^= 0xff
	for _, k := range []string{keys[0], keys[1]} {
		if _, err := sys.GenerateRootUpdate(k, nonce); err != nil {
			t.Fatal(err)
		}
	}
	_, err = sys.GenerateRootUpdate(hex.EncodeToString(raw), nonce)
	wantStatus(t, err, http.StatusBadRequest, "progress reset")
	if st, err = sys.GenerateRootStatus(); err != nil || !st.Started || st.Nonce != nonce || st.Progress != 0 {
		t.Fatalf("after bad shares = %+v, %v", st, err)
	}
	for _, k := range []string{keys[1], keysB64[2]} {
		if _, err := sys.GenerateRootUpdate(k, nonce); err != nil {
			t.Fatal(err)
		}
	}

	// Cancel drops the attempt and its shares.
	if err := sys.GenerateRootCancel(); err != nil {
		t.Fatal(err)
	}
	if st, err = sys.GenerateRootStatus(); err != nil || st.Started || st.Progress != 0 {
		t.Fatalf("after cancel = %+v, %v", st, err)
	}
	_, err = sys.GenerateRootUpdate(keys[3], nonce)
	wantStatus(t, err, http.StatusBadRequest, "no attempt")

	// A chosen OTP of the right length works; PGP is refused.
	_, err = sys.GenerateRootInit("", "bm90IGEga2V5")
	wantStatus(t, err, http.StatusBadRequest, "pgp_key is not supported")
	_, err = sys.GenerateRootInit("c2l4dGVlbi1ieXRlcy0xMg==", "")
	wantStatus(t, err, http.StatusBadRequest, "43 base62")
	mine := strings.Repeat("Ward0", 8) + "abc"
	if st, err = sys.GenerateRootInit(mine, ""); err != nil || st.OTP != "" {
		t.Fatalf("start with own otp: %+v, %v", st, err)
	}
	for _, k := range []string{keys[2], keys[3], keys[1]} {
		if st, err = sys.GenerateRootUpdate(k, st.Nonce); err != nil {
			t.Fatal(err)
		}
	}
	second := vaultDecodeRoot(t, st.EncodedToken, mine)
	if _, err := withToken(t, anon, second).Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("token decoded with a chosen otp: %v", err)
	}

	// Sealing ends an attempt; while sealed every call is 503.
	if _, err := sys.GenerateRootInit("", ""); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	_, err = sys.GenerateRootStatus()
	wantStatus(t, err, http.StatusServiceUnavailable, "sealed")
	_, err = sys.GenerateRootUpdate(keys[0], nonce)
	wantStatus(t, err, http.StatusServiceUnavailable, "sealed")
	err = sys.GenerateRootCancel()
	wantStatus(t, err, http.StatusServiceUnavailable, "sealed")
	for _, k := range keys[2:] {
		if _, err := sys.Unseal(k); err != nil {
			t.Fatal(err)
		}
	}
	if st, err = sys.GenerateRootStatus(); err != nil || st.Started {
		t.Fatalf("after seal and unseal = %+v, %v", st, err)
	}
	// Both root tokens outlive the seal.
	for _, tok := range []string{init.RootToken, newRoot} {
		if _, err := withToken(t, anon, tok).Auth().Token().LookupSelf(); err != nil {
			t.Fatalf("root token after unseal: %v", err)
		}
	}
}
