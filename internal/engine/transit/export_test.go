package transit

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
)

func TestExportRefusedUnlessExportable(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.ok(update, "keys/ec", `{"type":"ecdsa-p256"}`)
	for _, path := range []string{"export/encryption-key/k", "export/hmac-key/k/1", "export/signing-key/ec"} {
		h.bad(read, path, "", "is not exportable")
	}
	// Public keys leave any asymmetric key.
	pub := h.ok(read, "export/public-key/ec/latest", "").Data["keys"].(map[string]string)["1"]
	if blk, _ := pem.Decode([]byte(pub)); blk == nil || blk.Type != "PUBLIC KEY" {
		t.Fatalf("public-key export = %q", pub)
	}
	h.bad(read, "export/public-key/k", "", "aes256-gcm96 keys have no public-key")
	h.bad(read, "export/private-key/k", "", "invalid type")
	if resp := h.ok(read, "export/encryption-key/missing", ""); resp != nil {
		t.Fatalf("export of a missing key = %+v, want nil (404)", resp)
	}
}

func TestExportFormats(t *testing.T) {
	h := newHarness(t)
	for _, typ := range []string{"aes128-gcm96", "chacha20-poly1305", "ed25519", "ecdsa-p384", "rsa-2048"} {
		h.ok(update, "keys/"+typ, `{"type":"`+typ+`","exportable":true}`)
	}
	one := func(path string) string {
		resp := h.ok(read, path, "")
		if resp.Data["name"] == nil || resp.Data["type"] == nil {
			t.Fatalf("%s = %v", path, resp.Data)
		}
		return resp.Data["keys"].(map[string]string)["1"]
	}
	if k := unb64(t, one("export/encryption-key/aes128-gcm96")); len(k) != 16 {
		t.Fatalf("aes128 key is %d bytes", len(k))
	}
	// The exported chacha key decrypts what the engine encrypted.
	ct := h.encrypt("chacha20-poly1305", "p", "")
	if k := unb64(t, one("export/encryption-key/chacha20-poly1305/1")); len(k) != 32 {
		t.Fatalf("chacha key is %d bytes", len(k))
	} else if a, _ := newAEAD(typeChaCha, k); a != nil {
		raw := unb64(t, strings.TrimPrefix(ct, "vault:v1:"))
		if pt, err := a.Open(nil, raw[:12], raw[12:], nil); err != nil || string(pt) != "p" {
			t.Fatalf("exported key does not open the ciphertext: %v", err)
		}
	}
	edPriv := ed25519.PrivateKey(unb64(t, one("export/signing-key/ed25519")))
	if len(edPriv) != ed25519.PrivateKeySize || !edPriv.Public().(ed25519.PublicKey).Equal(h.publicKey("ed25519")) {
		t.Fatal("ed25519 signing key does not match the public key")
	}
	blk, _ := pem.Decode([]byte(one("export/signing-key/ecdsa-p384")))
	ec, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil || blk.Type != "EC PRIVATE KEY" || !ec.PublicKey.Equal(h.publicKey("ecdsa-p384").(*ecdsa.PublicKey)) {
		t.Fatalf("ecdsa signing key: %v", err)
	}
	for _, kind := range []string{"signing-key", "encryption-key"} {
		blk, _ := pem.Decode([]byte(one("export/" + kind + "/rsa-2048")))
		rk, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil || !rk.PublicKey.Equal(h.publicKey("rsa-2048").(*rsa.PublicKey)) {
			t.Fatalf("rsa %s: %v", kind, err)
		}
	}
	h.bad(read, "export/signing-key/aes128-gcm96", "", "no signing-key")
	h.bad(read, "export/encryption-key/ed25519", "", "no encryption-key")

	// Versions: all that may decrypt, one, latest; not below min_decryption_version.
	h.ok(update, "keys/aes128-gcm96/rotate", "")
	h.ok(update, "keys/aes128-gcm96/rotate", "")
	if keys := h.ok(read, "export/encryption-key/aes128-gcm96", "").Data["keys"].(map[string]string); len(keys) != 3 {
		t.Fatalf("export all = %d versions", len(keys))
	}
	h.ok(update, "keys/aes128-gcm96/config", `{"min_decryption_version":2}`)
	if keys := h.ok(read, "export/encryption-key/aes128-gcm96", "").Data["keys"].(map[string]string); len(keys) != 2 || keys["1"] != "" {
		t.Fatalf("export all after min_decryption_version = %v versions", len(keys))
	}
	if keys := h.ok(read, "export/encryption-key/aes128-gcm96/latest", "").Data["keys"].(map[string]string); keys["3"] == "" || len(keys) != 1 {
		t.Fatal("export latest")
	}
	h.bad(read, "export/encryption-key/aes128-gcm96/1", "", "below the key's min_decryption_version")
	h.bad(read, "export/encryption-key/aes128-gcm96/4", "", "does not exist")
	h.bad(read, "export/encryption-key/aes128-gcm96/x", "", "invalid version")
}

func TestBackupAndRestore(t *testing.T) {
	h := newHarness(t)
	h.ok(update, "keys/k", "")
	h.bad(read, "backup/k", "", "is not exportable")
	h.ok(update, "keys/k/config", `{"exportable":true}`)
	h.bad(read, "backup/k", "", "does not allow plaintext backups")
	h.ok(update, "keys/k/config", `{"allow_plaintext_backup":true}`)
	v1 := h.encrypt("k", "one", "")
	h.ok(update, "keys/k/rotate", "")
	v2 := h.encrypt("k", "two", "")
	backup := str(t, h.ok(read, "backup/k", ""), "backup")

	h.bad(update, "restore", `{"backup":"`+backup+`"}`, "key \"k\" already exists")
	if resp := h.ok(update, "restore/copy", `{"backup":"`+backup+`"}`); resp != nil {
		t.Fatalf("restore = %+v, want nil (204)", resp)
	}
	if h.decrypt("copy", v1, "") != "one" || h.decrypt("copy", v2, "") != "two" {
		t.Fatal("restored key does not decrypt the original's ciphertexts")
	}
	if d := h.info("copy"); d["name"] != "copy" || num(t, d, "latest_version") != 2 {
		t.Fatalf("restored key = %v", d)
	}

	// force replaces, and the cache follows.
	h.ok(update, "keys/k/rotate", "")
	h.ok(update, "restore", `{"backup":"`+backup+`","force":true}`)
	if d := h.info("k"); num(t, d, "latest_version") != 2 {
		t.Fatalf("forced restore left latest_version %v", d["latest_version"])
	}

	// Backups are checked like stored keys: nothing half-valid gets in.
	raw := unb64(t, backup)
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	doc["policy"].(map[string]any)["latest_version"] = 3
	bad, _ := json.Marshal(doc)
	h.bad(update, "restore/x", `{"backup":"`+base64.StdEncoding.EncodeToString(bad)+`"}`, "invalid backup: not a valid key")
	doc["policy"].(map[string]any)["latest_version"] = 2
	doc["policy"].(map[string]any)["versions"].(map[string]any)["1"].(map[string]any)["key"] = base64.StdEncoding.EncodeToString([]byte("short"))
	bad, _ = json.Marshal(doc)
	h.bad(update, "restore/x", `{"backup":"`+base64.StdEncoding.EncodeToString(bad)+`"}`, "invalid backup: not a valid key")
	h.bad(update, "restore/x", `{"backup":"e30="}`, "not a Ward transit backup")
	h.bad(update, "restore/x", `{"backup":"%%"}`, "invalid backup: must be base64")
	h.bad(update, "restore/x", `{}`, "invalid backup: required")
	if resp := h.ok(read, "keys/x", ""); resp != nil {
		t.Fatal("a refused restore stored a key")
	}
}
