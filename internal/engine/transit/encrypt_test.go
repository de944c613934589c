package transit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

func TestEncryptRoundTripPerType(t *testing.T) {
	h := newHarness(t)
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048"} {
		t.Run(typ, func(t *testing.T) {
			h.ok(update, "keys/"+typ, `{"type":"`+typ+`"}`)
			for _, pt := range []string{"", "hello", strings.Repeat("x", 150)} {
				ct := h.encrypt(typ, pt, "")
				if !strings.HasPrefix(ct, "vault:v1:") || strings.Contains(ct, b64(pt)) && pt != "" {
					t.Fatalf("ciphertext %q", ct)
				}
				if got := h.decrypt(typ, ct, ""); got != pt {
					t.Fatalf("round trip = %q, want %q", got, pt)
				}
			}
			if strings.HasPrefix(typ, "rsa") {
				h.bad(update, "encrypt/"+typ, `{"plaintext":"eA==","associated_data":"eA=="}`, "RSA keys take no associated data")
				ct := h.encrypt(typ, "oaep", `,"padding_scheme":"oaep"`)
				if got := h.decrypt(typ, ct, ""); got != "oaep" {
					t.Fatalf("oaep round trip = %q", got)
				}
				h.bad(update, "encrypt/"+typ, `{"plaintext":"eA==","padding_scheme":"pkcs1v15"}`, "padding oracle")
				h.bad(update, "decrypt/"+typ, `{"ciphertext":"`+ct+`","padding_scheme":"pkcs1v15"}`, "padding oracle")
				h.bad(update, "encrypt/"+typ, `{"plaintext":"`+b64(strings.Repeat("x", 300))+`"}`, "invalid plaintext: too long")
				return
			}
			h.bad(update, "encrypt/"+typ, `{"plaintext":"eA==","padding_scheme":"oaep"}`, "only RSA keys take a padding scheme")
			ct := h.encrypt(typ, "with aad", `,"associated_data":"`+b64("row 7")+`"`)
			if got := h.decrypt(typ, ct, `,"associated_data":"`+b64("row 7")+`"`); got != "with aad" {
				t.Fatalf("aad round trip = %q", got)
			}
			h.bad(update, "decrypt/"+typ, `{"ciphertext":"`+ct+`","associated_data":"`+b64("row 8")+`"}`, "does not decrypt with this key")
			h.bad(update, "decrypt/"+typ, `{"ciphertext":"`+ct+`"}`, "does not decrypt with this key")
		})
	}
	for _, typ := range []string{"ed25519", "ecdsa-p256", "hmac"} {
		h.ok(update, "keys/"+typ, `{"type":"`+typ+`"}`)
		h.bad(update, "encrypt/"+typ, `{"plaintext":"eA=="}`, "keys do not support this operation")
	}
}

func TestEncryptInputs(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.bad(update, "encrypt/k", `{}`, "invalid plaintext: required")
	h.bad(update, "encrypt/k", `{"plaintext":"not base64!"}`, "invalid plaintext: must be base64")
	h.bad(update, "encrypt/k", `{"plaintext":"eA==","context":"%%"}`, "invalid context: must be base64")
	h.bad(update, "encrypt/k", `{"plaintext":"eA==","nonce":"AAAAAAAAAAAAAAAA"}`, "invalid nonce: not accepted")
	h.bad(update, "encrypt/k", `{"plaintext":"eA==","key_version":2}`, "invalid key_version: version 2 does not exist")
	h.bad(update, "encrypt/k", `{"plaintext":"eA==","key_version":"x"}`, "invalid key_version")
	h.bad(update, "decrypt/k", `{}`, "invalid ciphertext: required")
	resp := h.ok(update, "encrypt/k", `{"plaintext":"eA==","bogus":1}`)
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "bogus") {
		t.Fatalf("unknown field warnings = %v", resp.Warnings)
	}
	if num(t, resp.Data, "key_version") != 1 {
		t.Fatalf("encrypt data = %v", resp.Data)
	}
}

func TestRotateThenRewrap(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	v1 := h.encrypt("k", "secret", "")
	d := h.ok(update, "keys/k/rotate", "").Data
	if num(t, d, "latest_version") != 2 || len(d["keys"].(map[string]any)) != 2 {
		t.Fatalf("rotate = %v", d)
	}
	v2 := h.encrypt("k", "secret", "")
	if !strings.HasPrefix(v2, "vault:v2:") {
		t.Fatalf("encrypt after rotate used %s", v2)
	}
	if pinned := h.encrypt("k", "secret", `,"key_version":1`); !strings.HasPrefix(pinned, "vault:v1:") {
		t.Fatalf("key_version 1 gave %s", pinned)
	}
	resp := h.ok(update, "rewrap/k", `{"ciphertext":"`+v1+`"}`)
	re := str(t, resp, "ciphertext")
	if !strings.HasPrefix(re, "vault:v2:") || num(t, resp.Data, "key_version") != 2 {
		t.Fatalf("rewrap = %v", resp.Data)
	}
	if resp.Data["plaintext"] != nil {
		t.Fatal("rewrap revealed the plaintext")
	}
	if got := h.decrypt("k", re, ""); got != "secret" {
		t.Fatalf("decrypt rewrapped = %q", got)
	}
	h.bad(update, "rewrap/k", `{"ciphertext":"vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, "does not decrypt")
}

func TestMinDecryptionVersion(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	v1 := h.encrypt("k", "old", "")
	h.ok(update, "keys/k/rotate", "")
	h.ok(update, "keys/k/config", `{"min_decryption_version":2}`)
	h.bad(update, "decrypt/k", `{"ciphertext":"`+v1+`"}`, "key version 1 is below the key's min_decryption_version (2)")
	h.bad(update, "rewrap/k", `{"ciphertext":"`+v1+`"}`, "below the key's min_decryption_version")
	if keys := h.info("k")["keys"].(map[string]any); len(keys) != 1 || keys["2"] == nil {
		t.Fatalf("read keys = %v, want only version 2", keys)
	}
	// Lowering it again brings version 1 back: nothing was trimmed.
	h.ok(update, "keys/k/config", `{"min_decryption_version":1}`)
	if got := h.decrypt("k", v1, ""); got != "old" {
		t.Fatalf("decrypt after lowering = %q", got)
	}
	h.ok(update, "keys/k/config", `{"min_encryption_version":2}`)
	h.bad(update, "encrypt/k", `{"plaintext":"eA==","key_version":1}`, "below the key's min_encryption_version (2)")
}

func TestTamperedCiphertextRefused(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	ct := h.encrypt("k", "attack at dawn", "")
	raw := unb64(t, strings.TrimPrefix(ct, "vault:v1:"))
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	h.ok(update, "keys/k/rotate", "")
	for _, c := range []struct{ ct, msg string }{
		{"vault:v1:" + base64.StdEncoding.EncodeToString(flipped), "does not decrypt with this key"},
		{"vault:v1:" + base64.StdEncoding.EncodeToString(raw[:20]), "does not decrypt with this key"},
		{"vault:v1:" + base64.StdEncoding.EncodeToString(raw[:5]), "does not decrypt with this key"},
		{"vault:v2:" + base64.StdEncoding.EncodeToString(raw), "does not decrypt with this key"},
		{"vault:v3:" + base64.StdEncoding.EncodeToString(raw), "key version 3 does not exist"},
		{"vault:v0:" + base64.StdEncoding.EncodeToString(raw), "must be a positive integer"},
		{"vault:v01:" + base64.StdEncoding.EncodeToString(raw), "must be a positive integer"},
		{"vault:v1:" + "!!!", "must be non-empty base64"},
		{"vault:v1:", "must be non-empty base64"},
		{"vault:v1", "missing the \":\""},
		{strings.TrimPrefix(ct, "vault:"), "must start with \"vault:v\""},
	} {
		err := h.bad(update, "decrypt/k", `{"ciphertext":"`+c.ct+`"}`, c.msg)
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(raw)[:12]) {
			t.Fatalf("error echoes the ciphertext: %v", err)
		}
	}
	h.ok(update, "keys/other", "")
	h.bad(update, "decrypt/other", `{"ciphertext":"`+ct+`"}`, "does not decrypt with this key")
}

func TestBatchWithOneBadItem(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	resp := h.ok(update, "encrypt/k", `{"batch_input":[
		{"plaintext":"`+b64("one")+`","reference":"a"},
		{"plaintext":"%%","reference":"b"},
		{"plaintext":"`+b64("three")+`"}]}`)
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", resp.Status)
	}
	res := resp.Data["batch_results"].([]map[string]any)
	if len(res) != 3 || res[0]["reference"] != "a" || res[1]["reference"] != "b" || res[2]["reference"] != "" {
		t.Fatalf("results = %v", res)
	}
	if !strings.Contains(res[1]["error"].(string), "invalid plaintext") || res[1]["ciphertext"] != nil {
		t.Fatalf("bad item = %v", res[1])
	}
	if res[0]["error"] != nil || res[2]["error"] != nil || num(t, res[2], "key_version") != 1 {
		t.Fatalf("good items = %v", res)
	}
	// The good items decrypt, in a batch too.
	dec := h.ok(update, "decrypt/k", fmt.Sprintf(`{"batch_input":[{"ciphertext":%q,"reference":"x"},{"ciphertext":%q}]}`,
		res[0]["ciphertext"], res[2]["ciphertext"]))
	dr := dec.Data["batch_results"].([]map[string]any)
	if dec.Status != 0 || string(unb64(t, dr[0]["plaintext"].(string))) != "one" || dr[0]["reference"] != "x" ||
		string(unb64(t, dr[1]["plaintext"].(string))) != "three" {
		t.Fatalf("batch decrypt = %d %v", dec.Status, dr)
	}

	partial := h.ok(update, "decrypt/k", fmt.Sprintf(`{"partial_failure_response_code":207,"batch_input":[{"ciphertext":%q},{"ciphertext":"vault:v1:AAAA"}]}`, res[0]["ciphertext"]))
	if partial.Status != 207 {
		t.Fatalf("partial failure status = %d, want 207", partial.Status)
	}
	allBad := h.ok(update, "decrypt/k", `{"partial_failure_response_code":200,"batch_input":[{"ciphertext":"x"},"not an object"]}`)
	ar := allBad.Data["batch_results"].([]map[string]any)
	if allBad.Status != http.StatusBadRequest || !strings.Contains(ar[1]["error"].(string), "batch_input[1]") {
		t.Fatalf("all failed = %d %v, want 400", allBad.Status, ar)
	}
	odd := h.ok(update, "decrypt/k", fmt.Sprintf(`{"partial_failure_response_code":42,"batch_input":[{"ciphertext":%q},{}]}`, res[0]["ciphertext"]))
	if odd.Status != http.StatusBadRequest || len(odd.Warnings) != 1 {
		t.Fatalf("invalid override = %d %v", odd.Status, odd.Warnings)
	}
	h.bad(update, "encrypt/k", `{"batch_input":[]}`, "invalid batch_input: must hold at least one item")
	h.bad(update, "encrypt/k", `{"batch_input":"nope"}`, "invalid batch_input")
	// The CLI's batch_input=@file.json sends the array as a string.
	asText := h.ok(update, "encrypt/k", `{"batch_input":"[{\"plaintext\":\"eA==\"}]"}`)
	if asText.Status != 0 || len(asText.Data["batch_results"].([]map[string]any)) != 1 {
		t.Fatalf("batch_input as text = %+v", asText)
	}
}

func TestConvergentEncryption(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/c", `{"derived":true,"convergent_encryption":true}`)
	ctxA, ctxB := `,"context":"`+b64("tenant-a")+`"`, `,"context":"`+b64("tenant-b")+`"`
	a1, a2 := h.encrypt("c", "same", ctxA), h.encrypt("c", "same", ctxA)
	if a1 != a2 {
		t.Fatal("same plaintext and context gave different ciphertexts")
	}
	if b := h.encrypt("c", "same", ctxB); b == a1 {
		t.Fatal("another context gave the same ciphertext")
	}
	if o := h.encrypt("c", "other", ctxA); o == a1 || o[:25] == a1[:25] {
		t.Fatal("another plaintext reused the nonce")
	}
	if ad := h.encrypt("c", "same", ctxA+`,"associated_data":"eA=="`); ad[:25] == a1[:25] {
		t.Fatal("other associated data reused the nonce")
	}
	if got := h.decrypt("c", a1, ctxA); got != "same" {
		t.Fatalf("decrypt = %q", got)
	}
	h.bad(update, "decrypt/c", `{"ciphertext":"`+a1+`"`+ctxB+`}`, "does not decrypt")
	h.bad(update, "encrypt/c", `{"plaintext":"eA=="}`, "invalid context: required")
	// A rotation changes the ciphertext of the same input.
	h.ok(update, "keys/c/rotate", "")
	if a3 := h.encrypt("c", "same", ctxA); a3 == a1 || !strings.HasPrefix(a3, "vault:v2:") {
		t.Fatalf("after rotation: %s", a3)
	}

	h.ok(update, "keys/d", `{"derived":true}`)
	if d1, d2 := h.encrypt("d", "same", ctxA), h.encrypt("d", "same", ctxA); d1 == d2 {
		t.Fatal("a derived, non-convergent key is deterministic")
	}
}

func TestUpsertOnEncrypt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ec := h.b.(engine.ExistenceChecker)
	check := func(path string) bool {
		found, supported, err := ec.Exists(ctx, &engine.Request{Operation: update, Path: path})
		if err != nil || !supported {
			t.Fatalf("Exists(%s) = %v %v %v", path, found, supported, err)
		}
		return found
	}
	if check("encrypt/new") {
		t.Fatal("missing key exists")
	}
	h.bad(update, "encrypt/new", `{"plaintext":"eA=="}`, "key \"new\" not found")
	h.bad(create, "encrypt/new", `{"plaintext":"eA==","type":"ed25519"}`, "invalid type: ed25519 keys cannot encrypt")
	resp := h.ok(create, "encrypt/new", `{"plaintext":"eA==","context":"`+b64("c")+`","type":"chacha20-poly1305"}`)
	if !strings.HasPrefix(str(t, resp, "ciphertext"), "vault:v1:") || !check("encrypt/new") {
		t.Fatalf("upsert = %v", resp.Data)
	}
	if d := h.info("new"); d["type"] != "chacha20-poly1305" || d["derived"] != true {
		t.Fatalf("upserted key = %v", d)
	}
	// Create-only callers may not write to a key that exists by now.
	_, err := h.b.Handle(ctx, &engine.Request{Operation: create, Path: "encrypt/new", CreateOnly: true,
		Data: body(t, `{"plaintext":"eA==","context":"eA=="}`)})
	if !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("create-only on an existing key: %v", err)
	}
	if _, err := h.b.Handle(ctx, &engine.Request{Operation: create, Path: "encrypt/fresh", CreateOnly: true,
		Data: body(t, `{"plaintext":"eA=="}`)}); err != nil {
		t.Fatalf("create-only upsert: %v", err)
	}
}

func TestDataKey(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	for bits, n := range map[string]int{"": 32, `"bits":128`: 16, `"bits":512`: 64} {
		resp := h.ok(update, "datakey/plaintext/k", "{"+bits+"}")
		pt := unb64(t, str(t, resp, "plaintext"))
		if len(pt) != n || num(t, resp.Data, "key_version") != 1 {
			t.Fatalf("datakey %s = %d bytes, %v", bits, len(pt), resp.Data)
		}
		if got := h.decrypt("k", str(t, resp, "ciphertext"), ""); got != string(pt) {
			t.Fatal("data key ciphertext does not decrypt to its plaintext")
		}
	}
	wrapped := h.ok(update, "datakey/wrapped/k", "")
	if _, ok := wrapped.Data["plaintext"]; ok || str(t, wrapped, "ciphertext") == "" {
		t.Fatalf("wrapped = %v", wrapped.Data)
	}
	h.bad(update, "datakey/plaintext/k", `{"bits":100}`, "invalid bits: must be 128, 256 or 512")
	h.bad(update, "datakey/other/k", "", "invalid type")
	h.bad(update, "datakey/wrapped/missing", "", "not found")
}
