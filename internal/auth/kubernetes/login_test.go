package kubernetes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/auth/kubernetes/kubetest"
	"github.com/wardsec/ward/internal/engine"
)

// cluster is a harness configured against a fake API server with two
// service accounts, default/a and default/b, and a role bound to default/a.
type cluster struct {
	*harness
	srv    *kubetest.Server
	tokenA string
	tokenB string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	h := newHarness(t)
	srv := kubetest.New(t, reviewerJWT)
	c := &cluster{harness: h, srv: srv}
	c.tokenA = srv.Add(kubetest.Account{Namespace: "default", Name: "a", UID: "uid-a"})
	c.tokenB = srv.Add(kubetest.Account{Namespace: "default", Name: "b", UID: "uid-b"})
	h.configure(srv, reviewerJWT)
	h.must(engine.OpUpdate, "role/app", map[string]any{
		"bound_service_account_names":      "a",
		"bound_service_account_namespaces": "default",
		"token_policies":                   "app-read",
		"token_ttl":                        "1h",
	})
	return c
}

func TestLoginSuccess(t *testing.T) {
	c := newCluster(t)
	resp, err := c.login("app", c.tokenA)
	if err != nil {
		t.Fatal(err)
	}
	l := resp.Login
	if l == nil {
		t.Fatal("no Login in the response")
	}
	wantAlias := map[string]string{
		"service_account_name":        "a",
		"service_account_namespace":   "default",
		"service_account_uid":         "uid-a",
		"service_account_secret_name": "",
	}
	if l.Alias.Name != "uid-a" || !reflect.DeepEqual(l.Alias.Metadata, wantAlias) {
		t.Errorf("alias = %+v", l.Alias)
	}
	wantAlias["role"] = "app"
	if !reflect.DeepEqual(l.Metadata, wantAlias) {
		t.Errorf("token metadata = %v", l.Metadata)
	}
	if l.DisplayName != "default-a" || !reflect.DeepEqual(l.Policies, []string{"app-read"}) || l.TTL != time.Hour || !l.Renewable {
		t.Errorf("login = %+v", l)
	}
	if resp.Auth != nil {
		t.Error("the method issued an auth block itself")
	}

	revs := c.srv.Reviews()
	if len(revs) != 1 {
		t.Fatalf("reviews = %d, want 1", len(revs))
	}
	if revs[0].Bearer != reviewerJWT || revs[0].Token != c.tokenA || revs[0].Audiences != nil {
		t.Errorf("review = %+v; want the reviewer JWT as bearer, A's token, no audiences", revs[0])
	}
}

func TestLoginRefusals(t *testing.T) {
	c := newCluster(t)
	c.must(engine.OpUpdate, "role/other-ns", map[string]any{
		"bound_service_account_names": "*", "bound_service_account_namespaces": "kube-system",
	})
	forged := kubetest.New(t, "").Add(kubetest.Account{Namespace: "default", Name: "a", UID: "uid-a"})
	for _, tc := range []struct {
		name, role, jwt string
		kind            error
		msg             string
	}{
		{"unknown service account", "app", forged, engine.ErrPermissionDenied,
			"permission denied: the Kubernetes API did not authenticate the service account token"},
		{"name not bound", "app", "", engine.ErrPermissionDenied, "service account name not authorized"},
		{"namespace not bound", "other-ns", "", engine.ErrPermissionDenied, "namespace not authorized"},
		{"unknown role", "nope", "", engine.ErrInvalidRequest, `invalid role name "nope"`},
		{"missing role", "", "x", engine.ErrInvalidRequest, "missing role"},
		{"missing jwt", "app", "-", engine.ErrInvalidRequest, "missing jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jwt := tc.jwt
			switch jwt {
			case "":
				jwt = c.tokenB
			case "-":
				jwt = ""
			}
			resp, err := c.login(tc.role, jwt)
			if resp != nil {
				t.Fatalf("got a response %+v", resp)
			}
			wantKind(t, err, tc.kind, tc.msg)
			if jwt != "" && strings.Contains(err.Error(), jwt) {
				t.Error("the error echoes the JWT")
			}
		})
	}
	c.srv.Revoke(c.tokenA)
	_, err := c.login("app", c.tokenA)
	wantKind(t, err, engine.ErrPermissionDenied, "")
	if strings.Contains(c.logs.String(), c.tokenA) || strings.Contains(c.logs.String(), reviewerJWT) {
		t.Error("a log line holds a JWT")
	}
	if !strings.Contains(c.logs.String(), "kubernetes login refused") {
		t.Error("refusals are not logged at debug level")
	}
}

func TestLoginAudience(t *testing.T) {
	c := newCluster(t)
	vaultTok := c.srv.Add(kubetest.Account{Namespace: "default", Name: "a", UID: "uid-a", Audiences: []string{"ward", "other"}})
	c.must(engine.OpUpdate, "role/app", map[string]any{"audience": "ward"})

	if _, err := c.login("app", vaultTok); err != nil {
		t.Fatalf("token for audience ward: %v", err)
	}
	revs := c.srv.Reviews()
	if got := revs[len(revs)-1].Audiences; !reflect.DeepEqual(got, []string{"ward"}) {
		t.Errorf("spec.audiences = %v, want [ward]", got)
	}
	// A's default token is for the API server's audience only.
	_, err := c.login("app", c.tokenA)
	wantKind(t, err, engine.ErrPermissionDenied, "")
}

// TestLoginAudienceCheckedInStatus: a reviewer that authenticates the token
// but not for the role's audience (an old API server ignoring
// spec.audiences) is refused.
func TestLoginAudienceCheckedInStatus(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,
			"user":{"username":"system:serviceaccount:default:a","uid":"uid-a"},"audiences":["https://kubernetes.default.svc"]}}`))
	}))
	t.Cleanup(srv.Close)
	h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": caPEM(srv)})
	h.must(engine.OpUpdate, "role/app", map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "default"})
	if _, err := h.login("app", "x.y.z"); err != nil {
		t.Fatalf("without audience: %v", err)
	}
	h.must(engine.OpUpdate, "role/app", map[string]any{"audience": "ward"})
	_, err := h.login("app", "x.y.z")
	wantKind(t, err, engine.ErrPermissionDenied, `invalid audience (aud) claim: the token is not valid for audience "ward"`)
}

func TestLoginCallerJWTAsBearer(t *testing.T) {
	h := newHarness(t)
	srv := kubetest.New(t, "")
	self := srv.Add(kubetest.Account{Namespace: "default", Name: "a", UID: "uid-a", MayReview: true})
	noRBAC := srv.Add(kubetest.Account{Namespace: "default", Name: "b", UID: "uid-b"})
	h.configure(srv, "")
	h.must(engine.OpUpdate, "role/any", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "default"})

	if _, err := h.login("any", self); err != nil {
		t.Fatal(err)
	}
	if revs := srv.Reviews(); revs[0].Bearer != self {
		t.Error("with no token_reviewer_jwt the caller's JWT must be the bearer")
	}
	// A token the API server does not know fails authentication as bearer: 403.
	_, err := h.login("any", "unknown.jwt.token")
	wantKind(t, err, engine.ErrPermissionDenied, "permission denied: the Kubernetes API did not authenticate the service account token")
	// A valid token without TokenReview rights is a setup problem, not a
	// bad credential: a 500 whose text names the fix.
	_, err = h.login("any", noRBAC)
	if err == nil || isTyped(err) || !strings.Contains(err.Error(), "system:auth-delegator") || strings.Contains(err.Error(), noRBAC) {
		t.Fatalf("error = %v; want an untyped error naming system:auth-delegator", err)
	}
}

func TestLoginReviewerFailures(t *testing.T) {
	c := newCluster(t)

	c.configure(c.srv, "wrong-reviewer")
	_, err := c.login("app", c.tokenA)
	if err == nil || isTyped(err) || !strings.Contains(err.Error(), "token_reviewer_jwt") || strings.Contains(err.Error(), "wrong-reviewer") {
		t.Fatalf("rejected reviewer: %v; want an untyped error naming token_reviewer_jwt without its value", err)
	}

	c.configure(c.srv, reviewerJWT)
	c.srv.Fail(http.StatusInternalServerError)
	_, err = c.login("app", c.tokenA)
	wantKind(t, err, engine.ErrUnavailable, "")
	c.srv.Fail(0)

	// A CA that does not sign the server's certificate.
	c.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": c.srv.URL, "kubernetes_ca_cert": otherCA(t), "token_reviewer_jwt": reviewerJWT})
	_, err = c.login("app", c.tokenA)
	wantKind(t, err, engine.ErrUnavailable, "")
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("TLS failure message %q does not mention the certificate", err)
	}

	// Not configured.
	h := newHarness(t)
	h.must(engine.OpUpdate, "role/app", map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "default"})
	_, err = h.login("app", c.tokenA)
	wantKind(t, err, engine.ErrInvalidRequest, "kubernetes auth is not configured: write auth/kubernetes/config first")

	if strings.Contains(c.logs.String(), c.tokenA) || strings.Contains(c.logs.String(), reviewerJWT) {
		t.Error("a log line holds a JWT")
	}
}

func TestLoginTimeout(t *testing.T) {
	h := newHarness(t)
	h.b.timeout = 200 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": caPEM(srv), "token_reviewer_jwt": reviewerJWT})
	h.must(engine.OpUpdate, "role/app", map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "default"})
	start := time.Now()
	_, err := h.login("app", "x.y.z")
	wantKind(t, err, engine.ErrUnavailable, "")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("login took %v with a 200ms review timeout", d)
	}
}

func TestLoginMalformedReview(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `<html>proxy error</html>`,
		"wrong kind":      `{"apiVersion":"v1","kind":"Pod","status":{"authenticated":true}}`,
		"bad username":    `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"system:serviceaccount:default/x:a","uid":"u"}}}`,
		"no uid":          `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"system:serviceaccount:default:a"}}}`,
		"status missing":  `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview"}`,
		"glob in account": `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"system:serviceaccount:default:*","uid":"u"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": caPEM(srv)})
			h.must(engine.OpUpdate, "role/any", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "default"})
			resp, err := h.login("any", "x.y.z")
			if err == nil || isTyped(err) || resp != nil {
				t.Fatalf("login = %v, %v; want an untyped (500) error", resp, err)
			}
		})
	}
	// A user that is not a service account is the caller's problem: 403.
	h := newHarness(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"kubernetes-admin","uid":"u"}}}`))
	}))
	t.Cleanup(srv.Close)
	h.must(engine.OpUpdate, "config", map[string]any{"kubernetes_host": srv.URL, "kubernetes_ca_cert": caPEM(srv)})
	h.must(engine.OpUpdate, "role/any", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "default"})
	_, err := h.login("any", "x.y.z")
	wantKind(t, err, engine.ErrPermissionDenied, "permission denied: the token does not belong to a Kubernetes service account")
}

func TestLoginAliasByName(t *testing.T) {
	c := newCluster(t)
	c.must(engine.OpUpdate, "role/app", map[string]any{"alias_name_source": "serviceaccount_name"})
	resp, err := c.login("app", c.tokenA)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Login.Alias.Name != "default/a" {
		t.Fatalf("alias = %q, want default/a", resp.Login.Alias.Name)
	}
}

func TestLoginBoundCIDRs(t *testing.T) {
	c := newCluster(t)
	c.must(engine.OpUpdate, "role/app", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
	_, err := c.login("app", c.tokenA) // from 127.0.0.1
	wantKind(t, err, engine.ErrPermissionDenied, "")
	if n := len(c.srv.Reviews()); n != 0 {
		t.Errorf("a login from outside the CIDRs reached the API server (%d reviews)", n)
	}
	c.must(engine.OpUpdate, "role/app", map[string]any{"token_bound_cidrs": "127.0.0.0/8"})
	resp, err := c.login("app", c.tokenA)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(resp.Login.BoundCIDRs, []string{"127.0.0.0/8"}) {
		t.Errorf("BoundCIDRs = %v", resp.Login.BoundCIDRs)
	}
}

func TestLoginIssuerAndSecretName(t *testing.T) {
	c := newCluster(t)
	legacy := c.srv.Add(kubetest.Account{Namespace: "default", Name: "a", UID: "uid-a", Issuer: "kubernetes/serviceaccount", SecretName: "a-token-x7k2p"})

	// Validation off (the default): any issuer.
	resp, err := c.login("app", legacy)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Login.Alias.Metadata["service_account_secret_name"]; got != "a-token-x7k2p" {
		t.Errorf("service_account_secret_name = %q", got)
	}

	c.must(engine.OpUpdate, "config", map[string]any{
		"kubernetes_host": c.srv.URL, "kubernetes_ca_cert": c.srv.CACert(), "token_reviewer_jwt": reviewerJWT,
		"issuer": kubetest.DefaultIssuer, "disable_iss_validation": false,
	})
	if _, err := c.login("app", c.tokenA); err != nil {
		t.Fatalf("matching issuer: %v", err)
	}
	before := len(c.srv.Reviews())
	_, err = c.login("app", legacy)
	wantKind(t, err, engine.ErrPermissionDenied, "invalid issuer (iss) claim")
	if len(c.srv.Reviews()) != before {
		t.Error("a token with the wrong issuer was sent for review")
	}
}

func TestLoginJWTTooLong(t *testing.T) {
	c := newCluster(t)
	_, err := c.login("app", strings.Repeat("a", maxJWT+1))
	wantKind(t, err, engine.ErrInvalidRequest, "")
	// A token passed as the role by mistake is not echoed.
	_, err = c.login(c.tokenA+"/x", c.tokenA)
	wantKind(t, err, engine.ErrInvalidRequest, "invalid role name")
}

// otherCA returns a fresh self-signed CA certificate (httptest servers all
// share one certificate, so another server's will not do).
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func caPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}
