package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits on what the method fetches from an identity provider.
const (
	// maxFetch bounds a discovery document, JWKS or token response.
	maxFetch = 1 << 20
	// fetchTimeout bounds one HTTP exchange with the provider.
	fetchTimeout = 10 * time.Second
	// jwksMaxAge is how long a fetched key set is used before it is
	// fetched again.
	jwksMaxAge = time.Hour
	// jwksMinRefresh is the least time between two fetches of a key set,
	// so that tokens naming unknown key IDs cannot make Ward hammer the
	// provider.
	jwksMinRefresh = 10 * time.Second
)

// errSignature is the answer to a token no configured key signed.
var errSignature = errors.New("error validating signature")

// keySet checks token signatures.
type keySet interface {
	// verify returns the payload of sig if one of the set's keys made its
	// signature. It returns errSignature when none did, and another error
	// when the keys could not be had (a provider that did not answer).
	verify(ctx context.Context, sig *jose.JSONWebSignature) ([]byte, error)
}

// staticKeys are the PEM keys of jwt_validation_pubkeys.
type staticKeys []crypto.PublicKey

func (s staticKeys) verify(_ context.Context, sig *jose.JSONWebSignature) ([]byte, error) {
	for _, k := range s {
		if payload, err := sig.Verify(k); err == nil {
			return payload, nil
		}
	}
	return nil, errSignature
}

// parsePublicKey reads one PEM public key: PKIX "PUBLIC KEY", PKCS #1
// "RSA PUBLIC KEY", or a "CERTIFICATE" whose key is used. Only RSA, ECDSA
// and Ed25519 keys are accepted.
func parsePublicKey(s string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, err
	}
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// httpClient returns a client that trusts caPEM (the system roots when
// empty) and gives up after fetchTimeout.
func httpClient(caPEM string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if strings.TrimSpace(caPEM) != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("no certificate found in the CA PEM")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: fetchTimeout}, nil
}

// fetchJSON GETs url and decodes its JSON body into out.
func fetchJSON(ctx context.Context, c *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return err
	}
	if len(body) > maxFetch {
		return fmt.Errorf("%s: response larger than %d bytes", url, maxFetch)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// remoteKeys is a JWKS fetched from a provider and cached. It is fetched
// again when older than jwksMaxAge, and when a token names a key ID the
// set does not have (or, without a key ID, no key verifies), but never
// more often than jwksMinRefresh. Fetches run outside any lock, one at a
// time (see fetchCache): logins whose keys are cached never wait for the
// provider.
type remoteKeys struct {
	client *http.Client
	// url returns the JWKS URL (for discovery, the document's jwks_uri).
	url   func(ctx context.Context) (string, error)
	cache fetchCache[jose.JSONWebKeySet]
}

func newRemoteKeys(client *http.Client, now func() time.Time, url func(context.Context) (string, error)) *remoteKeys {
	r := &remoteKeys{client: client, url: url}
	r.cache = fetchCache[jose.JSONWebKeySet]{now: now, fetch: r.fetch}
	return r
}

func (r *remoteKeys) verify(ctx context.Context, sig *jose.JSONWebSignature) ([]byte, error) {
	set, err := r.keys(ctx, false)
	if err != nil {
		return nil, err
	}
	payload, known := verifyWithSet(set, sig)
	if payload != nil {
		return payload, nil
	}
	kid := sig.Signatures[0].Header.KeyID
	if known && kid != "" {
		// The key exists and did not verify: a refresh would not help.
		return nil, errSignature
	}
	fresh, err := r.keys(ctx, true)
	if err != nil || fresh == set {
		return nil, errSignature
	}
	if payload, _ := verifyWithSet(fresh, sig); payload != nil {
		return payload, nil
	}
	return nil, errSignature
}

// keys returns the key set (see fetchCache.get for when it is fetched).
func (r *remoteKeys) keys(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	set, err := r.cache.get(ctx, refresh)
	if err != nil {
		return nil, fmt.Errorf("error fetching JWKS: %w", err)
	}
	return set, nil
}

func (r *remoteKeys) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	url, err := r.url(ctx)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := fetchJSON(ctx, r.client, url, &doc); err != nil {
		return nil, err
	}
	// Keys of kinds go-jose does not know are skipped, not fatal:
	// providers publish keys for other purposes beside signing keys.
	set := &jose.JSONWebKeySet{}
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err == nil {
			set.Keys = append(set.Keys, k)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%s: the key set has no usable keys", url)
	}
	return set, nil
}

// verifyWithSet tries the keys of set that may have signed sig: those
// with its key ID (all when it has none), meant for signing, and allowed
// the token's algorithm. known reports whether any key had the token's
// key ID.
func verifyWithSet(set *jose.JSONWebKeySet, sig *jose.JSONWebSignature) (payload []byte, known bool) {
	hdr := sig.Signatures[0].Header
	candidates := set.Keys
	if hdr.KeyID != "" {
		candidates = set.Key(hdr.KeyID)
	}
	for _, k := range candidates {
		known = true
		if k.Use == "enc" || (k.Algorithm != "" && k.Algorithm != hdr.Algorithm) {
			continue
		}
		pub := k.Public()
		if !pub.Valid() {
			continue
		}
		switch pub.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue
		}
		if p, err := sig.Verify(pub); err == nil {
			return p, true
		}
	}
	return nil, known
}
