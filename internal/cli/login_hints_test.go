package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wardsec/ward/client"
)

func TestLoginHints(t *testing.T) {
	refused := func(code int, msg string) error {
		return fmt.Errorf("login at auth/x/login: %w", &client.ResponseError{Method: "PUT", URL: "http://h/v1/auth/x/login", StatusCode: code, Errors: []string{msg}})
	}
	tests := []struct {
		name, method, mount string
		err                 error
		want                []string // substrings, one per hint, in order
	}{
		{"bad password", "userpass", "userpass", refused(400, "invalid username or password"), []string{"check the username and password"}},
		{"locked or no mount", "userpass", "people/", refused(403, "permission denied"), []string{"locked", "userpass auth method enabled at auth/people/?"}},
		{"used-up secret ID", "approle", "apps", refused(400, "invalid role or secret ID"), []string{"`ward write -f auth/apps/role/<name>/secret-id`"}},
		{"no approle mount", "approle", "approle", refused(403, "permission denied"), []string{"approle auth method enabled at auth/approle/?"}},
		{"expired JWT", "jwt", "jwt", refused(400, "token is expired"), []string{"claims"}},
		{"no client certificate", "cert", "cert", refused(400, "client certificate must be supplied"), []string{"WARD_CLIENT_CERT"}},
		// A 403 with its own reason is the method's refusal, not a mount
		// that is missing or a token's policy.
		{"outside bound CIDRs", "userpass", "userpass", refused(403, "permission denied: login request originated from an address outside the user's token_bound_cidrs"), []string{"WARD_TOKEN is not the cause"}},
		{"service account not bound", "kubernetes", "kubernetes", refused(403, "service account name not authorized"), []string{"bound to the role"}},
		{"server error", "approle", "approle", refused(500, "internal error"), nil},
		{"not a response", "approle", "approle", errors.New("dial tcp: connection refused"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loginHints(tt.err, tt.method, tt.mount)
			if err.Error() != tt.err.Error() {
				t.Errorf("message changed: %q", err)
			}
			var re *client.ResponseError
			if errors.As(tt.err, &re) && !errors.As(err, &re) {
				t.Errorf("the response error is no longer reachable")
			}
			var got []string
			var he *hintedError
			if errors.As(err, &he) {
				got = he.hints
			}
			if len(got) != len(tt.want) {
				t.Fatalf("hints = %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("hint %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
