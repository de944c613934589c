package transit

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

// failingRand is crypto/rand until fail is set, then an error.
type failingRand struct{ fail atomic.Bool }

func (r *failingRand) Read(p []byte) (int, error) {
	if r.fail.Load() {
		return 0, errors.New("entropy source gone")
	}
	return rand.Read(p)
}

// A signature or ciphertext that cannot be made for want of randomness is
// an internal failure: never an empty signature, never a 400 that blames
// the input.
func TestFailingRandomnessIsAnInternalError(t *testing.T) {
	// Since Go 1.26 crypto ignores the caller's reader unless told otherwise.
	t.Setenv("GODEBUG", "cryptocustomrand=1")
	rnd := &failingRand{}
	b, err := Factory(t.Context(), engine.Env{Storage: inmem.New(), Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b}
	h.ok(update, "keys/ec", `{"type":"ecdsa-p256"}`)
	h.ok(update, "keys/rsa", `{"type":"rsa-2048"}`)
	h.ok(update, "keys/aes", "")
	rnd.fail.Store(true)
	for _, c := range []struct{ path, body string }{
		{"sign/ec", `{"input":"eA==","marshaling_algorithm":"jws"}`},
		{"sign/ec", `{"batch_input":[{"input":"eA=="}],"marshaling_algorithm":"jws"}`},
		{"sign/ec", `{"input":"eA=="}`},
		{"sign/rsa", `{"input":"eA=="}`},
		{"sign/rsa", `{"batch_input":[{"input":"eA=="}]}`},
		{"encrypt/rsa", `{"plaintext":"eA=="}`},
		{"encrypt/aes", `{"plaintext":"eA=="}`},
	} {
		resp, err := h.do(update, c.path, c.body)
		if err == nil || errors.Is(err, engine.ErrInvalidRequest) {
			t.Errorf("%s %s with no randomness = %v, %v; want an internal error", c.path, c.body, resp, err)
		}
	}
}

// Tags, signatures and ciphertexts have one spelling: a re-encoding of the
// same bytes (other padding bits, line breaks) is malformed, so callers
// that compare or deduplicate them as strings are not fooled.
func TestOnlyCanonicalEncodingsAccepted(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.ok(update, "keys/ec", `{"type":"ecdsa-p256"}`)
	mac := str(t, h.ok(update, "hmac/k", `{"input":"eA=="}`), "hmac")
	ct := h.encrypt("k", "hello", "")
	sig := str(t, h.ok(update, "sign/ec", `{"input":"eA=="}`), "signature")
	jws := str(t, h.ok(update, "sign/ec", `{"input":"eA==","marshaling_algorithm":"jws"}`), "signature")

	// bump changes the unused low bits of the last base64 character.
	bump := func(s string) string {
		data := strings.TrimRight(s, "=")
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", data[len(data)-1])
		if last < 0 {
			last = strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", data[len(data)-1])
			return data[:len(data)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last+1]) + s[len(data):]
		}
		return data[:len(data)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last+1]) + s[len(data):]
	}
	newline := func(s string) string { return s[:15] + "\n" + s[15:] }
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	// The unaltered strings are fine.
	if h.ok(update, "verify/k", `{"input":"eA==","hmac":`+js(mac)+`}`).Data["valid"] != true {
		t.Fatal("genuine hmac does not verify")
	}
	for _, c := range []struct{ path, body, msg string }{
		{"verify/k", `{"input":"eA==","hmac":` + js(bump(mac)) + `}`, "invalid hmac"},
		{"verify/k", `{"input":"eA==","hmac":` + js(newline(mac)) + `}`, "invalid hmac"},
		{"verify/ec", `{"input":"eA==","signature":` + js(newline(sig)) + `}`, "invalid signature"},
		{"verify/ec", `{"input":"eA==","signature":` + js(bump(jws)) + `,"marshaling_algorithm":"jws"}`, "invalid signature"},
		{"decrypt/k", `{"ciphertext":` + js(newline(ct)) + `}`, "invalid ciphertext"},
		{"rewrap/k", `{"ciphertext":` + js(newline(ct)) + `}`, "invalid ciphertext"},
	} {
		h.bad(update, c.path, c.body, c.msg)
	}
	if got := h.decrypt("k", ct, ""); got != "hello" {
		t.Fatalf("genuine ciphertext = %q", got)
	}
}

// A backup is one JSON document: anything appended to it is tampering.
func TestRestoreRefusesTrailingData(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", `{"exportable":true,"allow_plaintext_backup":true}`)
	raw := unb64(t, str(t, h.ok(read, "backup/k", ""), "backup"))
	for _, tail := range []string{`{"format":"x"}`, "garbage", "\x00"} {
		bad := base64.StdEncoding.EncodeToString(append(append([]byte(nil), raw...), tail...))
		h.bad(update, "restore/x", fmt.Sprintf(`{"backup":%q}`, bad), "not a Ward transit backup")
	}
	if resp := h.ok(read, "keys/x", ""); resp != nil {
		t.Fatal("a tampered backup was restored")
	}
	ok := base64.StdEncoding.EncodeToString(append(raw, " \n"...))
	h.ok(update, "restore/x", fmt.Sprintf(`{"backup":%q}`, ok))
}

// Versions below min_decryption_version (retired) or min_available_version
// (trimmed) make nothing and open nothing, on every path that takes a
// version. A backup keeps retired versions, so that a restore is the key
// as it was, but not trimmed ones.
func TestRetiredAndTrimmedVersionsAreUnusable(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", `{"exportable":true,"allow_plaintext_backup":true}`)
	h.ok(update, "keys/ed", `{"type":"ed25519","exportable":true}`)
	var ct2, mac2, sig2 string
	for v := 2; v <= 4; v++ {
		h.ok(update, "keys/k/rotate", "")
		h.ok(update, "keys/ed/rotate", "")
		if v == 2 {
			ct2 = h.encrypt("k", "x", "")
			mac2 = str(t, h.ok(update, "hmac/k", `{"input":"eA=="}`), "hmac")
			sig2 = str(t, h.ok(update, "sign/ed", `{"input":"eA=="}`), "signature")
		}
	}
	for _, k := range []string{"k", "ed"} {
		h.ok(update, "keys/"+k+"/config", `{"min_decryption_version":3,"min_encryption_version":3}`)
		h.ok(update, "keys/"+k+"/trim", `{"min_available_version":2}`)
	}
	// With min_encryption_version 3, and with 0 (the latest), where only
	// min_decryption_version stands in the way.
	for _, minEnc := range []string{"3", "0"} {
		for _, k := range []string{"k", "ed"} {
			h.ok(update, "keys/"+k+"/config", `{"min_encryption_version":`+minEnc+`}`)
		}
		for _, v := range []string{"1", "2"} {
			kv := `"key_version":` + v
			h.bad(update, "encrypt/k", `{"plaintext":"eA==",`+kv+`}`, "invalid key_version")
			h.bad(update, "datakey/plaintext/k", `{`+kv+`}`, "invalid key_version")
			h.bad(update, "hmac/k", `{"input":"eA==",`+kv+`}`, "invalid key_version")
			h.bad(update, "sign/ed", `{"input":"eA==",`+kv+`}`, "invalid key_version")
			h.bad(update, "rewrap/k", `{"ciphertext":"`+h.encrypt("k", "x", "")+`",`+kv+`}`, "invalid key_version")
			for _, kind := range []string{"encryption-key", "hmac-key"} {
				h.bad(read, "export/"+kind+"/k/"+v, "", "invalid version")
			}
			h.bad(read, "export/signing-key/ed/"+v, "", "invalid version")
		}
	}
	h.bad(update, "decrypt/k", `{"ciphertext":"`+ct2+`"}`, "below the key's min_decryption_version")
	h.bad(update, "rewrap/k", `{"ciphertext":"`+ct2+`"}`, "below the key's min_decryption_version")
	h.bad(update, "verify/k", `{"input":"eA==","hmac":"`+mac2+`"}`, "below the key's min_decryption_version")
	h.bad(update, "verify/ed", `{"input":"eA==","signature":"`+sig2+`"}`, "below the key's min_decryption_version")
	for _, kind := range []string{"encryption-key", "hmac-key"} {
		keys := h.ok(read, "export/"+kind+"/k", "").Data["keys"].(map[string]string)
		if len(keys) != 2 || keys["3"] == "" || keys["4"] == "" {
			t.Fatalf("export %s = versions %v, want 3 and 4", kind, keys)
		}
	}
	if keys := h.info("ed")["keys"].(map[string]any); len(keys) != 2 || keys["3"] == nil || keys["4"] == nil {
		t.Fatalf("key read lists %v, want versions 3 and 4", keys)
	}
	var doc backupDoc
	if err := json.Unmarshal(unb64(t, str(t, h.ok(read, "backup/k", ""), "backup")), &doc); err != nil {
		t.Fatal(err)
	}
	if v := doc.Policy.Versions; len(v) != 3 || v[1] != nil || v[2] == nil || doc.Policy.MinDecryptionVersion != 3 {
		t.Fatalf("backup holds versions %v (min_decryption_version %d), want 2 to 4 and 3", v, doc.Policy.MinDecryptionVersion)
	}
}

// Every encryption of a non-convergent key has a fresh random nonce.
func TestNoncesDoNotRepeat(t *testing.T) {
	h := newHarness(t)
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"} {
		h.ok(update, "keys/"+typ, `{"type":"`+typ+`"}`)
		h.ok(update, "keys/d-"+typ, `{"type":"`+typ+`","derived":true}`)
		seen := map[string]bool{}
		for i := range 200 {
			key, extra := typ, ""
			if i%2 == 1 {
				key, extra = "d-"+typ, `,"context":"Y3R4"`
			}
			raw := unb64(t, strings.TrimPrefix(h.encrypt(key, "same", extra), "vault:v1:"))
			if seen[string(raw[:12])] {
				t.Fatalf("%s: nonce %x repeated after %d encryptions", key, raw[:12], i)
			}
			seen[string(raw[:12])] = true
		}
	}
}
