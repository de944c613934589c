package audit

import "fmt"

// Entry is one audit record in the shape of Vault's audit entries, so
// that log tooling written for Vault parses Ward's. Core fills it with
// plain values; the Broker HMACs the secret ones per device before
// writing. Seq and PrevHash are Ward's hash chain: the device's sequence
// number and the SHA-256 of the device's previous line (hex), set by the
// Broker; they must stay the last fields (the Broker stamps them into an
// already encoded line).
//
// Entry holds secrets in the clear until the Broker HMACs them; its
// String method (and those of Auth, Request, Response and WrapInfo) prints
// no token, accessor or data.
type Entry struct {
	Time     string    `json:"time"` // RFC 3339 with nanoseconds, UTC
	Type     string    `json:"type"` // "request" or "response"
	Auth     *Auth     `json:"auth,omitempty"`
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
	Error    string    `json:"error,omitempty"`

	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prev_hash"`
}

// Entry types.
const (
	TypeRequest  = "request"
	TypeResponse = "response"
)

// Auth describes the caller's token. ClientToken and Accessor are HMAC'd
// (Accessor only with hmac_accessor, the default).
type Auth struct {
	ClientToken    string            `json:"client_token,omitempty"`
	Accessor       string            `json:"accessor,omitempty"`
	DisplayName    string            `json:"display_name,omitempty"`
	Policies       []string          `json:"policies,omitempty"`
	TokenPolicies  []string          `json:"token_policies,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	EntityID       string            `json:"entity_id,omitempty"`
	TokenType      string            `json:"token_type,omitempty"`
	TokenTTL       int64             `json:"token_ttl,omitempty"`
	TokenIssueTime string            `json:"token_issue_time,omitempty"`
}

// Namespace is always the root namespace in Ward.
type Namespace struct {
	ID string `json:"id"`
}

// Request describes the request. Data values are HMAC'd.
type Request struct {
	ID                  string         `json:"id"`
	Operation           string         `json:"operation"`
	MountPoint          string         `json:"mount_point,omitempty"`
	MountType           string         `json:"mount_type,omitempty"`
	MountAccessor       string         `json:"mount_accessor,omitempty"`
	ClientToken         string         `json:"client_token,omitempty"`
	ClientTokenAccessor string         `json:"client_token_accessor,omitempty"`
	Namespace           Namespace      `json:"namespace"`
	Path                string         `json:"path"`
	Data                map[string]any `json:"data,omitempty"`
	RemoteAddress       string         `json:"remote_address,omitempty"`
	RemotePort          int            `json:"remote_port,omitempty"`
	WrapTTL             int64          `json:"wrap_ttl,omitempty"`
}

// Response describes the answer. Data values, the auth block's token and
// accessor, and the wrap info's token and accessor are HMAC'd.
type Response struct {
	MountPoint    string         `json:"mount_point,omitempty"`
	MountType     string         `json:"mount_type,omitempty"`
	MountAccessor string         `json:"mount_accessor,omitempty"`
	Auth          *Auth          `json:"auth,omitempty"`
	Data          map[string]any `json:"data,omitempty"`
	WrapInfo      *WrapInfo      `json:"wrap_info,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
	StatusCode    int            `json:"status_code,omitempty"`
}

// WrapInfo describes a response-wrapping token that replaced the response.
type WrapInfo struct {
	TTL             int64  `json:"ttl"`
	Token           string `json:"token"`
	Accessor        string `json:"accessor"`
	CreationTime    string `json:"creation_time"`
	CreationPath    string `json:"creation_path"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

// String describes the entry without any secret.
func (e Entry) String() string {
	s := fmt.Sprintf("audit.Entry{type=%s seq=%d", e.Type, e.Seq)
	if e.Request != nil {
		s += fmt.Sprintf(" request=%s op=%s path=%q", e.Request.ID, e.Request.Operation, e.Request.Path)
	}
	return s + "}"
}

// String describes the caller without its token or accessor.
func (a Auth) String() string {
	return fmt.Sprintf("audit.Auth{display_name=%q policies=%v token=<redacted>}", a.DisplayName, a.Policies)
}

// String describes the request without its token or data.
func (r Request) String() string {
	return fmt.Sprintf("audit.Request{id=%s op=%s path=%q data=<redacted>}", r.ID, r.Operation, r.Path)
}

// String describes the response without its data.
func (r Response) String() string {
	return fmt.Sprintf("audit.Response{status=%d data=<redacted>}", r.StatusCode)
}

// String describes the wrapping without its token.
func (w WrapInfo) String() string {
	return fmt.Sprintf("audit.WrapInfo{path=%q ttl=%d token=<redacted>}", w.CreationPath, w.TTL)
}
