package api

import "encoding/json"

// Header names Ward reads and writes. They keep Vault's names so that
// existing clients work unchanged.
const (
	HeaderToken      = "X-Vault-Token"
	HeaderWrapTTL    = "X-Vault-Wrap-TTL"
	HeaderWrapFormat = "X-Vault-Wrap-Format"
	HeaderRequest    = "X-Vault-Request"
	HeaderNamespace  = "X-Vault-Namespace"
)

// Secret is the envelope of every logical response: /v1/<path> answers that
// are not one of the bare sys endpoints.
//
// Numbers are integers on the wire (lease_duration 3600, never 3600.0), data
// is an object or null, and a wrapped response carries only WrapInfo.
type Secret struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int64          `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      *WrapInfo      `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          *Auth          `json:"auth"`
	MountType     string         `json:"mount_type,omitempty"`
}

// Auth is the "auth" block of a login or token-creation response.
type Auth struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies,omitempty"`
	IdentityPolicies []string          `json:"identity_policies,omitempty"`
	Metadata         map[string]string `json:"metadata"`
	LeaseDuration    int64             `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	EntityID         string            `json:"entity_id"`
	TokenType        string            `json:"token_type"`
	Orphan           bool              `json:"orphan"`
	MFARequirement   json.RawMessage   `json:"mfa_requirement"`
	NumUses          int               `json:"num_uses"`
}

// WrapInfo describes a response-wrapping token. CreationTime is RFC 3339
// with nanoseconds; WrappedAccessor is set only when the wrapped response
// carried a token.
type WrapInfo struct {
	Token           string `json:"token"`
	Accessor        string `json:"accessor"`
	TTL             int64  `json:"ttl"`
	CreationTime    string `json:"creation_time"`
	CreationPath    string `json:"creation_path"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

// ErrorBody is the body of every error response: {"errors": [...]}. Errors
// is never null on the wire; a plain not-found answer has an empty list.
type ErrorBody struct {
	Errors []string `json:"errors"`
}
