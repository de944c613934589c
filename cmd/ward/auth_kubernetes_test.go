package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/wardsec/ward/internal/auth/kubernetes/kubetest"
)

// TestAuthKubernetes drives the Kubernetes method through a real server
// with Vault's Go client against a fake API server that speaks the real
// TokenReview protocol. One templated policy gives every service account
// exactly its own folder; each bad credential is refused with a clear
// message and no token.
func TestAuthKubernetes(t *testing.T) {
	t.Parallel()
	srv := startDev(t)
	root := vaultClient(t, srv.Addr, "root")
	if err := root.Sys().EnableAuthWithOptions("kubernetes", &vaultapi.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	auths, err := root.Sys().ListAuth()
	if err != nil || auths["kubernetes/"] == nil {
		t.Fatalf("list auth = %v, %v", auths, err)
	}
	acc := auths["kubernetes/"].Accessor
	if !strings.HasPrefix(acc, "auth_kubernetes_") {
		t.Fatalf("accessor = %q", acc)
	}

	const reviewer = "reviewer-sa-token"
	k8s := kubetest.New(t, reviewer)
	tokA := k8s.Add(kubetest.Account{Namespace: "default", Name: "a", UID: "7b1e0c2a-0000-4000-8000-00000000000a"})
	tokB := k8s.Add(kubetest.Account{Namespace: "default", Name: "b", UID: "7b1e0c2a-0000-4000-8000-00000000000b"})
	tokC := k8s.Add(kubetest.Account{Namespace: "default", Name: "c", UID: "7b1e0c2a-0000-4000-8000-00000000000c"})
	tokOtherNS := k8s.Add(kubetest.Account{Namespace: "payments", Name: "a", UID: "7b1e0c2a-0000-4000-8000-0000000000pa"})
	forged := kubetest.New(t, "").Add(kubetest.Account{Namespace: "default", Name: "a", UID: "7b1e0c2a-0000-4000-8000-00000000000a"})

	if _, err := root.Logical().Write("auth/kubernetes/config", map[string]any{
		"kubernetes_host":    k8s.URL,
		"kubernetes_ca_cert": k8s.CACert(),
		"token_reviewer_jwt": reviewer,
	}); err != nil {
		t.Fatal(err)
	}
	cfg, err := root.Logical().Read("auth/kubernetes/config")
	if err != nil || cfg.Data["kubernetes_host"] != k8s.URL || cfg.Data["token_reviewer_jwt_set"] != true {
		t.Fatalf("read config = %+v, %v", cfg, err)
	}
	if raw, _ := json.Marshal(cfg); strings.Contains(string(raw), reviewer) {
		t.Fatalf("config read returns the reviewer JWT: %s", raw)
	}

	putPolicy(t, root, "k8s-own-folder", fmt.Sprintf(
		`path "secret/data/k8s/{{identity.entity.aliases.%[1]s.metadata.service_account_namespace}}/{{identity.entity.aliases.%[1]s.metadata.service_account_name}}/*" { capabilities = ["read", "list"] }`, acc))
	if _, err := root.Logical().Write("auth/kubernetes/role/apps", map[string]any{
		"bound_service_account_names":      []string{"a", "b"},
		"bound_service_account_namespaces": "default",
		"token_policies":                   "k8s-own-folder",
		"token_ttl":                        "30m",
	}); err != nil {
		t.Fatal(err)
	}
	for _, sa := range []string{"a", "b"} {
		if _, err := root.Logical().Write("secret/data/k8s/default/"+sa+"/x", map[string]any{"data": map[string]any{"owner": sa}}); err != nil {
			t.Fatal(err)
		}
	}

	login := func(t *testing.T, role, jwt string) *vaultapi.SecretAuth {
		t.Helper()
		s, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/login", map[string]any{"role": role, "jwt": jwt})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
			t.Fatalf("login answered %+v", s)
		}
		return s.Auth
	}

	t.Run("own folder through a templated policy", func(t *testing.T) {
		a := login(t, "apps", tokA)
		if a.EntityID == "" || !slices.Contains(a.Policies, "k8s-own-folder") || a.LeaseDuration != 1800 || !a.Renewable ||
			a.Metadata["role"] != "apps" || a.Metadata["service_account_name"] != "a" || a.Metadata["service_account_namespace"] != "default" ||
			a.Metadata["service_account_uid"] != "7b1e0c2a-0000-4000-8000-00000000000a" {
			t.Fatalf("auth = %+v", a)
		}
		if _, ok := a.Metadata["service_account_secret_name"]; !ok {
			t.Error("metadata lacks service_account_secret_name")
		}
		svcA := vaultClient(t, srv.Addr, a.ClientToken)
		got, err := svcA.Logical().Read("secret/data/k8s/default/a/x")
		if err != nil {
			t.Fatalf("A reads its own folder: %v", err)
		}
		if owner := got.Data["data"].(map[string]any)["owner"]; owner != "a" {
			t.Fatalf("A read %v", owner)
		}
		_, err = svcA.Logical().Read("secret/data/k8s/default/b/x")
		wantStatus(t, err, 403, "permission denied")
		_, err = svcA.Logical().Read("secret/data/k8s/default/x")
		wantStatus(t, err, 403, "permission denied")

		self, err := svcA.Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		if self.Data["display_name"] != "kubernetes-default-a" || self.Data["entity_id"] != a.EntityID {
			t.Errorf("lookup-self = %v", self.Data)
		}

		// B gets its own folder from the same policy, and a new entity.
		b := login(t, "apps", tokB)
		if b.EntityID == a.EntityID {
			t.Fatal("A and B share an entity")
		}
		svcB := vaultClient(t, srv.Addr, b.ClientToken)
		if _, err := svcB.Logical().Read("secret/data/k8s/default/b/x"); err != nil {
			t.Fatalf("B reads its own folder: %v", err)
		}
		_, err = svcB.Logical().Read("secret/data/k8s/default/a/x")
		wantStatus(t, err, 403, "permission denied")

		// Logging in again is the same entity.
		if again := login(t, "apps", tokA); again.EntityID != a.EntityID {
			t.Errorf("second login entity %s, first %s", again.EntityID, a.EntityID)
		}

		// Every review used the reviewer JWT as bearer.
		for _, r := range k8s.Reviews() {
			if r.Bearer != reviewer {
				t.Fatalf("review bearer = %q, want the reviewer JWT", r.Bearer)
			}
		}
	})

	t.Run("bad credentials", func(t *testing.T) {
		if _, err := root.Logical().Write("auth/kubernetes/role/audience", map[string]any{
			"bound_service_account_names": "*", "bound_service_account_namespaces": "default", "audience": "ward",
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, role, jwt string
			status          int
			msg             string
		}{
			{"unknown service account", "apps", forged, 403, "the Kubernetes API did not authenticate the service account token"},
			{"not a JWT at all", "apps", "garbage", 403, "did not authenticate"},
			{"name not bound", "apps", tokC, 403, "service account name not authorized"},
			{"namespace not bound", "apps", tokOtherNS, 403, "namespace not authorized"},
			{"wrong audience", "audience", tokA, 403, "did not authenticate"},
			{"unknown role", "nope", tokA, 400, `invalid role name "nope"`},
			{"missing jwt", "apps", "", 400, "missing jwt"},
			{"missing role", "", tokA, 400, "missing role"},
		} {
			t.Run(c.name, func(t *testing.T) {
				body, _ := json.Marshal(map[string]string{"role": c.role, "jwt": c.jwt})
				r := rawCall(t, "POST", srv.Addr, "auth/kubernetes/login", "", body)
				if r.Status != c.status {
					t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
				}
				errs := r.Errors(t)
				if len(errs) != 1 || !strings.Contains(errs[0], c.msg) {
					t.Fatalf("errors = %q, want one containing %q", errs, c.msg)
				}
				if strings.Contains(string(r.Body), "client_token") || (c.jwt != "" && strings.Contains(string(r.Body), c.jwt)) {
					t.Fatalf("refusal body holds a token: %s", r.Body)
				}
			})
		}
		// The Go client sees the same refusal as an error.
		_, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/login", map[string]any{"role": "apps", "jwt": tokC})
		wantStatus(t, err, 403, "service account name not authorized")

		// A deleted service account's token stops working.
		gone := k8s.Add(kubetest.Account{Namespace: "default", Name: "b", UID: "7b1e0c2a-0000-4000-8000-00000000000b"})
		login(t, "apps", gone)
		k8s.Revoke(gone)
		_, err = vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/login", map[string]any{"role": "apps", "jwt": gone})
		wantStatus(t, err, 403, "did not authenticate")
	})

	t.Run("API server down", func(t *testing.T) {
		k8s.Fail(http.StatusServiceUnavailable)
		defer k8s.Fail(0)
		_, err := vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/login", map[string]any{"role": "apps", "jwt": tokA})
		wantStatus(t, err, 503, "TokenReview API")
		if strings.Contains(err.Error(), tokA) || strings.Contains(err.Error(), reviewer) {
			t.Fatal("the error holds a JWT")
		}
	})

	t.Run("manage roles", func(t *testing.T) {
		r, err := root.Logical().Read("auth/kubernetes/role/apps")
		if err != nil || r == nil {
			t.Fatalf("read role: %+v, %v", r, err)
		}
		names, _ := r.Data["bound_service_account_names"].([]any)
		if len(names) != 2 || r.Data["alias_name_source"] != "serviceaccount_uid" || r.Data["token_ttl"] != json.Number("1800") {
			t.Fatalf("role = %v", r.Data)
		}
		l, err := root.Logical().List("auth/kubernetes/role")
		if err != nil || l == nil || !slices.Contains(l.Data["keys"].([]any), any("apps")) {
			t.Fatalf("list roles = %+v, %v", l, err)
		}
		_, err = root.Logical().Write("auth/kubernetes/role/bad", map[string]any{"bound_service_account_names": "a"})
		wantStatus(t, err, 400, "bound_service_account_namespaces")
		_, err = root.Logical().Write("auth/kubernetes/config", map[string]any{"kubernetes_host": "http://127.0.0.1:1"})
		wantStatus(t, err, 400, "kubernetes_host")
		if _, err := root.Logical().Delete("auth/kubernetes/role/apps"); err != nil {
			t.Fatal(err)
		}
		_, err = vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/login", map[string]any{"role": "apps", "jwt": tokA})
		wantStatus(t, err, 400, `invalid role name "apps"`)
		// Managing roles needs a token.
		_, err = vaultClient(t, srv.Addr, "").Logical().Write("auth/kubernetes/role/x", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "*"})
		if err == nil {
			t.Fatal("role write without a token succeeded")
		}
	})

	logs := srv.Stdout.String() + srv.Stderr.String()
	for _, jwt := range []string{reviewer, tokA, tokB, tokC, forged} {
		if strings.Contains(logs, jwt) {
			t.Fatal("the server log holds a JWT")
		}
	}
}
