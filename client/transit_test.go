package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestTransitEncryptDecryptRewrap(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/tr/encrypt/app", 200, `{"data":{"ciphertext":"vault:v2:QUJD","key_version":2}}`)
	f.on("PUT", "/v1/tr/decrypt/app", 200, `{"data":{"plaintext":"`+b64("hello\x00bytes")+`"}}`)
	f.on("PUT", "/v1/tr/decrypt/empty", 200, `{"data":{"plaintext":""}}`)
	f.on("PUT", "/v1/tr/decrypt/notb64", 200, `{"data":{"plaintext":"%%%"}}`)
	f.on("PUT", "/v1/tr/decrypt/nodata", 204, "")
	f.on("PUT", "/v1/tr/decrypt/bad", 400, `{"errors":["cipher: message authentication failed"]}`)
	f.on("PUT", "/v1/tr/rewrap/app", 200, `{"data":{"ciphertext":"vault:v3:REVG","key_version":3}}`)
	tr := f.client(t, "t").Transit("/tr/")

	ct, err := tr.Encrypt(ctx, "app", []byte("hello\x00bytes"), &TransitOptions{Context: []byte("ctx"), KeyVersion: 2, AssociatedData: []byte("ad")})
	if err != nil || ct != "vault:v2:QUJD" {
		t.Fatalf("encrypt = %q, %v", ct, err)
	}
	want := map[string]any{"plaintext": b64("hello\x00bytes"), "context": b64("ctx"), "key_version": 2.0, "associated_data": b64("ad")}
	if got := f.last().Body; !reflect.DeepEqual(got, want) {
		t.Errorf("encrypt body = %v, want %v", got, want)
	}
	if _, err := tr.Encrypt(ctx, "app", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.last().Body; !reflect.DeepEqual(got, map[string]any{"plaintext": ""}) {
		t.Errorf("encrypt body without options = %v", got)
	}

	pt, err := tr.Decrypt(ctx, "app", ct, &TransitOptions{Context: []byte("ctx"), KeyVersion: 7})
	if err != nil || string(pt) != "hello\x00bytes" {
		t.Fatalf("decrypt = %q, %v", pt, err)
	}
	if got := f.last().Body; !reflect.DeepEqual(got, map[string]any{"ciphertext": ct, "context": b64("ctx")}) {
		t.Errorf("decrypt body = %v (key_version must not be sent)", got)
	}
	if pt, err := tr.Decrypt(ctx, "empty", ct, nil); err != nil || len(pt) != 0 {
		t.Errorf("empty plaintext = %q, %v", pt, err)
	}
	if _, err := tr.Decrypt(ctx, "notb64", ct, nil); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("bad base64: err = %v", err)
	}
	if _, err := tr.Decrypt(ctx, "nodata", ct, nil); err == nil || !strings.Contains(err.Error(), "no plaintext") {
		t.Errorf("204 reply: err = %v", err)
	}
	_, err = tr.Decrypt(ctx, "bad", ct, nil)
	if StatusCode(err) != 400 || !strings.Contains(err.Error(), "transit decrypt tr/decrypt/bad: ") {
		t.Errorf("refused decrypt: err = %v", err)
	}
	if _, err := tr.Decrypt(ctx, "a/b", ct, nil); err == nil || !strings.Contains(err.Error(), "invalid key name") {
		t.Errorf("key name with a slash: err = %v", err)
	}

	ct3, err := tr.Rewrap(ctx, "app", ct, &TransitOptions{KeyVersion: 3})
	if err != nil || ct3 != "vault:v3:REVG" {
		t.Fatalf("rewrap = %q, %v", ct3, err)
	}
	if got := f.last().Body; got["ciphertext"] != ct || got["key_version"] != 3.0 {
		t.Errorf("rewrap body = %v", got)
	}
}

func TestTransitBatch(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/transit/encrypt/k", 200, `{"data":{"batch_results":[{"ciphertext":"vault:v1:AA==","key_version":1,"reference":"a"},{"ciphertext":"vault:v1:BB==","key_version":1}]}}`)
	f.on("PUT", "/v1/transit/decrypt/k", 400, `{"data":{"batch_results":[{"plaintext":"`+b64("one")+`"},{"error":"cipher: message authentication failed","reference":"bad"}]}}`)
	f.on("PUT", "/v1/transit/decrypt/short", 200, `{"data":{"batch_results":[{"plaintext":""}]}}`)
	f.on("PUT", "/v1/transit/decrypt/denied", 403, `{"errors":["permission denied"]}`)
	f.on("PUT", "/v1/transit/decrypt/plain400", 400, `{"errors":["missing batch_input"]}`)
	tr := f.client(t, "t").Transit("transit")

	res, err := tr.EncryptBatch(ctx, "k", []TransitItem{{Plaintext: []byte("x"), Context: []byte("c"), Reference: "a"}, {Plaintext: []byte("y")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Ciphertext != "vault:v1:AA==" || res[0].Reference != "a" || res[0].KeyVersion != 1 || res[1].Err != nil {
		t.Errorf("encrypt results = %v", res)
	}
	in := f.last().Body["batch_input"].([]any)
	if first := in[0].(map[string]any); first["plaintext"] != b64("x") || first["context"] != b64("c") || first["reference"] != "a" {
		t.Errorf("batch_input[0] = %v", first)
	}

	// A partial failure answers 400 with the results: one item failed.
	res, err = tr.DecryptBatch(ctx, "k", []TransitItem{{Ciphertext: "vault:v1:AA=="}, {Ciphertext: "vault:v1:BB==", Reference: "bad"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res[0].Plaintext) != "one" || res[0].Err != nil {
		t.Errorf("good item = %v", res[0])
	}
	if res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "item 1: cipher: message authentication failed") || res[1].Reference != "bad" {
		t.Errorf("bad item = %v", res[1])
	}
	if _, err := tr.DecryptBatch(ctx, "short", []TransitItem{{}, {}}); err == nil || !strings.Contains(err.Error(), "1 results for 2 items") {
		t.Errorf("result count mismatch: err = %v", err)
	}
	if _, err := tr.DecryptBatch(ctx, "denied", []TransitItem{{}}); StatusCode(err) != 403 {
		t.Errorf("403: err = %v", err)
	}
	if _, err := tr.DecryptBatch(ctx, "plain400", []TransitItem{{}}); StatusCode(err) != 400 {
		t.Errorf("400 without results: err = %v", err)
	}
	if _, err := tr.EncryptBatch(ctx, "k", nil); err == nil {
		t.Error("empty batch accepted")
	}
}

func TestTransitReadKey(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	asym, _ := json.Marshal(map[string]any{"data": map[string]any{
		"name": "sig", "type": "ecdsa-p256", "latest_version": 2, "min_decryption_version": 1,
		"supports_signing": true, "auto_rotate_period": 3600,
		"keys": map[string]any{
			"1": map[string]any{"public_key": pemKey, "name": "P-256", "creation_time": "2024-05-01T10:00:00.5Z"},
			"2": map[string]any{"public_key": base64.StdEncoding.EncodeToString(edPub), "creation_time": "2024-05-02T10:00:00Z"},
		},
	}})
	f.on("GET", "/v1/transit/keys/sig", 200, string(asym))
	f.on("GET", "/v1/transit/keys/sym", 200, `{"data":{"name":"sym","type":"aes256-gcm96","latest_version":1,"min_decryption_version":1,"deletion_allowed":true,"supports_encryption":true,"auto_rotate_period":0,"keys":{"1":1442851412}}}`)
	f.on("GET", "/v1/transit/keys/weird", 200, `{"data":{"keys":{"one":1}}}`)
	tr := f.client(t, "t").Transit("transit")

	k, err := tr.ReadKey(ctx, "sym")
	if err != nil {
		t.Fatal(err)
	}
	if k.Type != "aes256-gcm96" || k.LatestVersion != 1 || !k.DeletionAllowed || !k.SupportsEncryption ||
		!k.Versions[1].Created.Equal(time.Unix(1442851412, 0)) || k.Versions[1].PublicKey != "" {
		t.Errorf("symmetric key = %+v", k)
	}
	if _, err := k.Versions[1].ParsePublicKey(); err == nil {
		t.Error("a symmetric key version yielded a public key")
	}

	k, err = tr.ReadKey(ctx, "sig")
	if err != nil {
		t.Fatal(err)
	}
	if k.AutoRotatePeriod != time.Hour || !k.SupportsSigning || k.Versions[1].Name != "P-256" ||
		!k.Versions[1].Created.Equal(time.Date(2024, 5, 1, 10, 0, 0, 5e8, time.UTC)) {
		t.Errorf("asymmetric key = %+v", k)
	}
	pub, err := k.Versions[1].ParsePublicKey()
	if p, ok := pub.(*ecdsa.PublicKey); err != nil || !ok || !p.Equal(&ec.PublicKey) {
		t.Errorf("ECDSA public key = %T %v, %v", pub, pub, err)
	}
	pub, err = k.Versions[2].ParsePublicKey()
	if p, ok := pub.(ed25519.PublicKey); err != nil || !ok || !p.Equal(edPub) {
		t.Errorf("ed25519 public key = %T, %v", pub, err)
	}
	if _, err := (TransitKeyVersion{PublicKey: "bm90IGEga2V5"}).ParsePublicKey(); err == nil {
		t.Error("garbage accepted as a public key")
	}

	if _, err := tr.ReadKey(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: err = %v", err)
	}
	if _, err := tr.ReadKey(ctx, "weird"); err == nil {
		t.Error("non-numeric key version accepted")
	}
}

func TestTransitKeyManagement(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/transit/keys/k", 200, `{"data":{"name":"k"}}`)
	f.on("PUT", "/v1/transit/keys/k/rotate", 200, `{"data":{"name":"k","latest_version":2}}`)
	f.on("PUT", "/v1/transit/keys/k/config", 204, "")
	f.on("DELETE", "/v1/transit/keys/k", 400, `{"errors":["deletion is not allowed for this key"]}`)
	f.on("GET", "/v1/transit/keys", 200, `{"data":{"keys":["a","k"]}}`)
	tr := f.client(t, "t").Transit("transit")

	if err := tr.CreateKey(ctx, "k", &TransitKeyOptions{Type: "ed25519", Exportable: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.last().Body; !reflect.DeepEqual(got, map[string]any{"type": "ed25519", "exportable": true}) {
		t.Errorf("create body = %v", got)
	}
	if err := tr.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.RotateKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	two, yes := 2, true
	if err := tr.ConfigureKey(ctx, "k", &TransitKeyConfig{MinDecryptionVersion: &two, DeletionAllowed: &yes}); err != nil {
		t.Fatal(err)
	}
	if got := f.last().Body; !reflect.DeepEqual(got, map[string]any{"min_decryption_version": 2.0, "deletion_allowed": true}) {
		t.Errorf("config body = %v", got)
	}
	err := tr.DeleteKey(ctx, "k")
	if StatusCode(err) != 400 || !strings.Contains(err.Error(), "deletion is not allowed") {
		t.Errorf("delete: err = %v", err)
	}
	keys, err := tr.ListKeys(ctx)
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "k"}) || f.last().Query != "list=true" {
		t.Errorf("list = %v, %v (query %q)", keys, err, f.last().Query)
	}
	if err := tr.RotateKey(ctx, ""); err == nil {
		t.Error("empty key name accepted")
	}
}

func TestTransitSignHMACAndTools(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/transit/sign/k/sha2-384", 200, `{"data":{"signature":"vault:v1:c2ln","key_version":1}}`)
	f.on("PUT", "/v1/transit/verify/k", 200, `{"data":{"valid":false}}`)
	f.on("PUT", "/v1/transit/verify/h/sha2-512", 200, `{"data":{"valid":true}}`)
	f.on("PUT", "/v1/transit/verify/none", 200, `{"data":{}}`)
	f.on("PUT", "/v1/transit/hmac/h/sha2-512", 200, `{"data":{"hmac":"vault:v1:aG1hYw=="}}`)
	f.on("PUT", "/v1/transit/datakey/plaintext/k", 200, `{"data":{"plaintext":"`+b64("0123456789abcdef")+`","ciphertext":"vault:v1:ZGs=","key_version":1}}`)
	f.on("PUT", "/v1/transit/datakey/wrapped/k", 200, `{"data":{"ciphertext":"vault:v1:ZGs=","key_version":1}}`)
	f.on("PUT", "/v1/transit/datakey/wrapped/leaky", 200, `{"data":{"plaintext":"AA==","ciphertext":"vault:v1:ZGs="}}`)
	f.on("PUT", "/v1/transit/random", 200, `{"data":{"random_bytes":"`+base64.StdEncoding.EncodeToString(make([]byte, 16))+`"}}`)
	f.on("PUT", "/v1/transit/hash/sha3-256", 200, `{"data":{"sum":"`+base64.StdEncoding.EncodeToString([]byte{1, 2, 3})+`"}}`)
	tr := f.client(t, "t").Transit("transit")

	sig, err := tr.Sign(ctx, "k", []byte("msg"), &SignOptions{HashAlgorithm: "sha2-384", SignatureAlgorithm: "pkcs1v15", Prehashed: true, KeyVersion: 1})
	if err != nil || sig != "vault:v1:c2ln" {
		t.Fatalf("sign = %q, %v", sig, err)
	}
	want := map[string]any{"input": b64("msg"), "signature_algorithm": "pkcs1v15", "prehashed": true, "key_version": 1.0}
	if got := f.last().Body; !reflect.DeepEqual(got, want) {
		t.Errorf("sign body = %v, want %v", got, want)
	}
	ok, err := tr.Verify(ctx, "k", []byte("msg"), sig, nil)
	if err != nil || ok {
		t.Errorf("verify = %v, %v; want false, nil", ok, err)
	}
	if got := f.last().Body; got["signature"] != sig || got["input"] != b64("msg") {
		t.Errorf("verify body = %v", got)
	}
	if _, err := tr.Verify(ctx, "none", nil, sig, nil); err == nil {
		t.Error("a reply without valid was taken as a verdict")
	}

	mac, err := tr.HMAC(ctx, "h", "sha2-512", []byte("data"))
	if err != nil || mac != "vault:v1:aG1hYw==" {
		t.Fatalf("hmac = %q, %v", mac, err)
	}
	if ok, err := tr.VerifyHMAC(ctx, "h", "sha2-512", []byte("data"), mac); err != nil || !ok || f.last().Body["hmac"] != mac {
		t.Errorf("verify hmac = %v, %v; body %v", ok, err, f.last().Body)
	}

	dk, err := tr.GenerateDataKey(ctx, "k", 128, nil)
	if err != nil || string(dk.Plaintext) != "0123456789abcdef" || dk.Ciphertext != "vault:v1:ZGs=" || dk.KeyVersion != 1 {
		t.Fatalf("datakey = %v, %v", dk, err)
	}
	if f.last().Body["bits"] != 128.0 {
		t.Errorf("datakey body = %v", f.last().Body)
	}
	if strings.Contains(dk.String(), "0123456789abcdef") {
		t.Errorf("DataKey.String shows the key: %s", dk)
	}
	dk, err = tr.GenerateWrappedDataKey(ctx, "k", 0, nil)
	if err != nil || dk.Plaintext != nil || dk.Ciphertext == "" {
		t.Errorf("wrapped datakey = %v, %v", dk, err)
	}
	if _, err := tr.GenerateWrappedDataKey(ctx, "leaky", 0, nil); err == nil {
		t.Error("a wrapped data key reply carrying plaintext was accepted")
	}

	rnd, err := tr.Random(ctx, 16)
	if err != nil || len(rnd) != 16 || f.last().Body["bytes"] != 16.0 {
		t.Errorf("random = %x, %v; body %v", rnd, err, f.last().Body)
	}
	sum, err := tr.Hash(ctx, "sha3-256", []byte("x"))
	if err != nil || !reflect.DeepEqual(sum, []byte{1, 2, 3}) || f.last().Body["input"] != b64("x") {
		t.Errorf("hash = %x, %v", sum, err)
	}
}

func TestTransitSecretsDoNotPrint(t *testing.T) {
	for _, s := range []fmt.Stringer{
		TransitItem{Plaintext: []byte("topsecret")},
		TransitResult{Plaintext: []byte("topsecret")},
		&DataKey{Plaintext: []byte("topsecret")},
	} {
		if strings.Contains(s.String(), "topsecret") || strings.Contains(fmt.Sprintf("%v %+v", s, s), "topsecret") {
			t.Errorf("%T prints its plaintext: %v", s, s)
		}
	}
}

func TestCiphertextVersion(t *testing.T) {
	for in, want := range map[string]int{"vault:v1:abc": 1, "vault:v12:": 12} {
		if got, err := CiphertextVersion(in); err != nil || got != want {
			t.Errorf("CiphertextVersion(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "vault:v0:x", "vault:v-1:x", "vault:vx:y", "vault:v1", "v1:abc", "ward:v1:x", "vault:v+1:x", "vault:v01:x"} {
		if _, err := CiphertextVersion(in); err == nil {
			t.Errorf("CiphertextVersion(%q) succeeded", in)
		}
	}
}

func FuzzCiphertextVersion(f *testing.F) {
	for _, s := range []string{"vault:v1:abc", "vault:v99999999999999999999:x", "vault:v:", "vault:v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := CiphertextVersion(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with a version: %d", n)
			}
			return
		}
		if n <= 0 || !strings.HasPrefix(s, fmt.Sprintf("vault:v%d:", n)) {
			t.Fatalf("CiphertextVersion(%q) = %d", s, n)
		}
	})
}

// Encrypting a value for storage and reading it back; the key stays in
// the server.
func ExampleTransit() {
	ctx := context.Background()
	c, err := New(&Config{Address: "https://ward.example.com:8200", Token: os.Getenv("WARD_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	tr := c.Transit("transit")
	if err := tr.CreateKey(ctx, "orders", nil); err != nil { // aes256-gcm96
		log.Fatal(err)
	}
	ct, err := tr.Encrypt(ctx, "orders", []byte("card 4111 1111 1111 1111"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(ct, "vault:v1:")) // store ct, not the card number

	pt, err := tr.Decrypt(ctx, "orders", ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = pt

	// After a rotation, upgrade stored ciphertexts without decrypting them.
	if err := tr.RotateKey(ctx, "orders"); err != nil {
		log.Fatal(err)
	}
	ct, err = tr.Rewrap(ctx, "orders", ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	v, _ := CiphertextVersion(ct)
	fmt.Println("now under key version", v)
}
