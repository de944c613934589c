package transit

import (
	"crypto"
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
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// publicKey reads version 1's public key from a key read, as a client would.
func (h *harness) publicKey(key string) crypto.PublicKey {
	h.t.Helper()
	v := h.info(key)["keys"].(map[string]any)["1"].(map[string]any)
	s := v["public_key"].(string)
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil || blk.Type != "PUBLIC KEY" {
			h.t.Fatalf("public key of %s: %v (%s)", key, err, blk.Type)
		}
		return pub
	}
	return ed25519.PublicKey(unb64(h.t, s))
}

// sig signs input and returns the raw signature bytes.
func (h *harness) sig(path, input, extra string, enc *base64.Encoding) []byte {
	h.t.Helper()
	s := str(h.t, h.ok(update, path, `{"input":"`+b64(input)+`"`+extra+`}`), "signature")
	data, ok := strings.CutPrefix(s, "vault:v1:")
	if !ok {
		h.t.Fatalf("signature %q", s)
	}
	raw, err := enc.DecodeString(data)
	if err != nil {
		h.t.Fatalf("signature %q: %v", s, err)
	}
	return raw
}

func TestSignaturesVerifyWithStdlib(t *testing.T) {
	h := newHarness(t)
	msg := "the message"
	d256, d384 := sha256.Sum256([]byte(msg)), sha512.Sum384([]byte(msg))
	std := base64.StdEncoding

	h.ok(update, "keys/ed", `{"type":"ed25519"}`)
	if pub := h.publicKey("ed").(ed25519.PublicKey); !ed25519.Verify(pub, []byte(msg), h.sig("sign/ed", msg, "", std)) {
		t.Fatal("ed25519 signature does not verify")
	}
	h.bad(update, "sign/ed", `{"input":"eA==","prehashed":true}`, "invalid prehashed")

	for _, c := range []struct {
		typ, path string
		digest    []byte
	}{
		{"ecdsa-p256", "sign/ecdsa-p256", d256[:]},
		{"ecdsa-p384", "sign/ecdsa-p384/sha2-384", d384[:]},
		{"ecdsa-p521", "sign/ecdsa-p521", d256[:]},
	} {
		h.ok(update, "keys/"+c.typ, `{"type":"`+c.typ+`"}`)
		pub := h.publicKey(c.typ).(*ecdsa.PublicKey)
		if !ecdsa.VerifyASN1(pub, c.digest, h.sig(c.path, msg, "", std)) {
			t.Fatalf("%s ASN.1 signature does not verify", c.typ)
		}
		jws := h.sig(c.path, msg, `,"marshaling_algorithm":"jws"`, base64.RawURLEncoding)
		size := len(jws) / 2
		r, s := new(big.Int).SetBytes(jws[:size]), new(big.Int).SetBytes(jws[size:])
		if size != (pub.Curve.Params().BitSize+7)/8 || !ecdsa.Verify(pub, c.digest, r, s) {
			t.Fatalf("%s JWS signature does not verify", c.typ)
		}
	}
	pre := h.sig("sign/ecdsa-p256", string(d256[:]), `,"prehashed":true`, std)
	if !ecdsa.VerifyASN1(h.publicKey("ecdsa-p256").(*ecdsa.PublicKey), d256[:], pre) {
		t.Fatal("prehashed ECDSA signature does not verify")
	}

	h.ok(update, "keys/rsa", `{"type":"rsa-2048"}`)
	rpub := h.publicKey("rsa").(*rsa.PublicKey)
	if err := rsa.VerifyPSS(rpub, crypto.SHA256, d256[:], h.sig("sign/rsa", msg, "", std), nil); err != nil {
		t.Fatalf("RSA PSS: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(rpub, crypto.SHA384, d384[:], h.sig("sign/rsa/sha2-384", msg, `,"signature_algorithm":"pkcs1v15"`, std)); err != nil {
		t.Fatalf("RSA PKCS #1 v1.5: %v", err)
	}
	d3 := sha3.Sum256([]byte(msg))
	if err := rsa.VerifyPSS(rpub, crypto.SHA3_256, d3[:], h.sig("sign/rsa/sha3-256", msg, `,"salt_length":"hash"`, std),
		&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Fatalf("RSA PSS sha3, salt=hash: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(rpub, 0, d256[:], h.sig("sign/rsa/none", string(d256[:]), `,"prehashed":true,"signature_algorithm":"pkcs1v15"`, std)); err != nil {
		t.Fatalf("RSA none: %v", err)
	}
	if err := rsa.VerifyPSS(rpub, crypto.SHA256, d256[:], h.sig("sign/rsa", string(d256[:]), `,"prehashed":true`, std), nil); err != nil {
		t.Fatalf("RSA prehashed: %v", err)
	}
	h.bad(update, "sign/rsa", `{"input":"eA==","prehashed":true}`, "invalid input: a prehashed sha2-256 input must be 32 bytes")
	h.bad(update, "sign/rsa/none", `{"input":"eA=="}`, "none needs an RSA key")
	h.bad(update, "sign/rsa/md5", `{"input":"eA=="}`, "unsupported algorithm \"md5\"")
	h.bad(update, "sign/rsa", `{"input":"eA==","signature_algorithm":"x"}`, "invalid signature_algorithm")
	h.bad(update, "sign/rsa", `{}`, "invalid input: required")
	h.ok(update, "keys/aes", "")
	h.bad(update, "sign/aes", `{"input":"eA=="}`, "aes256-gcm96 keys do not support this operation")
}

func TestVerify(t *testing.T) {
	h := newHarness(t)
	for _, typ := range []string{"ed25519", "ecdsa-p256", "rsa-2048"} {
		h.ok(update, "keys/"+typ, `{"type":"`+typ+`"}`)
		for _, extra := range []string{"", `,"marshaling_algorithm":"jws"`, `,"signature_algorithm":"pkcs1v15"`} {
			sig := str(t, h.ok(update, "sign/"+typ+"/sha2-512", `{"input":"`+b64("m")+`"`+extra+`}`), "signature")
			ok := func(input, s string) bool {
				return h.ok(update, "verify/"+typ+"/sha2-512", fmt.Sprintf(`{"input":%q,"signature":%q%s}`, b64(input), s, extra)).Data["valid"].(bool)
			}
			if !ok("m", sig) || ok("n", sig) {
				t.Fatalf("%s %s: verify good/bad input wrong", typ, extra)
			}
			if typ != "ed25519" && h.ok(update, "verify/"+typ, fmt.Sprintf(`{"input":%q,"signature":%q%s}`, b64("m"), sig, extra)).Data["valid"] == true {
				t.Fatalf("%s: verified with the wrong hash", typ)
			}
		}
		h.bad(update, "verify/"+typ, `{"input":"eA==","signature":"vault:v2:AAAA"}`, "key version 2 does not exist")
		h.bad(update, "verify/"+typ, `{"input":"eA==","signature":"nope"}`, "invalid signature")
		h.bad(update, "verify/"+typ, `{"input":"eA=="}`, "invalid signature: required")
	}
	// min_decryption_version applies to signatures.
	old := str(t, h.ok(update, "sign/ed25519", `{"input":"eA=="}`), "signature")
	h.ok(update, "keys/ed25519/rotate", "")
	h.ok(update, "keys/ed25519/config", `{"min_decryption_version":2}`)
	h.bad(update, "verify/ed25519", `{"input":"eA==","signature":"`+old+`"}`, "below the key's min_decryption_version")

	// Derived ed25519: one key per context; batch shows each public key.
	h.ok(update, "keys/der", `{"type":"ed25519","derived":true}`)
	resp := h.ok(update, "sign/der", `{"batch_input":[{"input":"eA==","context":"`+b64("a")+`"},{"input":"eA==","context":"`+b64("b")+`"},{"input":"eA=="}]}`)
	res := resp.Data["batch_results"].([]map[string]any)
	if resp.Status != http.StatusBadRequest || !strings.Contains(res[2]["error"].(string), "invalid context: required") {
		t.Fatalf("derived sign batch = %d %v", resp.Status, res)
	}
	pubA := ed25519.PublicKey(unb64(t, res[0]["publickey"].(string)))
	sigA := unb64(t, strings.TrimPrefix(res[0]["signature"].(string), "vault:v1:"))
	if !ed25519.Verify(pubA, []byte("x"), sigA) || res[0]["publickey"] == res[1]["publickey"] {
		t.Fatal("derived ed25519 signature does not verify with its context's public key")
	}
	vr := h.ok(update, "verify/der", fmt.Sprintf(`{"batch_input":[{"input":"eA==","context":%q,"signature":%q,"reference":"r1"},{"input":"eA==","context":%q,"signature":%q}]}`,
		b64("a"), res[0]["signature"], b64("b"), res[0]["signature"]))
	vres := vr.Data["batch_results"].([]map[string]any)
	if vr.Status != 0 || vres[0]["valid"] != true || vres[1]["valid"] != false || vres[0]["reference"] != "r1" {
		t.Fatalf("derived verify batch = %d %v", vr.Status, vres)
	}
}

func TestHMACAndVerify(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", `{"exportable":true}`)
	h.ok(update, "keys/mac", `{"type":"hmac","key_size":48,"exportable":true}`)
	for _, key := range []string{"k", "mac"} {
		exported := h.ok(read, "export/hmac-key/"+key+"/1", "").Data["keys"].(map[string]string)["1"]
		mac := str(t, h.ok(update, "hmac/"+key+"/sha2-512", `{"input":"`+b64("data")+`"}`), "hmac")
		want := hmac.New(sha512.New, unb64(t, exported))
		want.Write([]byte("data"))
		if mac != "vault:v1:"+base64.StdEncoding.EncodeToString(want.Sum(nil)) {
			t.Fatalf("%s hmac = %s, want HMAC-SHA512 under the exported key", key, mac)
		}
		valid := func(path, input, m string) any {
			return h.ok(update, path, fmt.Sprintf(`{"input":%q,"hmac":%q}`, b64(input), m)).Data["valid"]
		}
		if valid("verify/"+key+"/sha2-512", "data", mac) != true || valid("verify/"+key+"/sha2-512", "datA", mac) != false ||
			valid("verify/"+key, "data", mac) != false {
			t.Fatalf("%s: hmac verify wrong", key)
		}
	}
	h.bad(update, "hmac/k/sha1", `{"input":"eA=="}`, "unsupported algorithm \"sha1\"")
	h.bad(update, "verify/k", `{"input":"eA==","hmac":"vault:v1:AA==","signature":"vault:v1:AA=="}`, "not both")
	h.bad(update, "verify/k", `{"batch_input":[{"input":"eA==","hmac":"vault:v1:AA=="},{"input":"eA==","signature":"vault:v1:AA=="}]}`, "all carry")

	// Vault's documented batch: an item without input fails alone; "" is valid input.
	resp := h.ok(update, "hmac/k", `{"batch_input":[{"input":"eA==","reference":"1"},{},{"input":""}]}`)
	res := resp.Data["batch_results"].([]map[string]any)
	if resp.Status != http.StatusBadRequest || res[0]["hmac"] == nil || res[1]["error"] == nil || res[2]["hmac"] == nil || res[0]["reference"] != "1" {
		t.Fatalf("hmac batch = %d %v", resp.Status, res)
	}
	h.ok(update, "keys/k/rotate", "")
	if mac := str(t, h.ok(update, "hmac/k", `{"input":"eA==","key_version":1}`), "hmac"); !strings.HasPrefix(mac, "vault:v1:") {
		t.Fatalf("key_version 1 hmac = %s", mac)
	}
}

func TestHashAndRandom(t *testing.T) {
	h := newHarness(t)
	sum := sha256.Sum256([]byte("abc"))
	if got := str(t, h.ok(update, "hash", `{"input":"`+b64("abc")+`"}`), "sum"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash = %s", got)
	}
	s3 := sha3.Sum512([]byte("abc"))
	if got := str(t, h.ok(update, "hash/sha3-512", `{"input":"`+b64("abc")+`","format":"base64"}`), "sum"); got != base64.StdEncoding.EncodeToString(s3[:]) {
		t.Fatalf("hash sha3-512 = %s", got)
	}
	h.bad(update, "hash", `{"input":"eA==","algorithm":"md5"}`, "invalid algorithm")
	h.bad(update, "hash", `{"input":"eA==","format":"b32"}`, "invalid format")
	h.bad(update, "hash", `{}`, "invalid input: required")

	for path, n := range map[string]int{"random": 32, "random/64": 64, "random/platform/16": 16, "random/all": 32} {
		if got := unb64(t, str(t, h.ok(update, path, ""), "random_bytes")); len(got) != n {
			t.Fatalf("%s gave %d bytes, want %d", path, len(got), n)
		}
	}
	if got := str(t, h.ok(update, "random", `{"bytes":8,"format":"hex"}`), "random_bytes"); len(got) != 16 {
		t.Fatalf("hex random = %q", got)
	}
	h.bad(update, "random/0", "", "invalid bytes")
	h.bad(update, "random", `{"bytes":200000}`, "invalid bytes")
	h.bad(update, "random/seal", "", "invalid source")
	h.bad(update, "random/moon/8", "", "invalid source")
}
