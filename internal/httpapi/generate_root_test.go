package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/httpapi"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// sharedCore is an initialized, unsealed core with 5 shares, threshold 3,
// and its handler.
func sharedCore(t testing.TB) (*core.Core, http.Handler, *api.InitResponse) {
	t.Helper()
	c, err := core.New(core.Options{
		Physical: inmem.New(),
		Engines:  map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:   func(c *core.Core) engine.Backend { return sys.New(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	ctx := context.Background()
	init, err := c.Init(ctx, api.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range init.Keys[:3] {
		if _, err := c.Unseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	return c, httpapi.New(c, httpapi.Options{}), init
}

// serve sends one request without a token and returns status and body.
func serve(h http.Handler, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func decodeStatus(t testing.TB, body string) api.GenerateRootStatus {
	t.Helper()
	var st api.GenerateRootStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return st
}

func TestGenerateRootWire(t *testing.T) {
	c, h, init := sharedCore(t)
	const attempt, update = "/v1/sys/generate-root/attempt", "/v1/sys/generate-root/update"

	// Bare JSON with exactly Vault's fields, no token needed.
	code, body := serve(h, "GET", attempt, "")
	var fields map[string]any
	if err := json.Unmarshal([]byte(body), &fields); code != 200 || err != nil {
		t.Fatalf("GET attempt: %d %s", code, body)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"complete", "encoded_root_token", "encoded_token", "nonce", "otp", "otp_length", "pgp_fingerprint", "progress", "required", "started"}
	if !slices.Equal(keys, want) {
		t.Fatalf("GET attempt fields = %v, want %v", keys, want)
	}

	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", attempt, ""}, {"GET", update, ""}, {"DELETE", update, ""},
	} {
		if code, body := serve(h, tc.method, tc.path, tc.body); code != 405 {
			t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, code, body)
		}
	}
	if code, body := serve(h, "PUT", attempt, `{"pgp_key":"a2V5"}`); code != 400 || !strings.Contains(body, "pgp_key is not supported") {
		t.Fatalf("pgp: %d %s", code, body)
	}
	// Vault's client always sends both fields, empty when unused.
	code, body = serve(h, "PUT", attempt, `{"otp":"","pgp_key":""}`)
	st := decodeStatus(t, body)
	if code != 200 || !st.Started || len(st.OTP) != st.OTPLength || st.OTPLength != 43 {
		t.Fatalf("start: %d %s", code, body)
	}
	otp, nonce := st.OTP, st.Nonce
	if code, body := serve(h, "POST", attempt, ""); code != 400 || !strings.Contains(body, "already in progress") {
		t.Fatalf("second start: %d %s", code, body)
	}
	if code, body := serve(h, "PUT", update, `{"nonce":"`+nonce+`"}`); code != 400 || !strings.Contains(body, "'key' must be specified") {
		t.Fatalf("no key: %d %s", code, body)
	}
	if code, body := serve(h, "PUT", update, `{"key":"`+init.Keys[0]+`","nonce":"nope"}`); code != 400 || !strings.Contains(body, "incorrect nonce") || strings.Contains(body, init.Keys[0]) {
		t.Fatalf("wrong nonce: %d %s", code, body)
	}
	for i, k := range []string{init.Keys[0], init.KeysBase64[1], init.Keys[2]} {
		code, body = serve(h, "POST", update, `{"key":"`+k+`","nonce":"`+nonce+`"}`)
		if code != 200 {
			t.Fatalf("share %d: %d %s", i, code, body)
		}
	}
	st = decodeStatus(t, body)
	if !st.Complete || st.EncodedToken == "" || st.EncodedRootToken != st.EncodedToken {
		t.Fatalf("last share: %s", body)
	}
	tok := xorDecode(t, st.EncodedToken, otp)
	if _, err := c.Handle(context.Background(), &engine.Request{ID: "t", Operation: engine.OpRead, Path: "sys/mounts", ClientToken: tok}); err != nil {
		t.Fatalf("new root token: %v", err)
	}

	// DELETE is 204 with no body; then everything is 503 while sealed.
	if code, body := serve(h, "DELETE", attempt, ""); code != 204 || body != "" {
		t.Fatalf("cancel: %d %q", code, body)
	}
	c.Seal()
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if code, body := serve(h, m, attempt, ""); code != 503 || body != `{"errors":["Vault is sealed"]}` {
			t.Errorf("%s attempt while sealed: %d %s", m, code, body)
		}
	}
	if code, body := serve(h, "PUT", update, `{"key":"`+init.Keys[0]+`","nonce":"`+nonce+`"}`); code != 503 {
		t.Errorf("update while sealed: %d %s", code, body)
	}
}

// xorDecode reverses the encoding: unpadded base64, then XOR with the OTP.
func xorDecode(t testing.TB, encoded, otp string) string {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil || len(b) != len(otp) {
		t.Fatalf("encoded token %q: %v (%d bytes for a %d-byte otp)", encoded, err, len(b), len(otp))
	}
	for i := range b {
		b[i] ^= otp[i]
	}
	return string(b)
}

// FuzzGenerateRootUpdate sends arbitrary bodies to sys/generate-root/update
// on a live 3-of-5 server. In seeds, {{nonce}} stands for the current
// attempt's nonce and {{share0}}..{{share4}} ({{b64share0}}..) for real
// shares in hex (base64). The answer is always a 200 status or a 400
// error, never a 500 or a panic; an error never repeats the key; and a
// completed attempt yields a working root token.
func FuzzGenerateRootUpdate(f *testing.F) {
	for _, seed := range []string{
		`{"key":"{{share0}}","nonce":"{{nonce}}"}`,
		`{"key":"{{b64share1}}","nonce":"{{nonce}}"}`,
		`{"key":"{{share3}}","nonce":"{{nonce}}"}`,
		`{"key":"{{share0}}","nonce":"{{nonce}}"}`,
		`{"key":"{{share0}}","nonce":"not-the-nonce"}`,
		`{"key":"{{b64share2}}"}`,
		`{"key":"","nonce":"{{nonce}}"}`,
		`{"nonce":"{{nonce}}"}`,
		`{"key":12,"nonce":"{{nonce}}"}`,
		`{"key":["{{share1}}"],"nonce":"{{nonce}}"}`,
		`{"key":"zz-not-hex-or-base64","nonce":"{{nonce}}"}`,
		`{"key":"000000000000000000000000000000000000000000000000000000000000000000","nonce":"{{nonce}}"}`,
		`{"key":"{{share4}}00","nonce":"{{nonce}}"}`,
		`{"key":"{{share2}}","nonce":"{{nonce}}","extra":true}`,
		`{"key":"{{share2}}"`, `[]`, ``, `null`, `{"key":null,"nonce":null}`,
	} {
		f.Add(seed)
	}
	c, h, init := sharedCore(f)
	ctx := context.Background()
	otp := "" // of the attempt in progress
	f.Fuzz(func(t *testing.T, body string) {
		st, err := c.GenerateRootStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Started {
			if st, err = c.GenerateRootInit(ctx, api.GenerateRootInitRequest{}); err != nil {
				t.Fatal(err)
			}
			otp = st.OTP
		}
		repl := []string{"{{nonce}}", st.Nonce}
		for i := range init.Keys {
			repl = append(repl, "{{share"+string(rune('0'+i))+"}}", init.Keys[i], "{{b64share"+string(rune('0'+i))+"}}", init.KeysBase64[i])
		}
		body = strings.NewReplacer(repl...).Replace(body)

		code, out := serve(h, "PUT", "/v1/sys/generate-root/update", body)
		switch code {
		case 200:
			got := decodeStatus(t, out)
			if got.Complete {
				t.Log("completed")
				tok := xorDecode(t, got.EncodedToken, otp)
				if _, err := c.Handle(ctx, &engine.Request{ID: "f", Operation: engine.OpRead, Path: "sys/mounts", ClientToken: tok}); err != nil {
					t.Fatalf("completed with a token that does not work: %v", err)
				}
			}
		case 400:
			var eb api.ErrorBody
			if err := json.Unmarshal([]byte(out), &eb); err != nil || len(eb.Errors) != 1 {
				t.Fatalf("400 body %q is not one error", out)
			}
			var in struct{ Key, Nonce any }
			_ = json.Unmarshal([]byte(body), &in)
			key, _ := in.Key.(string)
			nonce, _ := in.Nonce.(string)
			if len(key) >= 16 && !strings.Contains(nonce, key) && strings.Contains(eb.Errors[0], key) {
				t.Fatalf("error repeats the key: %q", eb.Errors[0])
			}
		default:
			t.Fatalf("HTTP %d for %q: %s", code, body, out)
		}
	})
}
