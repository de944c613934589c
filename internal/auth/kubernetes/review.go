package kubernetes

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// TokenReview wire format (authentication.k8s.io/v1).
const (
	reviewAPIVersion = "authentication.k8s.io/v1"
	reviewKind       = "TokenReview"
	reviewPath       = "/apis/authentication.k8s.io/v1/tokenreviews"
	// saPrefix starts the username of every service account.
	saPrefix = "system:serviceaccount:"
	// maxReviewBody bounds what is read of the API server's answer.
	maxReviewBody = 1 << 20
)

// tokenReview is the TokenReview object, sent with Spec and answered with
// Status filled.
type tokenReview struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Spec       reviewSpec    `json:"spec"`
	Status     *reviewStatus `json:"status,omitempty"`
}

type reviewSpec struct {
	Token     string   `json:"token"`
	Audiences []string `json:"audiences,omitempty"`
}

type reviewStatus struct {
	Authenticated bool       `json:"authenticated"`
	User          reviewUser `json:"user"`
	Audiences     []string   `json:"audiences,omitempty"`
	Error         string     `json:"error,omitempty"`
}

type reviewUser struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// apiStatus is the Status object the API server answers errors with.
type apiStatus struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
	Code    int    `json:"code"`
}

// serviceAccount is who a TokenReview said a token belongs to.
type serviceAccount struct {
	Namespace string
	Name      string
	UID       string
	// Audiences are the audiences the API server found the token valid
	// for (status.audiences).
	Audiences []string
}

// Errors of a review. errNotAuthenticated and errNotServiceAccount are the
// caller's fault (403); the others are the reviewer's (500-class).
var (
	errNotAuthenticated  = errors.New("the Kubernetes API did not authenticate the token")
	errNotServiceAccount = errors.New("the token does not belong to a service account")
	errMalformedReview   = errors.New("malformed TokenReview response")
)

// apiError is a non-2xx answer of the API server.
type apiError struct {
	Code    int
	Message string // the Status message, shortened; never holds a token
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the Kubernetes API answered HTTP %d", e.Code)
	}
	return fmt.Sprintf("the Kubernetes API answered HTTP %d: %s", e.Code, e.Message)
}

// review asks the API server at host who token belongs to, authenticating
// with bearer. A nil error means the API server authenticated the token as
// a service account. Errors: errNotAuthenticated and errNotServiceAccount
// (wrapped), *apiError for a non-2xx answer, errMalformedReview (wrapped),
// or a transport error. No error text contains token or bearer.
func review(ctx context.Context, client *http.Client, host, bearer, token string, audiences []string) (*serviceAccount, error) {
	body, err := json.Marshal(tokenReview{
		APIVersion: reviewAPIVersion,
		Kind:       reviewKind,
		Spec:       reviewSpec{Token: token, Audiences: audiences},
	})
	if err != nil {
		return nil, fmt.Errorf("token review: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, host+reviewPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxReviewBody))
	if err != nil {
		return nil, fmt.Errorf("token review: read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("token review: %w", &apiError{Code: resp.StatusCode, Message: statusMessage(answer)})
	}
	sa, err := parseReview(answer)
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	return sa, nil
}

// statusMessage extracts the message of a Status answer, shortened and
// made printable, for error text.
func statusMessage(body []byte) string {
	var st apiStatus
	if json.Unmarshal(body, &st) != nil || st.Kind != "Status" {
		return ""
	}
	return shorten(st.Message, 200)
}

// shorten keeps at most n bytes of valid, printable text.
func shorten(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Kubernetes names: a namespace is a DNS-1123 label, a service account
// name a DNS-1123 subdomain. Checking them keeps anything else out of
// alias metadata, which policy templates expand into paths.
var (
	namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	saNameRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// parseReview reads a TokenReview answer. It returns the service account
// when the token was authenticated as one; errNotAuthenticated (wrapped
// with the API server's reason) when it was not; errNotServiceAccount when
// it belongs to some other user; errMalformedReview for anything that is
// not a well-formed TokenReview.
func parseReview(body []byte) (*serviceAccount, error) {
	var tr tokenReview
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformedReview, err)
	}
	if tr.APIVersion != reviewAPIVersion || tr.Kind != reviewKind {
		return nil, fmt.Errorf("%w: got apiVersion %q kind %q", errMalformedReview, shorten(tr.APIVersion, 64), shorten(tr.Kind, 64))
	}
	st := tr.Status
	if st == nil {
		return nil, fmt.Errorf("%w: no status", errMalformedReview)
	}
	if !st.Authenticated {
		if st.Error != "" {
			return nil, fmt.Errorf("%w: %s", errNotAuthenticated, shorten(st.Error, 200))
		}
		return nil, errNotAuthenticated
	}
	rest, ok := strings.CutPrefix(st.User.Username, saPrefix)
	if !ok {
		return nil, errNotServiceAccount
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || !namespaceRE.MatchString(ns) || len(name) > 253 || !saNameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: username %q is not system:serviceaccount:<namespace>:<name>", errMalformedReview, shorten(st.User.Username, 300))
	}
	if st.User.UID == "" {
		return nil, fmt.Errorf("%w: no user uid", errMalformedReview)
	}
	if len(st.User.UID) > 128 || !printable(st.User.UID) {
		return nil, fmt.Errorf("%w: user uid is not printable or too long", errMalformedReview)
	}
	return &serviceAccount{Namespace: ns, Name: name, UID: st.User.UID, Audiences: st.Audiences}, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// claims are the few JWT claims read without verifying the signature: the
// API server verifies the token, Ward only compares these afterwards.
type claims struct {
	Issuer     string `json:"iss"`
	SecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
}

// parseClaims decodes the payload of a compact JWS without verifying it.
func parseClaims(jwt string) (claims, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("parse jwt: not three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, fmt.Errorf("parse jwt: payload: %w", err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, fmt.Errorf("parse jwt: claims: %w", err)
	}
	return c, nil
}
