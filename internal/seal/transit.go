package seal

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TypeTransit is the Config.Type of the transit auto-unseal seal.
const TypeTransit = "transit"

// ErrUnavailable is returned (wrapped) when the seal's key source cannot
// be reached or cannot answer now: a network error, a sealed or
// overloaded remote server. Retrying later may succeed.
var ErrUnavailable = errors.New("seal: key source unavailable")

// TransitOptions configures a transit seal: the root key is encrypted by
// key KeyName of the transit engine mounted at MountPath on the server at
// Address, which must be a Ward (or Vault) server.
type TransitOptions struct {
	Address   string // "https://central.example.com:8200"
	Token     string // a token allowed to update <mount>/encrypt/<key> and <mount>/decrypt/<key>
	MountPath string // default "transit/"
	KeyName   string
	Namespace string // sent as X-Vault-Namespace when set
	// TLS is the client TLS configuration (CA, client certificate, server
	// name); nil uses the system roots.
	TLS *tls.Config
	// Timeout bounds each call to the remote server (default 10s).
	Timeout time.Duration
}

// Transit is the transit auto-unseal seal. It keeps no key material: every
// Wrap and Unwrap is a call to the remote server.
type Transit struct {
	addr    string // Address without a trailing slash
	prefix  string // "<mount>/" with the mount's slashes trimmed
	key     string
	token   string
	ns      string
	client  *http.Client
	timeout time.Duration
}

// NewTransit checks o and returns the seal. It does not contact the remote
// server.
func NewTransit(o TransitOptions) (*Transit, error) {
	switch {
	case o.Address == "":
		return nil, errors.New("seal: transit: address is required")
	case o.Token == "":
		return nil, errors.New("seal: transit: token is required")
	case o.KeyName == "" || strings.ContainsAny(o.KeyName, "/?#"):
		return nil, errors.New("seal: transit: key_name is required and must not contain '/', '?' or '#'")
	}
	u, err := url.Parse(o.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("seal: transit: address %q must be an http or https URL", o.Address)
	}
	mount := strings.Trim(o.MountPath, "/")
	if mount == "" {
		mount = "transit"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = o.TLS
	return &Transit{
		addr:    strings.TrimRight(o.Address, "/"),
		prefix:  mount + "/",
		key:     url.PathEscape(o.KeyName),
		token:   o.Token,
		ns:      o.Namespace,
		client:  &http.Client{Transport: tr},
		timeout: o.Timeout,
	}, nil
}

// Type implements Seal.
func (t *Transit) Type() string { return TypeTransit }

// String names the remote key and hides the token.
func (t *Transit) String() string {
	return fmt.Sprintf("transit seal{%s/v1/%skeys/%s, token: [REDACTED]}", t.addr, t.prefix, t.key)
}

// Wrap encrypts rootKey with the remote transit key. The blob is the
// transit ciphertext ("vault:v1:...").
func (t *Transit) Wrap(ctx context.Context, rootKey []byte) ([]byte, error) {
	var out struct {
		Data struct {
			Ciphertext string `json:"ciphertext"`
		} `json:"data"`
	}
	in := map[string]string{"plaintext": base64.StdEncoding.EncodeToString(rootKey)}
	if err := t.call(ctx, http.MethodPost, t.prefix+"encrypt/"+t.key, in, &out); err != nil {
		return nil, fmt.Errorf("seal: transit wrap: %w", err)
	}
	if !strings.HasPrefix(out.Data.Ciphertext, "vault:v") {
		return nil, errors.New("seal: transit wrap: the remote server answered without a ciphertext")
	}
	return []byte(out.Data.Ciphertext), nil
}

// Unwrap decrypts a blob made by Wrap. A ciphertext the remote key does not
// open is ErrBadKey; an unreachable remote is ErrUnavailable.
func (t *Transit) Unwrap(ctx context.Context, blob []byte) ([]byte, error) {
	var out struct {
		Data struct {
			Plaintext string `json:"plaintext"`
		} `json:"data"`
	}
	in := map[string]string{"ciphertext": string(blob)}
	err := t.call(ctx, http.MethodPost, t.prefix+"decrypt/"+t.key, in, &out)
	var re *remoteError
	if errors.As(err, &re) && re.status == http.StatusBadRequest {
		return nil, fmt.Errorf("seal: transit unwrap: %w (%v)", ErrBadKey, err)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: transit unwrap: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(out.Data.Plaintext)
	if err != nil || len(key) != KeySize {
		clear(key)
		return nil, fmt.Errorf("seal: transit unwrap: %w (the plaintext is not a %d-byte key)", ErrBadKey, KeySize)
	}
	return key, nil
}

// KeepTokenAlive renews the seal's token until ctx ends, at half of its
// remaining TTL each time, as long as the token is renewable and expires
// at all. Failures are logged and retried; they never stop the server,
// which needs the token only to unseal.
func (t *Transit) KeepTokenAlive(ctx context.Context, log *slog.Logger) {
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		ttl, renewable, err := t.renewSelf(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("seal: transit: could not renew the seal token; retrying", "error", err)
			wait = 30 * time.Second
		case ttl == 0:
			return // the token never expires
		case !renewable:
			log.Warn("seal: transit: the seal token is not renewable; it expires", "ttl", ttl.String())
			return
		default:
			wait = max(ttl/2, time.Second)
		}
	}
}

// renewSelf looks the token up and renews it when it expires.
func (t *Transit) renewSelf(ctx context.Context) (ttl time.Duration, renewable bool, err error) {
	var look struct {
		Data struct {
			TTL       int64 `json:"ttl"`
			Renewable bool  `json:"renewable"`
		} `json:"data"`
	}
	if err := t.call(ctx, http.MethodGet, "auth/token/lookup-self", nil, &look); err != nil {
		return 0, false, err
	}
	if look.Data.TTL == 0 || !look.Data.Renewable {
		return time.Duration(look.Data.TTL) * time.Second, look.Data.Renewable, nil
	}
	var renew struct {
		Auth struct {
			LeaseDuration int64 `json:"lease_duration"`
			Renewable     bool  `json:"renewable"`
		} `json:"auth"`
	}
	if err := t.call(ctx, http.MethodPost, "auth/token/renew-self", map[string]string{}, &renew); err != nil {
		return 0, false, err
	}
	return time.Duration(renew.Auth.LeaseDuration) * time.Second, renew.Auth.Renewable, nil
}

// remoteError is an error answer from the remote server. Its messages are
// the remote's error strings, which never hold key material.
type remoteError struct {
	status int
	msgs   []string
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("remote server answered %d: %s", e.status, strings.Join(e.msgs, "; "))
}

// call sends one request to path (below /v1/) and decodes the answer's
// JSON into out.
func (t *Transit) call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.addr+"/v1/"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", t.token)
	req.Header.Set("Content-Type", "application/json")
	if t.ns != "" {
		req.Header.Set("X-Vault-Namespace", t.ns)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: read answer: %v", ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		re := &remoteError{status: resp.StatusCode}
		var e struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(raw, &e) == nil {
			re.msgs = e.Errors
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return fmt.Errorf("%w: %w", ErrUnavailable, re)
		}
		return re
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// redactURLError keeps a transport error's cause but not the request,
// which is safe anyway (the token travels in a header), for shorter logs.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, ue.URL, ue.Err)
	}
	return err
}
