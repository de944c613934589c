package transit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// FuzzParseCiphertext checks the ciphertext parser and the decryptor
// behind it: nothing panics, an error means no output, an accepted
// ciphertext re-encodes to itself (there is one spelling of each), and
// only the genuine ciphertext decrypts.
func FuzzParseCiphertext(f *testing.F) {
	h := newHarness(f)
	h.ok(update, "keys/k", "")
	h.ok(update, "keys/k/rotate", "")
	r, _ := h.b.(*backend).keys.get(context.Background(), "k")
	// genuine maps each ciphertext the engine made (canonical form) to its plaintext.
	genuine := map[string]string{}
	for _, c := range []struct{ pt, extra string }{{"fuzz me", ""}, {"", ""}, {"v1", `,"key_version":1`}} {
		genuine[h.encrypt("k", c.pt, c.extra)] = c.pt
	}
	var seeds []string
	for ct := range genuine {
		seeds = append(seeds, ct, strings.Replace(ct, "vault:v", "vault:v1", 1), ct[:len(ct)-4], ct[:12]+"\n"+ct[12:], ct+"\r\n")
	}
	for _, s := range append(seeds,
		"vault:v1:AAAA", "vault:v1:", "vault:v:AAAA", "vault:v0:AAAA", "vault:v01:AAAA", "vault:v-1:AAAA",
		"vault:v999999999:AAAA", "vault:v9999999999:AAAA", "vault:v1:AA==\n", "vault:v1:!!", "vault:v1:AAAA:BBBB",
		"vault:1:AAAA", "v1:AAAA", "", "vault:v1:"+strings.Repeat("A", 4000),
	) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, raw, err := parseCiphertext(s)
		if err != nil {
			if n != 0 || raw != nil || !errors.Is(err, engine.ErrInvalidRequest) {
				t.Fatalf("parse %q: error %v with output %d %x", s, err, n, raw)
			}
		} else {
			if n < 1 || len(raw) == 0 {
				t.Fatalf("parse %q = %d %x", s, n, raw)
			}
			again := formatCiphertext(n, raw)
			if again != s {
				t.Fatalf("parse %q re-encodes to %q", s, again)
			}
			if n2, raw2, err := parseCiphertext(again); err != nil || n2 != n || !bytes.Equal(raw2, raw) {
				t.Fatalf("round trip of %q: %d %x %v", again, n2, raw2, err)
			}
		}
		pt, v, err := r.decrypt(s, &cipherInput{})
		if err != nil {
			if pt != nil || v != 0 {
				t.Fatalf("decrypt %q: error %v with output", s, err)
			}
			if !errors.Is(err, engine.ErrInvalidRequest) || strings.Contains(err.Error(), s) && len(s) > 8 {
				t.Fatalf("decrypt %q: error %q", s, err)
			}
			return
		}
		want, ok := genuine[formatCiphertext(n, raw)]
		if !ok {
			t.Fatalf("decrypted a ciphertext the engine never made: %q", s)
		}
		if string(pt) != want || v != n {
			t.Fatalf("decrypt %q = %q v%d, want %q v%d", s, pt, v, want, n)
		}
	})
}

// FuzzEncryptRequest sends arbitrary JSON bodies to encrypt: nothing
// panics, every failure is a 400, and every single-item success decrypts
// back to the plaintext it was given.
func FuzzEncryptRequest(f *testing.F) {
	h := newHarness(f)
	h.ok(update, "keys/aes", "")
	h.ok(update, "keys/conv", `{"derived":true,"convergent_encryption":true}`)
	h.ok(update, "keys/rsa", `{"type":"rsa-2048"}`)
	keys := []string{"aes", "conv", "rsa", "new"}
	for _, s := range []string{
		`{"plaintext":"aGVsbG8="}`,
		`{"plaintext":""}`,
		`{"plaintext":"aGVsbG8=","context":"Y3R4"}`,
		`{"plaintext":"aGVsbG8=","context":"Y3R4","associated_data":"YWFk"}`,
		`{"plaintext":"aGVsbG8=","key_version":1}`,
		`{"plaintext":"aGVsbG8=","key_version":"2"}`,
		`{"plaintext":"aGVsbG8=","padding_scheme":"pkcs1v15"}`,
		`{"plaintext":"aGVsbG8=","nonce":"AAAAAAAAAAAAAAAA"}`,
		`{"plaintext":"not base64"}`,
		`{"plaintext":12}`,
		`{"plaintext":["a"]}`,
		`{"plaintext":"aGVsbG8=","type":"ed25519"}`,
		`{"plaintext":"aGVsbG8=","type":"chacha20-poly1305","convergent_encryption":true,"context":"Y3R4"}`,
		`{"batch_input":[{"plaintext":"aGVsbG8=","reference":"a"},{"plaintext":"!"},7]}`,
		`{"batch_input":"[{\"plaintext\":\"aGVsbG8=\"}]","partial_failure_response_code":207}`,
		`{"batch_input":[]}`,
		`{"batch_input":{}}`,
		`{}`,
	} {
		for i := range keys {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, js string, which uint8) {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.UseNumber()
		var data map[string]any
		if dec.Decode(&data) != nil {
			return
		}
		key := keys[int(which)%len(keys)]
		op := update
		if key == "new" {
			op = create
		}
		resp, err := h.req(op, "encrypt/"+key, data)
		if err != nil {
			if resp != nil || !errors.Is(err, engine.ErrInvalidRequest) {
				t.Fatalf("encrypt %s %s: %v (response %v), want a 400", key, js, err, resp)
			}
			return
		}
		ct, ok := resp.Data["ciphertext"].(string)
		if !ok {
			if _, batch := resp.Data["batch_results"]; !batch {
				t.Fatalf("encrypt %s %s: no ciphertext in %v", key, js, resp.Data)
			}
			return
		}
		in, _, _ := engine.Decode[encryptItem](data)
		want, _ := base64.StdEncoding.DecodeString(*in.Plaintext)
		back, err := h.req(update, "decrypt/"+key, map[string]any{
			"ciphertext": ct, "context": data["context"], "associated_data": data["associated_data"],
			"padding_scheme": data["padding_scheme"],
		})
		if err != nil {
			t.Fatalf("decrypt what %s %s gave: %v", key, js, err)
		}
		if got, _ := base64.StdEncoding.DecodeString(back.Data["plaintext"].(string)); !bytes.Equal(got, want) {
			t.Fatalf("round trip of %s %s = %x, want %x", key, js, got, want)
		}
	})
}
