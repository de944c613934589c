package jwt

import (
	"container/list"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

const (
	// stateTTL is how long a started OIDC login may take to come back.
	stateTTL = 5 * time.Minute
	// maxStates bounds the OIDC logins under way at once. When the table
	// is full, starting a login evicts the oldest one under way.
	maxStates = 4096
)

// oidcState is one OIDC login under way, keyed by its state parameter.
type oidcState struct {
	role        string
	redirectURI string
	nonce       string
	verifier    string // PKCE code verifier
	clientNonce string
	expires     time.Time
}

// String leaves out the nonce and the PKCE verifier.
func (s *oidcState) String() string {
	return fmt.Sprintf("oidc state{role=%q redirect_uri=%q expires=%s}", s.role, s.redirectURI, s.expires.Format(time.RFC3339))
}

// stateStore keeps OIDC logins under way in memory. Each state is used at
// most once and expires after stateTTL. It holds at most maxStates: since
// oidc/auth_url is unauthenticated, anyone can start logins, and a store
// that refused new ones when full would let a caller lock everybody out
// of OIDC login. Evicting the oldest instead means such a flood can only
// push out other logins under way, whose users start again.
type stateStore struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*list.Element // of *stateEntry
	// order holds the states oldest first.
	order *list.List
}

type stateEntry struct {
	id string
	st *oidcState
}

func newStateStore(now func() time.Time) *stateStore {
	return &stateStore{now: now, m: map[string]*list.Element{}, order: list.New()}
}

// put remembers a state. It drops the expired states that are oldest
// and, when the store is still full, evicts the oldest state under way;
// it reports how many logins under way it evicted.
func (s *stateStore) put(id string, st *oidcState) (evicted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if e, ok := s.m[id]; ok {
		s.remove(e)
	}
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		live := now.Before(e.Value.(*stateEntry).st.expires)
		if live && len(s.m) < maxStates {
			break
		}
		if live {
			evicted++
		}
		s.remove(e)
	}
	s.m[id] = s.order.PushBack(&stateEntry{id: id, st: st})
	return evicted
}

// take removes and returns the state, or nil if it is unknown or expired.
func (s *stateStore) take(id string) *oidcState {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok {
		return nil
	}
	s.remove(e)
	st := e.Value.(*stateEntry).st
	if !s.now().Before(st.expires) {
		return nil
	}
	return st
}

func (s *stateStore) remove(e *list.Element) {
	delete(s.m, e.Value.(*stateEntry).id)
	s.order.Remove(e)
}

type authURLInput struct {
	Role        string `json:"role"`
	RedirectURI string `json:"redirect_uri"`
	ClientNonce string `json:"client_nonce"`
}

// authURL starts an OIDC login: it remembers a fresh state, nonce and PKCE
// verifier and answers with the provider's authorization URL.
func (b *backend) authURL(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[authURLInput](req.Data)
	if err != nil {
		return nil, err
	}
	if in.RedirectURI == "" {
		return nil, engine.BadRequest("missing redirect_uri")
	}
	p, err := b.oidcProvider(ctx)
	if err != nil {
		return nil, err
	}
	name, r, err := b.loginRole(ctx, in.Role, p.cfg)
	if err != nil {
		return nil, err
	}
	if r.RoleType != roleTypeOIDC {
		return nil, engine.BadRequest("role %q is not an OIDC role (role_type is %q)", name, r.RoleType)
	}
	if !validRedirect(in.RedirectURI, r.AllowedRedirectURIs) {
		return nil, engine.BadRequest("unauthorized redirect_uri: %s", in.RedirectURI)
	}
	doc, err := p.discovery(ctx)
	if err != nil {
		return nil, engine.BadRequest("error fetching the OIDC discovery document: %v", err)
	}
	if doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" {
		return nil, engine.BadRequest("the OIDC discovery document lacks an authorization or token endpoint")
	}
	target, err := url.Parse(doc.AuthorizationEndpoint)
	if err != nil {
		return nil, engine.BadRequest("the provider's authorization_endpoint is not a URL")
	}
	var rnd [3]string
	for i := range rnd {
		if rnd[i], err = randomString(b.env.Rand); err != nil {
			return nil, fmt.Errorf("oidc auth_url: %w", err)
		}
	}
	state, nonce, verifier := rnd[0], rnd[1], rnd[2]
	challenge := sha256.Sum256([]byte(verifier))
	scopes := []string{"openid"}
	for _, s := range r.OIDCScopes {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	q := target.Query()
	q.Set("client_id", p.cfg.OIDCClientID)
	q.Set("response_type", "code")
	q.Set("redirect_uri", in.RedirectURI)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", state)
	q.Set("nonce", nonce)
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(challenge[:]))
	q.Set("code_challenge_method", "S256")
	target.RawQuery = q.Encode()

	evicted := b.states.put(state, &oidcState{
		role: name, redirectURI: in.RedirectURI, nonce: nonce, verifier: verifier,
		clientNonce: in.ClientNonce, expires: b.env.Now().Add(stateTTL),
	})
	if evicted > 0 && b.env.Logger != nil {
		b.env.Logger.Debug("oidc: too many logins under way; evicted the oldest", "mount", b.env.MountPath, "max", maxStates)
	}
	return engine.DataResponse(map[string]any{"auth_url": target.String()}), nil
}

type callbackInput struct {
	State            string `json:"state"`
	Code             string `json:"code"`
	ClientNonce      string `json:"client_nonce"`
	IDToken          string `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// callback finishes an OIDC login: it redeems the authorization code at
// the provider's token endpoint, verifies the ID token and applies the
// role the login started with.
func (b *backend) callback(ctx context.Context, req *engine.Request) (*engine.Response, error) {
	in, _, err := engine.Decode[callbackInput](req.Data)
	if err != nil {
		return nil, err
	}
	st := b.states.take(in.State)
	if st == nil {
		return nil, engine.BadRequest("Expired or missing OAuth state.")
	}
	if in.Error != "" {
		return nil, engine.BadRequest("the provider refused the login: %s", truncate(in.Error+": "+in.ErrorDescription, 200))
	}
	if st.clientNonce != "" && subtle.ConstantTimeCompare([]byte(st.clientNonce), []byte(in.ClientNonce)) != 1 {
		return nil, engine.BadRequest("invalid client_nonce")
	}
	if in.Code == "" {
		return nil, engine.BadRequest("OAuth code parameter not provided")
	}
	p, err := b.oidcProvider(ctx)
	if err != nil {
		return nil, err
	}
	r, err := b.loadRole(ctx, st.role)
	if err != nil {
		return nil, err
	}
	if r == nil || r.RoleType != roleTypeOIDC {
		return nil, engine.BadRequest("role %q could not be found", st.role)
	}
	doc, err := p.discovery(ctx)
	if err != nil {
		return nil, engine.BadRequest("error fetching the OIDC discovery document: %v", err)
	}
	idToken, err := p.exchange(ctx, doc, in.Code, st.redirectURI, st.verifier)
	if err != nil {
		return nil, engine.BadRequest("error exchanging oidc code: %v", err)
	}
	claims, err := p.verify(ctx, idToken, r.RoleType)
	if err != nil {
		b.logFailure(st.role, err)
		return nil, err
	}
	e := expectations{now: b.env.Now(), issuer: doc.Issuer, clientID: p.cfg.OIDCClientID, requireExp: true}
	if err := checkClaims(claims, r, e); err != nil {
		b.logFailure(st.role, err)
		return nil, err
	}
	if nonce, _ := claims["nonce"].(string); subtle.ConstantTimeCompare([]byte(nonce), []byte(st.nonce)) != 1 {
		return nil, engine.BadRequest("invalid ID token nonce")
	}
	if azp, ok := claims["azp"].(string); ok && azp != p.cfg.OIDCClientID {
		return nil, engine.BadRequest("azp claim does not match the client ID")
	}
	return loginResponse(claims, st.role, r)
}

// oidcProvider is provider for the OIDC flow, which needs discovery and
// a client.
func (b *backend) oidcProvider(ctx context.Context) (*provider, error) {
	p, err := b.provider(ctx)
	if err != nil {
		return nil, err
	}
	if p.cfg.OIDCDiscoveryURL == "" || p.cfg.OIDCClientID == "" {
		return nil, engine.BadRequest("the mount is not configured for OIDC: set oidc_discovery_url, oidc_client_id and oidc_client_secret in %sconfig", b.env.MountPath)
	}
	return p, nil
}

// validRedirect reports whether uri is one of allowed. For loopback
// addresses the port may differ (RFC 8252 §7.3): a CLI listens wherever
// it can.
func validRedirect(uri string, allowed []string) bool {
	if slices.Contains(allowed, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || !isLoopback(u.Hostname()) {
		return false
	}
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err == nil && au.Scheme == u.Scheme && au.Hostname() == u.Hostname() &&
			au.Path == u.Path && au.RawQuery == u.RawQuery && au.User == nil && u.User == nil {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// randomString returns 32 random bytes, base64url-encoded (43 characters,
// a valid PKCE verifier).
func randomString(r io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
