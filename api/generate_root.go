package api

import "fmt"

// GenerateRootStatus is the bare answer of sys/generate-root/attempt (GET,
// PUT, POST) and sys/generate-root/update.
//
// OTP is set only in the answer that started the attempt: it is the
// one-time password the new root token will be XORed with, shown once.
// EncodedToken (and EncodedRootToken, the same value for older clients) is
// set only in the update answer that completes the attempt: the new root
// token's bytes XORed with the OTP's bytes, in unpadded standard base64.
// Ward has no PGP, so PGPFingerprint is always empty.
type GenerateRootStatus struct {
	Started          bool   `json:"started"`
	Nonce            string `json:"nonce"`
	Progress         int    `json:"progress"`
	Required         int    `json:"required"`
	EncodedToken     string `json:"encoded_token"`
	EncodedRootToken string `json:"encoded_root_token"`
	PGPFingerprint   string `json:"pgp_fingerprint"`
	OTP              string `json:"otp"`
	OTPLength        int    `json:"otp_length"`
	Complete         bool   `json:"complete"`
}

// String shows the status with the OTP and the encoded token redacted:
// together they are the new root token.
func (s GenerateRootStatus) String() string {
	return fmt.Sprintf("{started:%t nonce:%s progress:%d/%d complete:%t otp:%s encoded_token:%s}",
		s.Started, s.Nonce, s.Progress, s.Required, s.Complete, redact(s.OTP), redact(s.EncodedToken))
}

// GenerateRootInitRequest is the body of PUT /v1/sys/generate-root/attempt.
// Both fields are optional: without OTP the server generates one and
// returns it. A given OTP must be as long as a root token (the
// otp_length of the status). PGPKey is refused: Ward has no PGP.
type GenerateRootInitRequest struct {
	OTP    string `json:"otp,omitempty"`
	PGPKey string `json:"pgp_key,omitempty"`
}

// String shows the request with the OTP redacted.
func (r GenerateRootInitRequest) String() string {
	return fmt.Sprintf("{otp:%s pgp_key:%t}", redact(r.OTP), r.PGPKey != "")
}

// GenerateRootUpdateRequest is the body of PUT /v1/sys/generate-root/update:
// one key share (hex or standard base64) and the nonce of the attempt it
// is meant for.
type GenerateRootUpdateRequest struct {
	Key   string `json:"key"`
	Nonce string `json:"nonce"`
}

// String shows the request with the key share redacted.
func (r GenerateRootUpdateRequest) String() string {
	return fmt.Sprintf("{key:%s nonce:%s}", redact(r.Key), r.Nonce)
}

// redact stands in for a secret value in String methods.
func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "<redacted>"
}
