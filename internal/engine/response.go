package engine

import (
	"time"

	"github.com/wardsec/ward/api"
)

// Response is an engine's answer. Core adds wrapping and leases; httpapi
// encodes it as the Vault envelope.
type Response struct {
	// Data is the response's "data" object.
	Data map[string]any
	// Auth is set by responses that issue a token (token create); core
	// sets it for logins from Login.
	Auth *api.Auth
	// Login is set by auth methods on a successful login; core turns it
	// into a token and an Auth block and clears it.
	Login *Login
	// LeaseID, LeaseDuration and Renewable fill the envelope's lease fields.
	LeaseID       string
	LeaseDuration time.Duration
	Renewable     bool
	Warnings      []string
	// Status overrides the HTTP status of a successful envelope (KV v2
	// answers 404 with a full body for a deleted version). Zero means 200.
	Status int
	// Raw, when set, is written as the whole HTTP answer with no envelope.
	Raw *Raw
	// WrapInfo is set by core when the response was wrapped; Data and Auth
	// are then empty.
	WrapInfo *api.WrapInfo
	// MountType is the type of the engine that answered.
	MountType string
}

// Raw is an HTTP answer an engine writes verbatim.
type Raw struct {
	Status      int
	ContentType string
	Body        []byte
}

// Secret returns the Vault envelope for r.
func (r *Response) Secret(requestID string) *api.Secret {
	s := &api.Secret{
		RequestID:     requestID,
		LeaseID:       r.LeaseID,
		Renewable:     r.Renewable,
		LeaseDuration: int64(r.LeaseDuration / time.Second),
		Data:          r.Data,
		WrapInfo:      r.WrapInfo,
		Auth:          r.Auth,
		MountType:     r.MountType,
	}
	if len(r.Warnings) > 0 {
		s.Warnings = r.Warnings
	}
	return s
}

// DataResponse is a convenience for the common answer with data only.
func DataResponse(data map[string]any) *Response { return &Response{Data: data} }

// ListResponse answers a list with keys, as {"keys": [...]}. An empty list
// is no answer at all (nil), which core turns into a 404, as Vault does.
func ListResponse(keys []string) *Response {
	if len(keys) == 0 {
		return nil
	}
	return &Response{Data: map[string]any{"keys": keys}}
}
