package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wardsec/ward/api"
)

// Generating a root token takes three steps, all without a token:
//
//  1. GenerateRootInit starts an attempt and returns its nonce and, once,
//     a one-time password (OTP). Keep the OTP.
//  2. Each key holder calls GenerateRootUpdate with one share and the
//     nonce, until the threshold is reached; the last answer has Complete
//     set and the new token, XORed with the OTP, in EncodedToken.
//  3. DecodeRootToken(EncodedToken, OTP) gives the token.

// GenerateRootStatus reads sys/generate-root/attempt: whether an attempt
// is in progress, its nonce and progress, and the OTP length the server
// expects. The server must be unsealed.
func (s *Sys) GenerateRootStatus(ctx context.Context) (*api.GenerateRootStatus, error) {
	var st api.GenerateRootStatus
	if err := s.c.doJSON(ctx, &request{method: http.MethodGet, path: "sys/generate-root/attempt"}, &st); err != nil {
		return nil, fmt.Errorf("generate root status: %w", err)
	}
	return &st, nil
}

// GenerateRootInit starts an attempt to generate a root token. With otp
// empty the server generates the one-time password and returns it in the
// status's OTP, once; a chosen otp (see GenerateOTP) must be OTPLength
// base62 characters. Only one attempt runs at a time: starting a second
// fails with a 400.
func (s *Sys) GenerateRootInit(ctx context.Context, otp string) (*api.GenerateRootStatus, error) {
	var st api.GenerateRootStatus
	body := &api.GenerateRootInitRequest{OTP: otp}
	if err := s.c.doJSON(ctx, &request{method: http.MethodPut, path: "sys/generate-root/attempt", body: body}, &st); err != nil {
		return nil, fmt.Errorf("generate root init: %w", err)
	}
	return &st, nil
}

// GenerateRootUpdate submits one key share (hex or base64) to the attempt
// named by nonce. Once the threshold is reached the answer has Complete
// set and EncodedToken holds the new root token XORed with the OTP (see
// DecodeRootToken). A wrong nonce, a share given twice and shares that do
// not combine to the server's key are 400s; the last also resets the
// progress.
func (s *Sys) GenerateRootUpdate(ctx context.Context, key, nonce string) (*api.GenerateRootStatus, error) {
	var st api.GenerateRootStatus
	body := &api.GenerateRootUpdateRequest{Key: key, Nonce: nonce}
	if err := s.c.doJSON(ctx, &request{method: http.MethodPut, path: "sys/generate-root/update", body: body}, &st); err != nil {
		return nil, fmt.Errorf("generate root update: %w", err)
	}
	return &st, nil
}

// GenerateRootCancel ends the attempt in progress, if any, and discards
// the shares given to it.
func (s *Sys) GenerateRootCancel(ctx context.Context) error {
	if _, err := s.c.doOK(ctx, &request{method: http.MethodDelete, path: "sys/generate-root/attempt"}); err != nil {
		return fmt.Errorf("generate root cancel: %w", err)
	}
	return nil
}

// DecodeRootToken recovers the root token from the encoded_token of a
// completed attempt and the attempt's OTP: it base64-decodes encoded
// (unpadded, as Vault and Ward send it, or padded) and XORs it with the
// OTP's bytes. An OTP of the wrong length, or a result that is not a
// printable token (the usual sign of the wrong OTP), is an error that
// repeats neither value.
func DecodeRootToken(encoded, otp string) (string, error) {
	encoded = strings.TrimRight(strings.TrimSpace(encoded), "=")
	otp = strings.TrimSpace(otp)
	if encoded == "" {
		return "", errors.New("decode root token: the encoded token is empty")
	}
	if otp == "" {
		return "", errors.New("decode root token: the OTP is empty")
	}
	b, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		return "", errors.New("decode root token: the encoded token is not base64")
	}
	defer clear(b)
	if len(b) != len(otp) {
		return "", fmt.Errorf("decode root token: the OTP has %d characters but the encoded token holds %d bytes; use the OTP of the attempt that produced it", len(otp), len(b))
	}
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ otp[i]
		if out[i] <= ' ' || out[i] > '~' {
			clear(out)
			return "", errors.New("decode root token: the result is not a token; is this the OTP of the attempt that produced it?")
		}
	}
	return string(out), nil
}

// otpChars is the alphabet of one-time passwords: base62.
const otpChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// GenerateOTP returns length random base62 characters from crypto/rand:
// an OTP for GenerateRootInit when the caller wants to choose it. length
// must be the server's OTPLength (see GenerateRootStatus).
func GenerateOTP(length int) (string, error) {
	if length <= 0 {
		return "", fmt.Errorf("generate otp: length %d must be positive", length)
	}
	out := make([]byte, 0, length)
	var buf [64]byte
	for len(out) < length {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("generate otp: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps the characters
			// uniform.
			if b < 248 && len(out) < length {
				out = append(out, otpChars[b%62])
			}
		}
	}
	return string(out), nil
}
