package transit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func TestKeyReadShape(t *testing.T) {
	h := newHarness(t)
	resp := h.ok(update, "keys/app", "")
	created := h.clock.Now().Unix()
	jsonEq(t, "create response", resp.Data, fmt.Sprintf(`{
		"name":"app","type":"aes256-gcm96","keys":{"1":%d},"latest_version":1,
		"min_available_version":0,"min_decryption_version":1,"min_encryption_version":0,
		"deletion_allowed":false,"derived":false,"exportable":false,"allow_plaintext_backup":false,
		"supports_encryption":true,"supports_decryption":true,"supports_derivation":true,
		"supports_signing":false,"auto_rotate_period":0,"imported_key":false}`, created))
	jsonEq(t, "read", h.info("app"), mustJSON(t, resp.Data))

	h.ok(update, "keys/conv", `{"derived":true,"convergent_encryption":true,"auto_rotate_period":"24h"}`)
	d := h.info("conv")
	if d["kdf"] != "hkdf_sha256" || d["convergent_encryption"] != true || d["convergent_encryption_version"] != 3 ||
		num(t, d, "auto_rotate_period") != 86400 {
		t.Fatalf("derived key read = %v", d)
	}
	h.ok(update, "keys/mac", `{"type":"hmac","key_size":64}`)
	if d := h.info("mac"); num(t, d, "key_size") != 64 || d["supports_encryption"] != false || d["supports_signing"] != false {
		t.Fatalf("hmac key read = %v", d)
	}

	// Creating again changes nothing and says so.
	again := h.ok(update, "keys/app", `{"type":"ed25519","exportable":true}`)
	if again.Data["type"] != "aes256-gcm96" || again.Data["exportable"] != false || len(again.Warnings) != 1 {
		t.Fatalf("re-create = %+v", again)
	}
	if resp := h.ok(read, "keys/missing", ""); resp != nil {
		t.Fatalf("read missing = %+v, want nil (404)", resp)
	}
	jsonEq(t, "list", h.ok(list, "keys/", "").Data, `{"keys":["app","conv","mac"]}`)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateKeyRules(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ body, msg string }{
		{`{"type":"des"}`, "invalid type: unknown key type \"des\""},
		{`{"type":"ecdsa-p256","derived":true}`, "invalid derived: ecdsa-p256 keys do not support derivation"},
		{`{"convergent_encryption":true}`, "invalid convergent_encryption: requires a derived key"},
		{`{"type":"ed25519","derived":true,"convergent_encryption":true}`, "invalid convergent_encryption: ed25519 keys do not support it"},
		{`{"key_size":64}`, "invalid key_size: only hmac keys"},
		{`{"type":"hmac","key_size":16}`, "invalid key_size: must be 32 to 512"},
		{`{"auto_rotate_period":"30m"}`, "invalid auto_rotate_period: must be 0 (off) or at least 1h"},
		{`{"derived":"maybe"}`, "invalid derived"},
	} {
		h.bad(update, "keys/k", c.body, c.msg)
	}
	h.bad(update, "keys/-bad", "", "invalid name")
	if keys, _ := h.b.(*backend).keys.list(t.Context()); len(keys) != 0 {
		t.Fatalf("failed creates stored keys %v", keys)
	}
}

func TestConfigRules(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.bad(update, "keys/missing/config", `{"deletion_allowed":true}`, "not found")
	h.bad(update, "keys/k/config", `{"min_decryption_version":2}`, "invalid min_decryption_version: cannot exceed the latest version (1)")
	h.ok(update, "keys/k/rotate", "")
	h.ok(update, "keys/k/rotate", "")
	h.bad(update, "keys/k/config", `{"min_encryption_version":4}`, "invalid min_encryption_version: cannot exceed")
	h.bad(update, "keys/k/config", `{"min_decryption_version":3,"min_encryption_version":2}`, "must be 0 (the latest) or at least min_decryption_version (3)")
	h.bad(update, "keys/k/config", `{"min_decryption_version":-1}`, "must not be negative")
	h.bad(update, "keys/k/config", `{"auto_rotate_period":"59m"}`, "at least 1h")
	// A failed config stores nothing.
	if d := h.info("k"); num(t, d, "min_decryption_version") != 1 || num(t, d, "min_encryption_version") != 0 {
		t.Fatalf("after failed config: %v", d)
	}
	resp := h.ok(update, "keys/k/config", `{"min_decryption_version":0}`)
	if num(t, resp.Data, "min_decryption_version") != 1 || len(resp.Warnings) != 1 {
		t.Fatalf("min_decryption_version 0 = %+v, want 1 with a warning", resp)
	}
	d := h.ok(update, "keys/k/config", `{"min_decryption_version":2,"min_encryption_version":3,"exportable":true,"allow_plaintext_backup":true,"auto_rotate_period":"2h"}`).Data
	if num(t, d, "min_decryption_version") != 2 || num(t, d, "min_encryption_version") != 3 || d["exportable"] != true ||
		d["allow_plaintext_backup"] != true || num(t, d, "auto_rotate_period") != 7200 {
		t.Fatalf("config = %v", d)
	}
	h.bad(update, "keys/k/config", `{"exportable":false}`, "invalid exportable: cannot be turned off")
	h.bad(update, "keys/k/config", `{"allow_plaintext_backup":false}`, "invalid allow_plaintext_backup: cannot be turned off")
	if d := h.ok(update, "keys/k/config", `{"auto_rotate_period":0}`).Data; num(t, d, "auto_rotate_period") != 0 {
		t.Fatalf("auto_rotate_period 0 did not disable: %v", d)
	}
}

func TestDeleteNeedsDeletionAllowed(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.bad(del, "keys/k", "", "deletion is not allowed for key \"k\"")
	if h.info("k") == nil {
		t.Fatal("key gone after refused delete")
	}
	h.ok(update, "keys/k/config", `{"deletion_allowed":true}`)
	if resp := h.ok(del, "keys/k", ""); resp != nil {
		t.Fatalf("delete = %+v, want nil (204)", resp)
	}
	if resp := h.ok(read, "keys/k", ""); resp != nil {
		t.Fatal("key still readable after delete")
	}
	if got := h.storedKeys(); len(got) != 0 {
		t.Fatalf("storage after delete: %v", got)
	}
	h.bad(del, "keys/k", "", "not found")
	h.bad(update, "decrypt/k", `{"ciphertext":"vault:v1:AAAA"}`, "key \"k\" not found")
}

func TestTrimRules(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	var cts []string
	for i := 0; i < 3; i++ {
		cts = append(cts, h.encrypt("k", "v", ""))
		h.ok(update, "keys/k/rotate", "")
	}
	// Versions 1..4; ciphertexts under 1..3.
	h.bad(update, "keys/k/trim", `{}`, "invalid min_available_version: required")
	h.bad(update, "keys/k/trim", `{"min_available_version":0}`, "must be positive")
	h.bad(update, "keys/k/trim", `{"min_available_version":2}`, "while min_encryption_version is 0")
	h.ok(update, "keys/k/config", `{"min_encryption_version":4}`)
	h.bad(update, "keys/k/trim", `{"min_available_version":2}`, "cannot exceed min_decryption_version (1)")
	h.ok(update, "keys/k/config", `{"min_decryption_version":3}`)
	h.bad(update, "keys/k/trim", `{"min_available_version":4}`, "cannot exceed min_decryption_version (3)")
	d := h.ok(update, "keys/k/trim", `{"min_available_version":3}`).Data
	if num(t, d, "min_available_version") != 3 {
		t.Fatalf("trim = %v", d)
	}
	h.bad(update, "keys/k/trim", `{"min_available_version":2}`, "cannot go below the current value (3)")
	h.bad(update, "keys/k/config", `{"min_decryption_version":2}`, "versions below 3 were trimmed")
	// Trimmed versions are gone from storage, not only hidden.
	p, err := h.b.(*backend).keys.read(t.Context(), "k")
	if err != nil || len(p.Versions) != 2 || p.Versions[1] != nil || p.Versions[2] != nil {
		t.Fatalf("stored versions after trim: %v %v", p, err)
	}
	h.bad(update, "decrypt/k", `{"ciphertext":"`+cts[0]+`"}`, "below the key's min_decryption_version")
	if got := h.decrypt("k", cts[2], ""); got != "v" {
		t.Fatalf("v3 ciphertext after trim = %q", got)
	}
}

func TestAutoRotateIsLazyAndHappensOnce(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", `{"auto_rotate_period":"1h"}`)
	h.clock.Advance(59 * time.Minute)
	if ct := h.encrypt("k", "x", ""); !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("rotated early: %s", ct)
	}
	h.clock.Advance(3 * time.Hour) // several periods pass: one rotation
	var wg sync.WaitGroup
	cts := make([]string, 16)
	for i := range cts {
		wg.Go(func() {
			resp, err := h.do(update, "encrypt/k", `{"plaintext":"eA=="}`)
			if err != nil {
				t.Error(err)
				return
			}
			cts[i] = resp.Data["ciphertext"].(string)
		})
	}
	wg.Wait()
	for _, ct := range cts {
		if !strings.HasPrefix(ct, "vault:v2:") {
			t.Fatalf("ciphertext after due rotation: %s", ct)
		}
	}
	if d := h.info("k"); num(t, d, "latest_version") != 2 {
		t.Fatalf("latest_version = %v, want exactly one auto-rotation", d["latest_version"])
	}
	h.clock.Advance(time.Hour)
	if d := h.info("k"); num(t, d, "latest_version") != 3 {
		t.Fatalf("a key read did not rotate a due key: %v", d["latest_version"])
	}
}

func TestConcurrentChangesLoseNothing(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := h.do(update, "keys/k/rotate", ""); err != nil {
				t.Error(err)
			}
			if i == n/2 {
				if _, err := h.do(update, "keys/k/config", `{"deletion_allowed":true}`); err != nil {
					t.Error(err)
				}
			}
			if _, err := h.do(update, "encrypt/k", `{"plaintext":"eA=="}`); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	d := h.info("k")
	if num(t, d, "latest_version") != n+1 || d["deletion_allowed"] != true {
		t.Fatalf("after %d concurrent rotations and one config: %v", n, d)
	}
	// The cache and storage agree.
	p, _ := h.b.(*backend).keys.read(t.Context(), "k")
	if p.LatestVersion != n+1 || !p.DeletionAllowed {
		t.Fatalf("stored: %v", p)
	}
}

func TestPolicyStringRedacts(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", `{"exportable":true}`)
	r, _ := h.b.(*backend).keys.get(t.Context(), "k")
	secret := b64(string(r.p.Versions[1].Key))
	for _, s := range []string{fmt.Sprint(r), fmt.Sprint(r.p), fmt.Sprint(r.p.Versions[1]), fmt.Sprint(r.versions[1]),
		fmt.Sprintf("%v", r.p.LogValue()), r.p.Versions[1].LogValue().String()} {
		if strings.Contains(s, secret) || strings.Contains(s, string(r.p.Versions[1].Key)) {
			t.Fatalf("key material printed: %s", s)
		}
	}
}

func TestMaterialMustFitItsType(t *testing.T) {
	now := time.Now()
	for _, c := range []struct{ made, claimed keyType }{
		{typeRSA2048, typeRSA4096}, {typeRSA2048, typeRSA3072}, {typeECDSA256, typeECDSA384},
		{typeECDSA521, typeRSA2048}, {typeAES128, typeAES256}, {typeEd25519, typeECDSA256},
	} {
		v, err := newVersion(c.made, 0, rand.Reader, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeMaterial(c.made, false, v); err != nil {
			t.Fatalf("%s material does not decode as itself: %v", c.made, err)
		}
		if _, err := decodeMaterial(c.claimed, false, v); err == nil {
			t.Fatalf("%s material accepted as %s", c.made, c.claimed)
		}
	}
	for typ, bits := range map[keyType]int{typeRSA2048: 2048, typeRSA3072: 3072, typeRSA4096: 4096} {
		if typ.rsaBits() != bits || !typ.encryption() || !typ.signing() || typ.derivation() {
			t.Fatalf("%s: wrong capabilities", typ)
		}
	}
	pt := fmt.Sprint(encryptItem{Plaintext: new("c2VjcmV0"), Reference: "r"}, hmacItem{Input: new("c2VjcmV0")}, signItem{Input: new("c2VjcmV0")})
	if strings.Contains(pt, "c2VjcmV0") {
		t.Fatalf("request items print their data: %s", pt)
	}
}

func TestCorruptStoredKeyIsNotAClientError(t *testing.T) {
	h := newHarness(t)
	if err := h.store.Put(t.Context(), keyPrefix+"k", []byte(`{"name":"k","type":"aes256-gcm96","latest_version":1,"min_decryption_version":1,"versions":{"1":{"key":"AAAA","hmac_key":"AAAA"}}}`)); err != nil {
		t.Fatal(err)
	}
	_, err := h.do(update, "encrypt/k", `{"plaintext":"eA=="}`)
	if err == nil || strings.Contains(err.Error(), "invalid request") || isClientErr(err) {
		t.Fatalf("corrupt key: %v, want an internal error", err)
	}
}

func isClientErr(err error) bool {
	var e *engine.InputError
	var ee *engine.Error
	return errors.As(err, &e) || errors.As(err, &ee)
}

// flakyStore fails every Put while fail is set.
type flakyStore struct {
	*inmem.Backend
	fail atomic.Bool
}

func (s *flakyStore) Put(ctx context.Context, key string, value []byte) error {
	if s.fail.Load() {
		return errors.New("disk on fire")
	}
	return s.Backend.Put(ctx, key, value)
}

func TestFailedWriteKeepsCacheHonest(t *testing.T) {
	st := &flakyStore{Backend: inmem.New()}
	b, err := Factory(t.Context(), engine.Env{Storage: st})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, store: st.Backend}
	h.ok(update, "keys/k", "")
	st.fail.Store(true)
	_, err = h.do(update, "keys/k/rotate", "")
	if err == nil || errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "store transit key") {
		t.Fatalf("rotate with failing storage: %v, want an internal error", err)
	}
	st.fail.Store(false)
	if ct := h.encrypt("k", "x", ""); !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("after a failed rotation encrypt used %s", ct)
	}
	if _, err := Factory(t.Context(), engine.Env{}); err == nil {
		t.Fatal("Factory without storage succeeded")
	}
}
