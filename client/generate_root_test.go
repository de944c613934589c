package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestGenerateRoot(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("GET", "/v1/sys/generate-root/attempt", 200, `{"started":true,"nonce":"n-1","progress":1,"required":3,"otp_length":43,"complete":false}`)
	f.on("PUT", "/v1/sys/generate-root/attempt", 200, `{"started":true,"nonce":"n-1","required":3,"otp":"abc","otp_length":43}`)
	f.on("DELETE", "/v1/sys/generate-root/attempt", 204, "")
	f.on("PUT", "/v1/sys/generate-root/update", 200, `{"started":true,"nonce":"n-1","progress":3,"required":3,"complete":true,"encoded_token":"ZW5j","encoded_root_token":"ZW5j"}`)
	sys := f.client(t, "").Sys()

	st, err := sys.GenerateRootStatus(ctx)
	if err != nil || !st.Started || st.Nonce != "n-1" || st.Progress != 1 || st.Required != 3 || st.OTPLength != 43 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	st, err = sys.GenerateRootInit(ctx, "")
	if err != nil || st.OTP != "abc" {
		t.Fatalf("init = %+v, %v", st, err)
	}
	if b := f.last().Body; len(b) != 0 {
		t.Errorf("init without otp sent %v, want {}", b)
	}
	if _, err := sys.GenerateRootInit(ctx, "my-otp"); err != nil || f.last().Body["otp"] != "my-otp" {
		t.Errorf("init with otp: %v, body %v", err, f.last().Body)
	}
	st, err = sys.GenerateRootUpdate(ctx, "c2hhcmU=", "n-1")
	if err != nil || !st.Complete || st.EncodedToken != "ZW5j" {
		t.Fatalf("update = %+v, %v", st, err)
	}
	if b := f.last().Body; b["key"] != "c2hhcmU=" || b["nonce"] != "n-1" {
		t.Errorf("update body = %v", b)
	}
	if err := sys.GenerateRootCancel(ctx); err != nil || f.last().Method != "DELETE" {
		t.Errorf("cancel: %v (%s)", err, f.last().Method)
	}
	// The status prints without the OTP or encoded token.
	if s := fmt.Sprint(st); strings.Contains(s, "ZW5j") || !strings.Contains(s, "<redacted>") {
		t.Errorf("status prints as %s", s)
	}
}

func TestGenerateRootErrors(t *testing.T) {
	f := newFake(t)
	f.on("PUT", "/v1/sys/generate-root/update", 400, `{"errors":["generate root: incorrect nonce"]}`)
	f.on("GET", "/v1/sys/generate-root/attempt", 503, `{"errors":["Vault is sealed"]}`)
	sys := f.client(t, "").Sys()
	_, err := sys.GenerateRootUpdate(context.Background(), "k", "wrong")
	if StatusCode(err) != 400 || !strings.HasPrefix(err.Error(), "generate root update: ") {
		t.Errorf("update err = %v", err)
	}
	var re *ResponseError
	if _, err := sys.GenerateRootStatus(context.Background()); !errors.As(err, &re) || !re.Sealed() {
		t.Errorf("status err = %v, want sealed", err)
	}
}

func TestDecodeRootToken(t *testing.T) {
	const tok = "ws.Y2i3RkkRZ0FuE1bcpdBQnRQd2VFMxq8sYxwhKw7T"
	otp, err := GenerateOTP(len(tok))
	if err != nil {
		t.Fatal(err)
	}
	enc := make([]byte, len(tok))
	for i := range enc {
		enc[i] = tok[i] ^ otp[i]
	}
	raw := base64.RawStdEncoding.EncodeToString(enc)
	padded := base64.StdEncoding.EncodeToString(enc)
	for _, in := range []string{raw, padded, " " + raw + "\n"} {
		got, err := DecodeRootToken(in, otp)
		if err != nil || got != tok {
			t.Errorf("DecodeRootToken(%q) = %q, %v", in, got, err)
		}
	}

	other, _ := GenerateOTP(len(tok))
	for _, tc := range []struct{ name, encoded, otp, want string }{
		{"wrong otp", raw, other, "not a token"},
		{"short otp", raw, otp[:20], "20 characters"},
		{"not base64", "!!" + raw, otp, "not base64"},
		{"empty", "", otp, "empty"},
		{"no otp", raw, "", "OTP is empty"},
	} {
		got, err := DecodeRootToken(tc.encoded, tc.otp)
		if err == nil || got != "" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error containing %q", tc.name, got, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), otp) || (tc.otp != "" && strings.Contains(err.Error(), tc.otp)) {
			t.Errorf("%s: the error repeats the otp: %v", tc.name, err)
		}
	}
}

func TestGenerateOTP(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		otp, err := GenerateOTP(43)
		if err != nil || len(otp) != 43 || strings.Trim(otp, otpChars) != "" || seen[otp] {
			t.Fatalf("GenerateOTP = %q, %v", otp, err)
		}
		seen[otp] = true
	}
	if _, err := GenerateOTP(0); err == nil {
		t.Error("length 0: no error")
	}
}

func ExampleDecodeRootToken() {
	// encoded is the encoded_token of the update answer that completed
	// the attempt; otp is what GenerateRootInit returned when it started.
	encoded := "OAZpFGovWzoxWzArYAxED1sPFz0BAWkgBiYGehVzCQ06CEQ1NEcQExxmYg"
	otp := "OuGMXFhhZ0bqPJ1JjmtMeC8NTwbHC5DuK07lL0xXkQ6"
	tok, err := DecodeRootToken(encoded, otp)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok)
	// Output: ws.Y2i3RkkRZ0FuE1bcpdBQnRQd2VFMxq8sYxwhKw7T
}
