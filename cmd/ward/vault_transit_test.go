package main

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// TestVaultTransit drives the transit engine, mounted at transit/, with
// Vault's Go client, to Vault's documented API: every key type, rotation
// and rewrap, key policies (min_decryption_version, deletion, export,
// backup), batches, convergent encryption, data keys, random bytes,
// hashes and ACLs. Signatures are checked outside Ward with the Go
// standard library. The server logs at trace level and writes an audit
// log, and neither may hold the canary plaintext afterwards.
func TestVaultTransit(t *testing.T) {
	addr := freeAddr(t)
	srv := startWard(t, addr, "http", nil, "server", "-dev", "-dev-root-token-id=root",
		"-dev-listen-address="+addr, "-log-level=trace")
	c := vaultClient(t, srv.Addr, "root")
	tr := &trClient{t: t, c: c}

	auditLog := filepath.Join(t.TempDir(), "audit.log")
	if err := c.Sys().EnableAuditWithOptions("file", &vaultapi.EnableAuditOptions{
		Type: "file", Options: map[string]string{"file_path": auditLog},
	}); err != nil {
		t.Fatalf("enable audit: %v", err)
	}
	if err := c.Sys().Mount("transit", &vaultapi.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("mount transit: %v", err)
	}
	canary := []byte("transit-canary-" + lcRandHex(t, 8) + "\x00\xff binary tail")

	t.Run("encrypt and decrypt per key type", func(t *testing.T) {
		tr.t = t
		for _, typ := range []string{"aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"} {
			name := "sym-" + typ
			tr.write("transit/keys/"+name, map[string]any{"type": typ})
			k := tr.read("transit/keys/" + name)
			if k["type"] != typ || k["supports_encryption"] != true || k["supports_decryption"] != true || k["supports_signing"] != false {
				t.Errorf("%s: key = %v", typ, k)
			}
			if v, ok := k["keys"].(map[string]any)["1"].(json.Number); !ok || v.String() == "0" {
				t.Errorf("%s: keys = %v, want {\"1\": <unix time>}", typ, k["keys"])
			}
			ct1 := tr.encrypt(name, canary, nil)
			ct2 := tr.encrypt(name, canary, nil)
			if !strings.HasPrefix(ct1, "vault:v1:") || ct1 == ct2 {
				t.Errorf("%s: ciphertexts %q, %q: want vault:v1: and a fresh nonce each time", typ, ct1, ct2)
			}
			if got := tr.decrypt(name, ct1, nil); !bytes.Equal(got, canary) {
				t.Errorf("%s: decrypt = %q", typ, got)
			}
			if got := tr.decrypt(name, tr.encrypt(name, nil, nil), nil); len(got) != 0 {
				t.Errorf("%s: empty plaintext came back as %q", typ, got)
			}
		}
		// Another key cannot decrypt it.
		ct := tr.encrypt("sym-aes256-gcm96", canary, nil)
		tr.refuse(400, "transit/decrypt/sym-chacha20-poly1305", map[string]any{"ciphertext": ct})
	})

	t.Run("sign and verify per key type, checked with the standard library", func(t *testing.T) {
		tr.t = t
		msg := []byte("message to sign " + lcRandHex(t, 4))
		digest256, digest384 := sha256.Sum256(msg), sha512.Sum384(msg)
		for _, tc := range []struct {
			typ, path string
			body      map[string]any
			check     func(pub any, sig []byte) bool
		}{
			{typ: "ed25519", check: func(pub any, sig []byte) bool { return ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) }},
			{typ: "ecdsa-p256", check: func(pub any, sig []byte) bool { return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest256[:], sig) }},
			{typ: "ecdsa-p384", path: "/sha2-384", check: func(pub any, sig []byte) bool { return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest384[:], sig) }},
			{typ: "rsa-2048", check: func(pub any, sig []byte) bool {
				return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest256[:], sig, nil) == nil
			}},
			{typ: "rsa-2048", body: map[string]any{"signature_algorithm": "pkcs1v15"}, check: func(pub any, sig []byte) bool {
				return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest256[:], sig) == nil
			}},
		} {
			name := "sig-" + tc.typ
			tr.write("transit/keys/"+name, map[string]any{"type": tc.typ})
			k := tr.read("transit/keys/" + name)
			// RSA keys also encrypt (RSA-OAEP); ECDSA and ed25519 keys do not.
			if k["type"] != tc.typ || k["supports_signing"] != true || k["supports_encryption"] != strings.HasPrefix(tc.typ, "rsa-") {
				t.Errorf("%s: key = %v", tc.typ, k)
			}
			pub := trPublicKey(t, k, "1")
			body := map[string]any{"input": trB64(msg)}
			for key, v := range tc.body {
				body[key] = v
			}
			sig := trStr(t, tr.write("transit/sign/"+name+tc.path, body), "signature")
			raw, ok := strings.CutPrefix(sig, "vault:v1:")
			if !ok {
				t.Fatalf("%s: signature %q lacks vault:v1:", tc.typ, sig)
			}
			sigBytes, err := base64.StdEncoding.DecodeString(raw)
			if err != nil {
				t.Fatalf("%s: signature is not base64: %v", tc.typ, err)
			}
			if !tc.check(pub, sigBytes) {
				t.Errorf("%s %v: the standard library rejects Ward's signature", tc.typ, tc.body)
			}
			body["signature"] = sig
			if v := tr.write("transit/verify/"+name+tc.path, body)["valid"]; v != true {
				t.Errorf("%s: verify = %v", tc.typ, v)
			}
			body["input"] = trB64(append(msg, '!'))
			if v := tr.write("transit/verify/"+name+tc.path, body)["valid"]; v != false {
				t.Errorf("%s: verify of altered input = %v, want false", tc.typ, v)
			}
		}
		tr.refuse(400, "transit/encrypt/sig-ed25519", map[string]any{"plaintext": trB64(canary)})
		tr.refuse(400, "transit/sign/sym-aes256-gcm96", map[string]any{"input": trB64(msg)})

		// JWS marshaling: r ‖ s in unpadded URL-safe base64.
		sig := trStr(t, tr.write("transit/sign/sig-ecdsa-p256", map[string]any{"input": trB64(msg), "marshaling_algorithm": "jws"}), "signature")
		rs, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sig, "vault:v1:"))
		pub := trPublicKey(t, tr.read("transit/keys/sig-ecdsa-p256"), "1").(*ecdsa.PublicKey)
		if err != nil || len(rs) != 64 || !ecdsa.Verify(pub, digest256[:], new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])) {
			t.Errorf("jws signature %q does not verify as r ‖ s (%v)", sig, err)
		}
		if v := tr.write("transit/verify/sig-ecdsa-p256", map[string]any{"input": trB64(msg), "signature": sig, "marshaling_algorithm": "jws"})["valid"]; v != true {
			t.Errorf("verify jws = %v", v)
		}

		// A derived ed25519 key signs with a key per context; a batch
		// answers each item's public key, and reading the key with that
		// context gives it too.
		tr.write("transit/keys/sig-derived", map[string]any{"type": "ed25519", "derived": true})
		ctx := trB64([]byte("tenant-a"))
		res := trBatch(t, tr.write("transit/sign/sig-derived", map[string]any{"batch_input": []any{
			map[string]any{"input": trB64(msg), "context": ctx},
			map[string]any{"input": trB64(msg), "context": trB64([]byte("tenant-b"))},
		}}))
		if len(res) != 2 || res[0]["publickey"] == res[1]["publickey"] {
			t.Fatalf("derived batch sign = %v", res)
		}
		edPub, _ := base64.StdEncoding.DecodeString(fmt.Sprint(res[0]["publickey"]))
		edSig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(fmt.Sprint(res[0]["signature"]), "vault:v1:"))
		if len(edPub) != ed25519.PublicKeySize || !ed25519.Verify(edPub, msg, edSig) {
			t.Errorf("derived signature does not verify with the publickey the batch returned: %v", res[0])
		}
		tr.refuse(400, "transit/sign/sig-derived", map[string]any{"input": trB64(msg)})
		s, err := c.Logical().ReadWithData("transit/keys/sig-derived", map[string][]string{"context": {ctx}})
		if err != nil || s == nil {
			t.Fatalf("read derived key with context: %v, %v", s, err)
		}
		if got := s.Data["keys"].(map[string]any)["1"].(map[string]any)["public_key"]; got != res[0]["publickey"] {
			t.Errorf("read with context: public_key = %q, want the derived key %q", got, res[0]["publickey"])
		}
	})

	t.Run("rsa encryption opens outside Ward", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/rsa-enc", map[string]any{"type": "rsa-2048", "exportable": true})
		ct := tr.encrypt("rsa-enc", canary, nil)
		if got := tr.decrypt("rsa-enc", ct, nil); !bytes.Equal(got, canary) {
			t.Errorf("rsa decrypt = %q", got)
		}
		exp := tr.read("transit/export/encryption-key/rsa-enc/1")["keys"].(map[string]any)
		blk, _ := pem.Decode([]byte(fmt.Sprint(exp["1"])))
		if blk == nil {
			t.Fatalf("exported rsa key is not PEM: %v", exp)
		}
		priv, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatalf("exported rsa key (%s): %v", blk.Type, err)
		}
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
		if pt, err := rsa.DecryptOAEP(sha256.New(), nil, priv, raw, nil); err != nil || !bytes.Equal(pt, canary) {
			t.Errorf("RSA-OAEP-SHA256 with the exported key: %q, %v", pt, err)
		}
	})

	t.Run("hmac", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/mac", map[string]any{"type": "hmac", "key_size": 32, "exportable": true})
		mac := trStr(t, tr.write("transit/hmac/mac", map[string]any{"input": trB64(canary)}), "hmac")
		mac512 := trStr(t, tr.write("transit/hmac/mac/sha2-512", map[string]any{"input": trB64(canary)}), "hmac")
		if !strings.HasPrefix(mac, "vault:v1:") || mac == mac512 {
			t.Fatalf("hmac = %q, sha2-512 hmac = %q", mac, mac512)
		}
		if v := tr.write("transit/verify/mac", map[string]any{"input": trB64(canary), "hmac": mac})["valid"]; v != true {
			t.Errorf("verify hmac = %v", v)
		}
		if v := tr.write("transit/verify/mac", map[string]any{"input": trB64([]byte("other")), "hmac": mac})["valid"]; v != false {
			t.Errorf("verify hmac of other input = %v", v)
		}
		// Recompute it outside Ward from the exported key.
		keys := tr.read("transit/export/hmac-key/mac")["keys"].(map[string]any)
		key, err := base64.StdEncoding.DecodeString(fmt.Sprint(keys["1"]))
		if err != nil || len(key) != 32 {
			t.Fatalf("exported hmac key: %v (%d bytes)", err, len(key))
		}
		h := hmac.New(sha256.New, key)
		h.Write(canary)
		if want := "vault:v1:" + trB64(h.Sum(nil)); mac != want {
			t.Errorf("hmac = %q, crypto/hmac with the exported key gives %q", mac, want)
		}
		// Any key type can HMAC.
		mac = trStr(t, tr.write("transit/hmac/sym-aes256-gcm96", map[string]any{"input": trB64(canary)}), "hmac")
		if v := tr.write("transit/verify/sym-aes256-gcm96", map[string]any{"input": trB64(canary), "hmac": mac})["valid"]; v != true {
			t.Errorf("hmac with an aes key: verify = %v", v)
		}
	})

	t.Run("rotate, rewrap and min_decryption_version", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/rot", nil)
		v1 := tr.encrypt("rot", canary, nil)
		tr.write("transit/keys/rot/rotate", nil)
		k := tr.read("transit/keys/rot")
		if trNum(t, k, "latest_version") != 2 || len(k["keys"].(map[string]any)) != 2 {
			t.Fatalf("after rotate: %v", k)
		}
		v2 := tr.encrypt("rot", canary, nil)
		if !strings.HasPrefix(v2, "vault:v2:") {
			t.Errorf("encrypt after rotate = %q, want vault:v2:", v2)
		}
		if got := tr.decrypt("rot", v1, nil); !bytes.Equal(got, canary) {
			t.Errorf("v1 ciphertext after rotate decrypts to %q", got)
		}
		rewrapped := trStr(t, tr.write("transit/rewrap/rot", map[string]any{"ciphertext": v1}), "ciphertext")
		if !strings.HasPrefix(rewrapped, "vault:v2:") {
			t.Errorf("rewrap = %q, want vault:v2:", rewrapped)
		}
		if got := tr.decrypt("rot", rewrapped, nil); !bytes.Equal(got, canary) {
			t.Errorf("rewrapped ciphertext decrypts to %q", got)
		}
		if v := tr.encrypt("rot", canary, map[string]any{"key_version": 1}); !strings.HasPrefix(v, "vault:v1:") {
			t.Errorf("encrypt with key_version 1 = %q", v)
		}

		tr.write("transit/keys/rot/config", map[string]any{"min_decryption_version": 2})
		if k := tr.read("transit/keys/rot"); trNum(t, k, "min_decryption_version") != 2 {
			t.Errorf("min_decryption_version after config = %v", k["min_decryption_version"])
		}
		tr.refuse(400, "transit/decrypt/rot", map[string]any{"ciphertext": v1})
		tr.refuse(400, "transit/rewrap/rot", map[string]any{"ciphertext": v1})
		if got := tr.decrypt("rot", v2, nil); !bytes.Equal(got, canary) {
			t.Errorf("v2 ciphertext decrypts to %q", got)
		}
		// A retired version cannot make new ciphertexts either: the key
		// would refuse to decrypt them.
		tr.refuse(400, "transit/encrypt/rot", map[string]any{"plaintext": trB64(canary), "key_version": 1})
		// min_encryption_version below min_decryption_version is refused.
		tr.refuse(400, "transit/keys/rot/config", map[string]any{"min_encryption_version": 1})
	})

	t.Run("tampered ciphertexts are refused", func(t *testing.T) {
		tr.t = t
		ct := tr.encrypt("sym-aes256-gcm96", canary, nil)
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
		for name, bad := range map[string]string{
			"flipped bit":   "vault:v1:" + trB64(trFlip(raw, len(raw)/2)),
			"flipped tag":   "vault:v1:" + trB64(trFlip(raw, len(raw)-1)),
			"flipped nonce": "vault:v1:" + trB64(trFlip(raw, 0)),
			"truncated":     "vault:v1:" + trB64(raw[:10]),
			"not base64":    "vault:v1:!!!",
			"no version":    strings.TrimPrefix(ct, "vault:v1:"),
			"wrong version": strings.Replace(ct, "vault:v1:", "vault:v7:", 1),
		} {
			r := rawCall(t, "POST", srv.Addr, "transit/decrypt/sym-aes256-gcm96", "root", trJSON(t, map[string]any{"ciphertext": bad}))
			if r.Status != 400 {
				t.Errorf("%s: status %d, want 400: %s", name, r.Status, r.Body)
			} else if bytes.Contains(r.Body, canary) || strings.Contains(string(r.Body), trB64(canary)) {
				t.Errorf("%s: the error reveals the plaintext", name)
			}
		}
	})

	t.Run("batch with one bad item", func(t *testing.T) {
		tr.t = t
		in := []any{
			map[string]any{"plaintext": trB64(canary), "reference": "a"},
			map[string]any{"plaintext": "%%% not base64", "reference": "b"},
			map[string]any{"plaintext": trB64([]byte("third")), "reference": "c"},
		}
		r := rawCall(t, "POST", srv.Addr, "transit/encrypt/sym-aes256-gcm96", "root", trJSON(t, map[string]any{"batch_input": in}))
		if r.Status != 400 {
			t.Fatalf("partial failure: status %d, want 400 (the documented default)\n%s", r.Status, r.Body)
		}
		res := trBatch(t, r.JSON(t)["data"])
		if len(res) != 3 || res[1]["error"] == nil || res[0]["error"] != nil || res[2]["error"] != nil {
			t.Fatalf("batch_results = %v", res)
		}
		if res[0]["reference"] != "a" || res[2]["reference"] != "c" {
			t.Errorf("references not echoed: %v", res)
		}
		// partial_failure_response_code lets the client's success path see it.
		s, err := c.Logical().Write("transit/encrypt/sym-aes256-gcm96", map[string]any{"batch_input": in, "partial_failure_response_code": 207})
		if err != nil {
			t.Fatalf("with partial_failure_response_code: %v", err)
		}
		good := trBatch(t, s.Data)
		if len(good) != 3 || good[1]["error"] == nil || good[0]["ciphertext"] == nil {
			t.Fatalf("batch_results = %v", good)
		}
		// The Go client sees the default 400 as an error.
		_, err = c.Logical().Write("transit/encrypt/sym-aes256-gcm96", map[string]any{"batch_input": in})
		wantStatus(t, err, 400, "")

		dec := []any{
			map[string]any{"ciphertext": good[0]["ciphertext"]},
			map[string]any{"ciphertext": "vault:v1:" + trB64([]byte("garbage-garbage-garbage-garbage"))},
			map[string]any{"ciphertext": good[2]["ciphertext"]},
		}
		r = rawCall(t, "POST", srv.Addr, "transit/decrypt/sym-aes256-gcm96", "root", trJSON(t, map[string]any{"batch_input": dec}))
		if r.Status != 400 {
			t.Fatalf("batch decrypt with a bad item: status %d\n%s", r.Status, r.Body)
		}
		res = trBatch(t, r.JSON(t)["data"])
		if len(res) != 3 || res[1]["error"] == nil || res[0]["plaintext"] != trB64(canary) || res[2]["plaintext"] != trB64([]byte("third")) {
			t.Errorf("batch decrypt results = %v", res)
		}
		// All good: 200 and no errors.
		all := tr.write("transit/decrypt/sym-aes256-gcm96", map[string]any{"batch_input": []any{dec[0], dec[2]}})
		if res := trBatch(t, all); len(res) != 2 || res[1]["plaintext"] != trB64([]byte("third")) {
			t.Errorf("good batch = %v", res)
		}
	})

	t.Run("convergent encryption", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/conv", map[string]any{"derived": true, "convergent_encryption": true})
		tr.write("transit/keys/derived", map[string]any{"derived": true})
		ctxA, ctxB := map[string]any{"context": trB64([]byte("tenant-a"))}, map[string]any{"context": trB64([]byte("tenant-b"))}
		a1, a2, b := tr.encrypt("conv", canary, ctxA), tr.encrypt("conv", canary, ctxA), tr.encrypt("conv", canary, ctxB)
		if a1 != a2 {
			t.Errorf("same plaintext and context gave %q and %q", a1, a2)
		}
		if a1 == b {
			t.Error("different contexts gave the same ciphertext")
		}
		if got := tr.decrypt("conv", b, ctxB); !bytes.Equal(got, canary) {
			t.Errorf("decrypt = %q", got)
		}
		tr.refuse(400, "transit/decrypt/conv", map[string]any{"ciphertext": b, "context": ctxA["context"]})
		tr.refuse(400, "transit/decrypt/conv", map[string]any{"ciphertext": b})
		tr.refuse(400, "transit/encrypt/conv", map[string]any{"plaintext": trB64(canary)})
		if d1, d2 := tr.encrypt("derived", canary, ctxA), tr.encrypt("derived", canary, ctxA); d1 == d2 {
			t.Error("a derived key without convergent_encryption is deterministic")
		}
		if k := tr.read("transit/keys/conv"); k["derived"] != true || k["convergent_encryption"] != true {
			t.Errorf("convergent key = %v", k)
		}
	})

	t.Run("deletion needs deletion_allowed", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/doomed", nil)
		_, err := c.Logical().Delete("transit/keys/doomed")
		wantStatus(t, err, 400, "")
		if tr.read("transit/keys/doomed") == nil {
			t.Fatal("refused delete removed the key")
		}
		tr.write("transit/keys/doomed/config", map[string]any{"deletion_allowed": true})
		if _, err := c.Logical().Delete("transit/keys/doomed"); err != nil {
			t.Fatalf("delete after deletion_allowed: %v", err)
		}
		if s, err := c.Logical().Read("transit/keys/doomed"); err != nil || s != nil {
			t.Errorf("read after delete = %v, %v; want nothing", s, err)
		}
	})

	t.Run("export and backup need opting in", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/vault-only", nil)
		ct := tr.encrypt("vault-only", canary, nil)
		tr.refuseGet("transit/export/encryption-key/vault-only")
		tr.refuseGet("transit/export/encryption-key/vault-only/1")
		tr.refuseGet("transit/backup/vault-only")

		tr.write("transit/keys/vault-only/config", map[string]any{"exportable": true, "allow_plaintext_backup": true})
		keys := tr.read("transit/export/encryption-key/vault-only")["keys"].(map[string]any)
		key, err := base64.StdEncoding.DecodeString(fmt.Sprint(keys["1"]))
		if err != nil || len(key) != 32 {
			t.Fatalf("exported key: %v (%d bytes)", err, len(key))
		}
		// Vault's aes256-gcm96 ciphertext is nonce ‖ sealed data: the
		// exported key opens it outside Ward.
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		if len(raw) < gcm.NonceSize() {
			t.Fatalf("ciphertext of %d bytes", len(raw))
		}
		if pt, err := gcm.Open(nil, raw[:12], raw[12:], nil); err != nil || !bytes.Equal(pt, canary) {
			t.Errorf("crypto/cipher with the exported key: %q, %v", pt, err)
		}
		backup := trStr(t, tr.read("transit/backup/vault-only"), "backup")
		tr.write("transit/restore/restored", map[string]any{"backup": backup})
		if got := tr.decrypt("restored", ct, nil); !bytes.Equal(got, canary) {
			t.Errorf("restored key decrypts to %q", got)
		}
		tr.refuse(400, "transit/restore/restored", map[string]any{"backup": backup})
		tr.write("transit/restore/restored", map[string]any{"backup": backup, "force": true})
		// Once on, they stay on.
		_, _ = c.Logical().Write("transit/keys/vault-only/config", map[string]any{"exportable": false, "allow_plaintext_backup": false})
		if k := tr.read("transit/keys/vault-only"); k["exportable"] != true || k["allow_plaintext_backup"] != true {
			t.Errorf("exportable/allow_plaintext_backup turned off: %v", k)
		}
	})

	t.Run("data keys", func(t *testing.T) {
		tr.t = t
		d := tr.write("transit/datakey/plaintext/sym-aes256-gcm96", nil)
		pt := trStr(t, d, "plaintext")
		if raw, _ := base64.StdEncoding.DecodeString(pt); len(raw) != 32 {
			t.Errorf("default data key has %d bytes, want 32", len(raw))
		}
		got := tr.write("transit/decrypt/sym-aes256-gcm96", map[string]any{"ciphertext": trStr(t, d, "ciphertext")})["plaintext"]
		if got != pt {
			t.Errorf("the data key's ciphertext decrypts to %v, want %v", got, pt)
		}
		w := tr.write("transit/datakey/wrapped/sym-aes256-gcm96", map[string]any{"bits": 512})
		if _, ok := w["plaintext"]; ok {
			t.Errorf("a wrapped data key came with its plaintext: %v", w)
		}
		raw := tr.decrypt("sym-aes256-gcm96", trStr(t, w, "ciphertext"), nil)
		if len(raw) != 64 {
			t.Errorf("512-bit wrapped data key decrypts to %d bytes", len(raw))
		}
		tr.refuse(400, "transit/datakey/plaintext/sym-aes256-gcm96", map[string]any{"bits": 100})
		tr.refuse(400, "transit/datakey/sideways/sym-aes256-gcm96", nil)
	})

	t.Run("random and hash", func(t *testing.T) {
		tr.t = t
		r1 := trStr(t, tr.write("transit/random/16", nil), "random_bytes")
		r2 := trStr(t, tr.write("transit/random", map[string]any{"bytes": 16}), "random_bytes")
		b1, err1 := base64.StdEncoding.DecodeString(r1)
		b2, err2 := base64.StdEncoding.DecodeString(r2)
		if err1 != nil || err2 != nil || len(b1) != 16 || len(b2) != 16 || bytes.Equal(b1, b2) {
			t.Errorf("random = %q, %q", r1, r2)
		}
		if h := trStr(t, tr.write("transit/random/8", map[string]any{"format": "hex"}), "random_bytes"); len(h) != 16 {
			t.Errorf("hex random = %q", h)
		}
		if b := trStr(t, tr.write("transit/random", nil), "random_bytes"); len(b) != base64.StdEncoding.EncodedLen(32) {
			t.Errorf("default random = %q, want 32 bytes", b)
		}
		in := []byte("hash me")
		s256, s512, s3 := sha256.Sum256(in), sha512.Sum512(in), sha3.Sum256(in)
		for path, want := range map[string]string{
			"transit/hash":          hex.EncodeToString(s256[:]),
			"transit/hash/sha2-512": hex.EncodeToString(s512[:]),
			"transit/hash/sha3-256": hex.EncodeToString(s3[:]),
		} {
			if got := trStr(t, tr.write(path, map[string]any{"input": trB64(in)}), "sum"); got != want {
				t.Errorf("%s = %q, want %q", path, got, want)
			}
		}
		got := trStr(t, tr.write("transit/hash/sha2-256", map[string]any{"input": trB64(in), "format": "base64"}), "sum")
		if got != trB64(s256[:]) {
			t.Errorf("base64 sha2-256 = %q", got)
		}
		tr.refuse(400, "transit/hash/md5", map[string]any{"input": trB64(in)})
	})

	t.Run("list keys", func(t *testing.T) {
		tr.t = t
		s, err := c.Logical().List("transit/keys")
		if err != nil || s == nil {
			t.Fatalf("list: %v, %v", s, err)
		}
		keys, _ := s.Data["keys"].([]any)
		for _, want := range []string{"rot", "conv", "sig-ed25519", "sym-chacha20-poly1305"} {
			if !slices.Contains(keys, any(want)) {
				t.Errorf("list lacks %q: %v", want, keys)
			}
		}
	})

	t.Run("a token that may only encrypt cannot decrypt", func(t *testing.T) {
		tr.t = t
		tr.write("transit/keys/k", nil)
		putPolicy(t, c, "encrypt-only", `path "transit/encrypt/k" { capabilities = ["update"] }`)
		tok, _ := createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"encrypt-only"}})
		enc := withToken(t, c, tok)
		s, err := enc.Logical().Write("transit/encrypt/k", map[string]any{"plaintext": trB64(canary)})
		if err != nil {
			t.Fatalf("encrypt with the encrypt-only token: %v", err)
		}
		ct := trStr(t, s.Data, "ciphertext")
		for path, body := range map[string]map[string]any{
			"transit/decrypt/k":               {"ciphertext": ct},
			"transit/rewrap/k":                {"ciphertext": ct},
			"transit/encrypt/rot":             {"plaintext": trB64(canary)},
			"transit/datakey/plaintext/k":     nil,
			"transit/keys/k/config":           {"deletion_allowed": true},
			"transit/export/encryption-key/k": nil,
		} {
			_, err := enc.Logical().Write(path, body)
			wantStatus(t, err, 403, "permission denied")
		}
		_, err = enc.Logical().Read("transit/keys/k")
		wantStatus(t, err, 403, "permission denied")

		// Encrypting to a missing key creates it, which needs create;
		// update alone is refused and creates nothing.
		putPolicy(t, c, "update-any", `path "transit/encrypt/*" { capabilities = ["update"] }`)
		tok, _ = createToken(t, c, &vaultapi.TokenCreateRequest{Policies: []string{"update-any"}})
		_, err = withToken(t, c, tok).Logical().Write("transit/encrypt/upserted", map[string]any{"plaintext": trB64(canary)})
		wantStatus(t, err, 403, "permission denied")
		if k := tr.read("transit/keys/upserted"); k != nil {
			t.Errorf("a refused encrypt created the key: %v", k)
		}
		tr.encrypt("upserted", canary, map[string]any{"type": "chacha20-poly1305"})
		if k := tr.read("transit/keys/upserted"); k["type"] != "chacha20-poly1305" {
			t.Errorf("upserted key = %v", k)
		}
		if _, err := withToken(t, c, tok).Logical().Write("transit/encrypt/upserted", map[string]any{"plaintext": trB64(canary)}); err != nil {
			t.Errorf("update on an existing key: %v", err)
		}
		if got := tr.decrypt("k", ct, nil); !bytes.Equal(got, canary) {
			t.Errorf("root decrypts the encrypt-only token's ciphertext to %q", got)
		}
	})

	// Last: everything above went through the trace log and the audit
	// log; the canary must be in neither, raw or base64-encoded.
	tr.t = t
	audit, err := os.ReadFile(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(audit, []byte("transit/decrypt/")) {
		t.Fatalf("the audit log has no transit entries; the scan would prove nothing:\n%.2000s", audit)
	}
	canaries := map[string][]byte{"plaintext": canary, "base64 plaintext": []byte(trB64(canary)), "plaintext prefix": canary[:23]}
	lcScan(t, "server stderr", []byte(srv.Stderr.String()), canaries)
	lcScan(t, "server stdout", []byte(srv.Stdout.String()), canaries)
	lcScan(t, "audit log", audit, canaries)
}

// trClient wraps the Vault client with helpers that fail the current
// (sub)test.
type trClient struct {
	t *testing.T
	c *vaultapi.Client
}

// write writes data to path and returns the response data (nil for 204).
func (tr *trClient) write(path string, data map[string]any) map[string]any {
	tr.t.Helper()
	s, err := tr.c.Logical().Write(path, data)
	if err != nil {
		tr.t.Fatalf("write %s: %v", path, err)
	}
	if s == nil {
		return nil
	}
	return s.Data
}

// read reads path; nothing there gives nil.
func (tr *trClient) read(path string) map[string]any {
	tr.t.Helper()
	s, err := tr.c.Logical().Read(path)
	if err != nil {
		tr.t.Fatalf("read %s: %v", path, err)
	}
	if s == nil {
		return nil
	}
	return s.Data
}

// refuse fails unless writing data to path answers status.
func (tr *trClient) refuse(status int, path string, data map[string]any) {
	tr.t.Helper()
	_, err := tr.c.Logical().Write(path, data)
	if err == nil {
		tr.t.Errorf("write %s succeeded, want HTTP %d", path, status)
		return
	}
	if re := responseError(tr.t, err); re.StatusCode != status {
		tr.t.Errorf("write %s: HTTP %d %v, want %d", path, re.StatusCode, re.Errors, status)
	}
}

// refuseGet fails unless reading path is refused as invalid (400).
func (tr *trClient) refuseGet(path string) {
	tr.t.Helper()
	s, err := tr.c.Logical().Read(path)
	if err == nil {
		tr.t.Errorf("read %s succeeded (%v), want it refused", path, s)
		return
	}
	if re := responseError(tr.t, err); re.StatusCode != http.StatusBadRequest {
		tr.t.Errorf("read %s: HTTP %d %v, want 400", path, re.StatusCode, re.Errors)
	}
}

func (tr *trClient) encrypt(key string, plaintext []byte, extra map[string]any) string {
	tr.t.Helper()
	body := map[string]any{"plaintext": trB64(plaintext)}
	for k, v := range extra {
		body[k] = v
	}
	return trStr(tr.t, tr.write("transit/encrypt/"+key, body), "ciphertext")
}

func (tr *trClient) decrypt(key, ciphertext string, extra map[string]any) []byte {
	tr.t.Helper()
	body := map[string]any{"ciphertext": ciphertext}
	for k, v := range extra {
		body[k] = v
	}
	pt, err := base64.StdEncoding.DecodeString(trStr(tr.t, tr.write("transit/decrypt/"+key, body), "plaintext"))
	if err != nil {
		tr.t.Fatalf("decrypt %s: plaintext is not base64: %v", key, err)
	}
	return pt
}

// trPublicKey parses keys[version].public_key of a key read: PEM for
// ECDSA and RSA, base64 for ed25519, as Vault returns them.
func trPublicKey(t *testing.T, key map[string]any, version string) any {
	t.Helper()
	v, _ := key["keys"].(map[string]any)[version].(map[string]any)
	s, _ := v["public_key"].(string)
	if s == "" {
		t.Fatalf("key %v has no keys[%s].public_key", key["name"], version)
	}
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			t.Fatalf("public key: %v", err)
		}
		return pub
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		t.Fatalf("public key %q is neither PEM nor a base64 ed25519 key", s)
	}
	return ed25519.PublicKey(raw)
}

func trB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func trFlip(b []byte, i int) []byte {
	out := slices.Clone(b)
	out[i] ^= 0x01
	return out
}

func trJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// trStr returns the string field k of data, failing if there is none.
func trStr(t *testing.T, data map[string]any, k string) string {
	t.Helper()
	s, ok := data[k].(string)
	if !ok {
		t.Fatalf("response data has no string %q: %v", k, data)
	}
	return s
}

func trNum(t *testing.T, data map[string]any, k string) int64 {
	t.Helper()
	num, ok := data[k].(json.Number)
	n, err := num.Int64()
	if !ok || err != nil {
		t.Fatalf("%s = %v: %v", k, data[k], err)
	}
	return n
}

// trBatch returns data.batch_results as objects.
func trBatch(t *testing.T, data any) []map[string]any {
	t.Helper()
	m, _ := data.(map[string]any)
	list, ok := m["batch_results"].([]any)
	if !ok {
		t.Fatalf("no batch_results in %v", data)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i], _ = v.(map[string]any)
	}
	return out
}
