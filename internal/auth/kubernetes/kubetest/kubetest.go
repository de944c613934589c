// Package kubetest runs a fake Kubernetes API server for tests: an HTTPS
// server on 127.0.0.1 that answers TokenReviews the way a real API server
// does (authentication.k8s.io/v1 JSON, Status objects for errors, bearer
// authentication and authorization of the reviewer).
//
// It is for tests only; nothing in Ward's binary imports it.
package kubetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// DefaultAudience is the audience tokens get when none is given, as a
// cluster's default service account issuer hands out.
const DefaultAudience = "https://kubernetes.default.svc.cluster.local"

// DefaultIssuer is the iss claim of minted tokens.
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// Account is a service account known to the server.
type Account struct {
	Namespace string
	Name      string
	UID       string
	// Audiences the account's token is valid for; empty means
	// DefaultAudience.
	Audiences []string
	// MayReview lets the account's own token create TokenReviews (the
	// system:auth-delegator binding).
	MayReview bool
	// Issuer is the iss claim of the minted token; empty means DefaultIssuer.
	Issuer string
	// SecretName, when set, adds the legacy secret-name claim.
	SecretName string
}

// Review is one TokenReview the server received.
type Review struct {
	Bearer    string
	Token     string
	Audiences []string
}

// Server is a fake API server.
type Server struct {
	*httptest.Server
	reviewer string

	mu       sync.Mutex
	accounts map[string]Account // by token
	reviews  []Review
	fail     int // when non-zero, answer every request with this status
}

// New starts a server that accepts reviewer as the bearer token of a
// service account allowed to create TokenReviews. It closes with t.
func New(t testing.TB, reviewer string) *Server {
	s := &Server{reviewer: reviewer, accounts: map[string]Account{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// CACert returns the PEM certificate clients must trust (kubernetes_ca_cert).
func (s *Server) CACert() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

// Add registers a service account and returns a fresh JWT-shaped token
// for it. The token's signature is random: only this server can tell it
// is valid, as only a real API server can for real tokens.
func (s *Server) Add(a Account) string {
	if len(a.Audiences) == 0 {
		a.Audiences = []string{DefaultAudience}
	}
	if a.Issuer == "" {
		a.Issuer = DefaultIssuer
	}
	claims := map[string]any{
		"iss": a.Issuer,
		"sub": "system:serviceaccount:" + a.Namespace + ":" + a.Name,
		"aud": a.Audiences,
		"kubernetes.io": map[string]any{
			"namespace":      a.Namespace,
			"serviceaccount": map[string]string{"name": a.Name, "uid": a.UID},
		},
	}
	if a.SecretName != "" {
		claims["kubernetes.io/serviceaccount/secret.name"] = a.SecretName
	}
	token := mint(claims)
	s.mu.Lock()
	s.accounts[token] = a
	s.mu.Unlock()
	return token
}

// Revoke forgets a token, as deleting its service account would.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	delete(s.accounts, token)
	s.mu.Unlock()
}

// Fail makes every later request answer with status (0 restores normal
// answers).
func (s *Server) Fail(status int) {
	s.mu.Lock()
	s.fail = status
	s.mu.Unlock()
}

// Reviews returns the TokenReviews received so far.
func (s *Server) Reviews() []Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reviews)
}

// mint builds an unsigned-looking compact JWS with a random signature.
func mint(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "kubetest"})
	payload, _ := json.Marshal(claims)
	sig := make([]byte, 64)
	if _, err := rand.Read(sig); err != nil {
		panic(err)
	}
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != 0 {
		writeStatus(w, fail, "InternalError", "injected failure")
		return
	}
	if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if r.Method != http.MethodPost {
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	s.mu.Lock()
	caller, known := s.accounts[bearer]
	s.mu.Unlock()
	switch {
	case s.reviewer != "" && bearer == s.reviewer:
	case known && caller.MayReview:
	case known:
		writeStatus(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(
			"tokenreviews.authentication.k8s.io is forbidden: User %q cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope",
			"system:serviceaccount:"+caller.Namespace+":"+caller.Name))
		return
	default:
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeStatus(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "the body of the request was in an unknown format")
		return
	}
	var tr tokenReview
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &tr); err != nil || tr.APIVersion != "authentication.k8s.io/v1" || tr.Kind != "TokenReview" {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "the request body is not an authentication.k8s.io/v1 TokenReview")
		return
	}
	s.mu.Lock()
	s.reviews = append(s.reviews, Review{Bearer: bearer, Token: tr.Spec.Token, Audiences: tr.Spec.Audiences})
	a, found := s.accounts[tr.Spec.Token]
	s.mu.Unlock()

	tr.Status = &reviewStatus{}
	switch {
	case !found:
		tr.Status.Error = "[invalid bearer token, square/go-jose: error in cryptographic primitive, token lookup failed]"
	default:
		auds := a.Audiences
		if len(tr.Spec.Audiences) > 0 {
			auds = nil
			for _, want := range tr.Spec.Audiences {
				if slices.Contains(a.Audiences, want) {
					auds = append(auds, want)
				}
			}
		}
		if len(auds) == 0 {
			tr.Status.Error = fmt.Sprintf("[invalid bearer token, token audiences %q is invalid for the target audiences %q]", a.Audiences, tr.Spec.Audiences)
			break
		}
		tr.Status.Authenticated = true
		tr.Status.Audiences = auds
		tr.Status.User = reviewUser{
			Username: "system:serviceaccount:" + a.Namespace + ":" + a.Name,
			UID:      a.UID,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + a.Namespace, "system:authenticated"},
			Extra: map[string][]string{
				"authentication.kubernetes.io/pod-name": {a.Name + "-7d4b9c-x2x5q"},
				"authentication.kubernetes.io/pod-uid":  {randomUID()},
			},
		}
	}
	// The API server echoes the review and adds metadata; spec.token is
	// kept, as a real server does.
	tr.Metadata = map[string]any{"creationTimestamp": nil}
	out, _ := json.Marshal(tr)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out)
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	out, _ := json.Marshal(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(out)
}

func randomUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type tokenReview struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status *reviewStatus `json:"status,omitempty"`
}

type reviewStatus struct {
	Authenticated bool       `json:"authenticated"`
	User          reviewUser `json:"user"`
	Audiences     []string   `json:"audiences,omitempty"`
	Error         string     `json:"error,omitempty"`
}

type reviewUser struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}
