package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The harness drives nodes with plain HTTP rather than a Vault client, so
// that every status code is visible and a node in any state (sealed,
// uninitialized, standby) can be asked about itself.

// requestTimeout bounds one harness request; a node that takes longer to
// answer its own status is as good as down.
const requestTimeout = 5 * time.Second

// pollStep is the pause between two polls of a bounded wait.
const pollStep = 20 * time.Millisecond

var harnessHTTP = &http.Client{
	Timeout: requestTimeout,
	Transport: &http.Transport{
		Proxy:             nil, // never route 127.0.0.x through an environment proxy
		DisableKeepAlives: true,
	},
	// A standby may answer with a redirect to the active node; the
	// harness wants the node's own answer.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// apiResponse is one answer, read in full.
type apiResponse struct {
	status int
	body   []byte
}

// call sends one request to base+"/v1/"+path. body is nil or marshalled
// as JSON; token, if set, goes in X-Vault-Token. A transport error is
// returned as is; any HTTP status is a successful call.
func call(ctx context.Context, base, method, path, token string, body any) (apiResponse, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return apiResponse{}, fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+"/v1/"+path, rd)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := harnessHTTP.Do(req)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return apiResponse{status: resp.StatusCode, body: raw}, nil
}

// decode unmarshals a 200 answer into v, or returns an error naming the
// status and body.
func (r apiResponse) decode(what string, v any) error {
	if r.status != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", what, r.status, bytes.TrimSpace(r.body))
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%s: decode %q: %w", what, r.body, err)
	}
	return nil
}

// initResponse is the part of sys/init's answer the harness keeps.
type initResponse struct {
	KeysB64         []string `json:"keys_base64"`
	RecoveryKeysB64 []string `json:"recovery_keys_base64"`
	RootToken       string   `json:"root_token"`
}

// sealStatus is the part of sys/seal-status the harness reads.
type sealStatus struct {
	Type        string `json:"type"`
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	T           int    `json:"t"`
	Progress    int    `json:"progress"`
}

// Leader is a node's answer to GET sys/leader.
type Leader struct {
	HAEnabled            bool   `json:"ha_enabled"`
	IsSelf               bool   `json:"is_self"`
	LeaderAddress        string `json:"leader_address"`
	LeaderClusterAddress string `json:"leader_cluster_address"`
}
