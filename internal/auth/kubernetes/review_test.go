package kubernetes

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Real TokenReview answers, shaped as a v1.30 API server writes them.
const (
	reviewOK = `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
"spec":{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","audiences":["ward"]},
"status":{"authenticated":true,"user":{"username":"system:serviceaccount:default:a","uid":"4c4a1b6e-8f0b-4d8e-9d59-0c7b9d8f6b21",
"groups":["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"],
"extra":{"authentication.kubernetes.io/credential-id":["JTI=1c2b"],"authentication.kubernetes.io/node-name":["kind-control-plane"],
"authentication.kubernetes.io/pod-name":["a-7d4b9c-x2x5q"]}},"audiences":["ward"]}}`
	reviewDenied = `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
"spec":{"token":"x"},"status":{"user":{},"error":"[invalid bearer token, service account token has been invalidated]"}}`
	reviewOfUser = `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"x"},
"status":{"authenticated":true,"user":{"username":"kubernetes-admin","groups":["system:masters"]}}}`
	statusUnauthorized = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
)

func TestParseReview(t *testing.T) {
	sa, err := parseReview([]byte(reviewOK))
	if err != nil {
		t.Fatal(err)
	}
	if sa.Namespace != "default" || sa.Name != "a" || sa.UID != "4c4a1b6e-8f0b-4d8e-9d59-0c7b9d8f6b21" || len(sa.Audiences) != 1 || sa.Audiences[0] != "ward" {
		t.Fatalf("parsed %+v", sa)
	}

	_, err = parseReview([]byte(reviewDenied))
	if !errors.Is(err, errNotAuthenticated) || !strings.Contains(err.Error(), "invalidated") {
		t.Errorf("denied review: %v", err)
	}
	if _, err := parseReview([]byte(reviewOfUser)); !errors.Is(err, errNotServiceAccount) {
		t.Errorf("user review: %v", err)
	}
	for _, body := range []string{
		statusUnauthorized, "", "null", "[]", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":null}`,
		strings.Replace(reviewOK, "default:a", "default:a:b", 1),
		strings.Replace(reviewOK, "default:a", "default:", 1),
		strings.Replace(reviewOK, "default:a", ":a", 1),
		strings.Replace(reviewOK, "default:a", "Default:a", 1),
		strings.Replace(reviewOK, "default:a", "default:a/../b", 1),
		strings.Replace(reviewOK, "default:a", "default:{{identity.entity.id}}", 1),
		strings.Replace(reviewOK, `"uid":"4c4a1b6e-8f0b-4d8e-9d59-0c7b9d8f6b21"`, `"uid":""`, 1),
		strings.Replace(reviewOK, `"uid":"4c4a1b6e-8f0b-4d8e-9d59-0c7b9d8f6b21"`, `"uid":"a b"`, 1),
	} {
		if _, err := parseReview([]byte(body)); !errors.Is(err, errMalformedReview) {
			t.Errorf("parseReview(%.80q) = %v, want errMalformedReview", body, err)
		}
	}
}

func TestStatusMessage(t *testing.T) {
	if got := statusMessage([]byte(statusUnauthorized)); got != "Unauthorized" {
		t.Errorf("statusMessage = %q", got)
	}
	if got := statusMessage([]byte(reviewOK)); got != "" {
		t.Errorf("statusMessage of a TokenReview = %q", got)
	}
	long := `{"kind":"Status","message":"` + strings.Repeat("é", 300) + "\n" + `"}`
	if got := statusMessage([]byte(long)); len(got) > 210 || !utf8.ValidString(got) {
		t.Errorf("long message not shortened to valid UTF-8: %d bytes", len(got))
	}
}

func TestParseClaims(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/secret.name":"a-token-x"}`))
	c, err := parseClaims("e30." + payload + ".sig")
	if err != nil || c.Issuer != "kubernetes/serviceaccount" || c.SecretName != "a-token-x" {
		t.Fatalf("parseClaims = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "e30.!!!.sig", "e30." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".s"} {
		if _, err := parseClaims(bad); err == nil {
			t.Errorf("parseClaims(%q) succeeded", bad)
		}
	}
}

// FuzzParseReview: any answer either parses to a service account whose
// names are safe to put in a policy path, or fails with a known error.
func FuzzParseReview(f *testing.F) {
	for _, s := range []string{reviewOK, reviewDenied, reviewOfUser, statusUnauthorized, "", "{}", `{"status":{"authenticated":true}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sa, err := parseReview(body)
		if err != nil {
			if sa != nil {
				t.Fatal("error with a result")
			}
			if !errors.Is(err, errMalformedReview) && !errors.Is(err, errNotAuthenticated) && !errors.Is(err, errNotServiceAccount) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if sa.Namespace == "" || sa.Name == "" || sa.UID == "" {
			t.Fatalf("empty field in %+v", sa)
		}
		for _, s := range []string{sa.Namespace, sa.Name} {
			if strings.ContainsAny(s, "/*+:{} ") || strings.Contains(s, "..") {
				t.Fatalf("unsafe name %q", s)
			}
		}
		if !printable(sa.UID) {
			t.Fatalf("unprintable uid %q", sa.UID)
		}
	})
}

func FuzzParseClaims(f *testing.F) {
	f.Add("e30.e30.c2ln")
	f.Add("eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x","kubernetes.io/serviceaccount/secret.name":"s"}`)) + ".c2ln")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, jwt string) {
		c, err := parseClaims(jwt)
		if err != nil && (c != claims{}) {
			t.Fatal("error with claims")
		}
	})
}
