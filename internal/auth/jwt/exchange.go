package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// exchange redeems an authorization code at the provider's token endpoint
// (RFC 6749 §4.1.3 with the PKCE verifier of RFC 7636) and returns the ID
// token. The client authenticates with client_secret_basic unless the
// provider supports only client_secret_post. Errors never quote the code,
// the secret or a token.
func (p *provider) exchange(ctx context.Context, doc *discoveryDoc, code, redirectURI, verifier string) (string, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
	methods := doc.TokenAuthMethods
	post := slices.Contains(methods, "client_secret_post") && !slices.Contains(methods, "client_secret_basic")
	if post {
		form.Set("client_id", p.cfg.OIDCClientID)
		form.Set("client_secret", p.cfg.OIDCClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, doc.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errors.New("the provider's token_endpoint is not a URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !post {
		req.SetBasicAuth(url.QueryEscape(p.cfg.OIDCClientID), url.QueryEscape(p.cfg.OIDCClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("token endpoint: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return "", fmt.Errorf("token endpoint: %v", err)
	}
	if len(body) > maxFetch {
		return "", errors.New("token endpoint: response too large")
	}
	var out struct {
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		if jsonErr == nil && out.Error != "" {
			return "", fmt.Errorf("token endpoint answered HTTP %d: %s", resp.StatusCode, truncate(strings.TrimSpace(out.Error+" "+out.ErrorDescription), 200))
		}
		return "", fmt.Errorf("token endpoint answered HTTP %d", resp.StatusCode)
	}
	if jsonErr != nil {
		return "", errors.New("token endpoint: the response is not JSON")
	}
	if out.IDToken == "" {
		return "", errors.New("token endpoint: the response has no id_token")
	}
	return out.IDToken, nil
}
