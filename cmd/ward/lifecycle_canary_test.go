package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLifecycleNoPlaintext writes distinctive canaries (a secret value, a
// policy's text, token metadata) through a bolt server logging at
// trace level, then scans every byte of its storage directory and its
// output for them, for every token it handed out and for the unseal
// shares in each encoding.
func TestLifecycleNoPlaintext(t *testing.T) {
	t.Parallel()
	cfgDir, dataDir := t.TempDir(), t.TempDir()
	p := startConfig(t, cfgDir, lcBoltHCL(dataDir, `log_level = "trace"`))
	c := newLCClient(t, p.Addr, "")
	keys := lcInit(t, c, 3, 2)
	lcUnseal(t, c, keys.Hex[0], keys.Base64[2])
	root := c.with(keys.Root)
	lcEnableKV2(t, root)

	tag := lcRandHex(t, 8)
	secretValue := "canary-secret-" + tag
	policyName := "canary-policy-" + tag
	policyMarker := "canary-rule-" + tag
	metaValue := "canary-meta-" + tag
	policyText := `# ` + policyMarker + "\n" + `path "secret/data/app/*" { capabilities = ["read", "list"] }` + "\n"

	lcPutKV(t, root, "app/db", map[string]any{"password": secretValue, "nested": map[string]any{"deep": secretValue + "-nested"}})
	lcPutKV(t, root, "app/db", map[string]any{"password": secretValue + "-v2"})
	root.must(http.StatusNoContent, "PUT", "sys/policies/acl/"+policyName, map[string]string{"policy": policyText})
	var tokens []string
	for i := 0; i < 3; i++ {
		resp := root.must(http.StatusOK, "POST", "auth/token/create", map[string]any{
			"policies": []string{policyName}, "ttl": "1h", "meta": map[string]string{"owner": metaValue},
		})
		tok, _ := lcMap(t, resp, "auth")["client_token"].(string)
		if tok == "" {
			t.Fatalf("token create: %v", resp)
		}
		tokens = append(tokens, tok)
	}
	// The tokens work (so they really were stored), and each read or
	// failure passes through the request path and its logging.
	app := c.with(tokens[0])
	if got := lcGetKV(t, app, "app/db"); got["password"] != secretValue+"-v2" {
		t.Fatalf("canary token read: %v", got)
	}
	app.must(http.StatusForbidden, "GET", "sys/mounts", nil)
	c.with(tokens[1]+"x").must(http.StatusForbidden, "GET", "secret/data/app/db", nil)
	c.must(http.StatusBadRequest, "PUT", "sys/unseal", map[string]bool{"reset": true})
	// A body whose JSON is broken right after a secret must not echo it.
	broken := root.do("POST", "secret/data/app/broken", `{"data":{"password":"`+secretValue+`-broken"`)
	lcWantErrors(t, broken, http.StatusBadRequest, "JSON")
	if strings.Contains(string(broken.Body), secretValue) {
		t.Errorf("the error for a broken body echoes the secret: %s", broken.Body)
	}
	root.must(http.StatusNoContent, "PUT", "sys/seal", nil)
	lcUnseal(t, c, keys.Base64[1], keys.Hex[2])

	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}

	// Names (of policies, mounts, secret paths) are storage keys and, as
	// in Vault, not secret; values, tokens and keys are.
	canaries := map[string][]byte{
		"secret value":  []byte(secretValue),
		"policy text":   []byte(policyMarker),
		"token meta":    []byte(metaValue),
		"root token":    []byte(keys.Root),
		"root token id": []byte(strings.TrimPrefix(keys.Root, "ws.")),
	}
	for i, tok := range tokens {
		canaries["token "+string(rune('0'+i))] = []byte(tok)
		canaries["token id "+string(rune('0'+i))] = []byte(strings.TrimPrefix(tok, "ws."))
	}
	for i := range keys.Hex {
		raw := lcHex(t, keys.Hex[i])
		canaries["share hex "+string(rune('0'+i))] = []byte(keys.Hex[i])
		canaries["share HEX "+string(rune('0'+i))] = []byte(strings.ToUpper(keys.Hex[i]))
		canaries["share base64 "+string(rune('0'+i))] = []byte(keys.Base64[i])
		canaries["share base64url "+string(rune('0'+i))] = []byte(base64.RawURLEncoding.EncodeToString(raw))
		canaries["share bytes "+string(rune('0'+i))] = raw
	}

	files := 0
	err := filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		lcScan(t, path, data, canaries)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under the bolt directory %s", dataDir)
	}
	logs := p.Stderr.String()
	if !strings.Contains(logs, "unsealed") {
		t.Fatalf("the server log looks empty; the scan would prove nothing:\n%s", logs)
	}
	lcScan(t, "server stderr", []byte(logs), canaries)
	lcScan(t, "server stdout", []byte(p.Stdout.String()), canaries)
}

// lcScan fails the test for every canary found in data.
func lcScan(t *testing.T, where string, data []byte, canaries map[string][]byte) {
	t.Helper()
	for name, c := range canaries {
		if i := bytes.Index(data, c); i >= 0 {
			t.Errorf("%s holds the %s in plaintext at byte %d", where, name, i)
		}
	}
}

func lcRandHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
