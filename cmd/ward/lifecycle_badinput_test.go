package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// lcBadRequest is one malformed request and what the server must answer.
// want 0 means "any 4xx".
type lcBadRequest struct {
	method, path string
	body         any
	header       []string
	want         int
}

// TestLifecycleBadInput throws malformed requests at a running server and
// checks that each gets a 4xx, that none kills or seals the server, and
// that it still serves real requests afterwards.
func TestLifecycleBadInput(t *testing.T) {
	t.Parallel()
	p := startConfig(t, t.TempDir(), strings.Replace(lcInmemHCL, "tls_disable = true", "tls_disable = true\n  max_request_size = 65536", 1))
	hostPort := strings.TrimPrefix(p.Addr, "http://")
	c := newLCClient(t, p.Addr, "")
	keys := lcInit(t, c, 1, 1)
	lcUnseal(t, c, keys.Hex[0])
	root := c.with(keys.Root)
	lcEnableKV2(t, root)
	lcPutKV(t, root, "app/db", map[string]any{"password": "still-here"})
	check := func(what string) {
		t.Helper()
		lcAlive(t, p)
		if st := lcSealStatus(t, c); st["sealed"] != false {
			t.Fatalf("%s sealed the server: %v", what, st)
		}
	}

	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	const kvData = "secret/data/app/bad"
	for _, rq := range []lcBadRequest{
		// Bodies that are not a JSON object.
		{"POST", kvData, "{not json", nil, 400},
		{"POST", kvData, "[1,2,3]", nil, 400},
		{"POST", kvData, `"a string"`, nil, 400},
		{"POST", kvData, "12", nil, 400},
		{"POST", kvData, `{"data":{"a":"b"}} {"data":{}}`, nil, 400},
		{"POST", kvData, `{"data":{"a":"b"}`, nil, 400},
		{"POST", kvData, `{"data":{"a":` + deep + `}}`, nil, 400},
		{"POST", kvData, "\x00\x01\x02\xff\xfe", nil, 400},
		{"POST", kvData, "a=%zz&b", []string{"Content-Type", "application/x-www-form-urlencoded"}, 400},
		{"PUT", "sys/init", "{bad", nil, 400},
		{"PUT", "sys/unseal", "{bad", nil, 400},
		// Wrong types and values.
		{"POST", kvData, `{"data":"not an object"}`, nil, 400},
		{"POST", kvData, `{"data":[1,2]}`, nil, 400},
		{"POST", kvData, `{"data":{"a":"b"},"options":"x"}`, nil, 400},
		{"POST", kvData, `{"data":{"a":"b"},"options":{"cas":"abc"}}`, nil, 400},
		{"POST", kvData, `{"data":{"a":"b"},"options":{"cas":-1}}`, nil, 400},
		{"POST", "secret/metadata/app/bad", `{"max_versions":"many"}`, nil, 400},
		{"POST", "secret/metadata/app/bad", `{"max_versions":-1}`, nil, 400},
		{"POST", "secret/metadata/app/bad", `{"delete_version_after":"forever"}`, nil, 400},
		{"POST", "secret/metadata/app/bad", `{"custom_metadata":{"a":{"b":1}}}`, nil, 400},
		{"POST", "secret/destroy/app/db", `{"versions":"x"}`, nil, 400},
		{"POST", "secret/destroy/app/db", `{"versions":[1e99]}`, nil, 400},
		{"POST", "secret/delete/app/db", `{"versions":[{"a":1}]}`, nil, 400},
		{"GET", kvData + "?version=abc", nil, nil, 400},
		{"GET", kvData + "?version=99999999999999999999", nil, nil, 400},
		{"GET", "secret/metadata/?list=maybe", nil, nil, 400},
		{"POST", "sys/mounts/bad", `{"type":5}`, nil, 400},
		{"POST", "sys/mounts/bad", `{"type":"no-such-engine"}`, nil, 400},
		{"POST", "sys/mounts/bad", `{"type":"kv","options":"x"}`, nil, 400},
		{"POST", "sys/mounts/bad", `{"type":"kv","config":{"default_lease_ttl":"soon"}}`, nil, 400},
		{"POST", "sys/mounts/sys", `{"type":"kv"}`, nil, 400},
		{"DELETE", "sys/mounts/sys", nil, nil, 400},
		{"POST", "auth/token/create", `{"ttl":{"a":1}}`, nil, 400},
		{"POST", "auth/token/create", `{"policies":{"a":1}}`, nil, 400},
		{"POST", "auth/token/create", `{"num_uses":"many"}`, nil, 400},
		{"POST", "auth/token/create", `{"ttl":"-5s"}`, nil, 400},
		{"POST", "auth/token/create", `{"meta":{"a":{"b":1}}}`, nil, 400},
		{"POST", "auth/token/lookup", `{"token":5}`, nil, 0},
		{"PUT", "sys/policies/acl/bad", `{"policy":"path {"}`, nil, 400},
		{"PUT", "sys/policies/acl/bad", `{"policy":5}`, nil, 400},
		{"PUT", "sys/policies/acl/bad", `{"policy":"path \"x\" { capabilities = [\"fly\"] }"}`, nil, 400},
		{"PUT", "sys/policies/acl/root", `{"policy":"path \"*\" { capabilities = [\"read\"] }"}`, nil, 400},
		{"DELETE", "sys/policies/acl/default", nil, nil, 400},
		{"PUT", "sys/init", `{"secret_shares":"five"}`, nil, 400},
		{"GET", "sys/health?sealedcode=abc", nil, nil, 400},
		{"GET", "sys/health?activecode=99999", nil, nil, 400},
		// Parent references, plain and encoded, must not reach sys/seal.
		{"PUT", "secret/../sys/seal", nil, nil, 400},
		{"PUT", "secret/data/../../sys/seal", nil, nil, 400},
		{"PUT", "secret/%2e%2e/sys/seal", nil, nil, 400},
		{"PUT", "secret/data/..", nil, nil, 400},
		{"GET", "..", nil, nil, 400},
		// Odd paths.
		{"GET", "secret/data/a%00b", nil, nil, 0},
		{"GET", "secret/data/" + strings.Repeat("x", 4000), nil, nil, 0},
		{"GET", "secret/data/\xff\xfe", nil, nil, 0},
		// Methods and headers.
		{"FOO", kvData, nil, nil, 405},
		{"PROPFIND", kvData, nil, nil, 405},
		{"TRACE", kvData, nil, nil, 405},
		{"OPTIONS", kvData, nil, nil, 405},
		{"PATCH", kvData, `{"data":{"a":"b"}}`, nil, 415},
		{"PATCH", kvData, "{bad", []string{"Content-Type", "application/merge-patch+json"}, 400},
		{"GET", "sys/seal-status", nil, []string{"X-Vault-Namespace", "team-a"}, 400},
		{"GET", kvData, nil, []string{"X-Vault-Wrap-TTL", "soon"}, 400},
		{"GET", kvData, nil, []string{"X-Vault-Wrap-TTL", "-5m"}, 400},
		{"POST", "sys/unseal", `{"key":"` + strings.Repeat("ab", 70000) + `"}`, nil, 413},
		{"POST", kvData, `{"data":{"a":"` + strings.Repeat("x", 70000) + `"}}`, nil, 413},
	} {
		what := rq.method + " " + lcShort(rq.path)
		header := append([]string{}, rq.header...)
		r := root.do(rq.method, rq.path, rq.body, header...)
		switch {
		case rq.want != 0 && r.Status != rq.want:
			t.Errorf("%s: HTTP %d, want %d: %s", what, r.Status, rq.want, lcShort(string(r.Body)))
		case rq.want == 0 && (r.Status < 400 || r.Status > 499):
			t.Errorf("%s: HTTP %d, want a 4xx: %s", what, r.Status, lcShort(string(r.Body)))
		}
		if strings.Contains(string(r.Body), "still-here") {
			t.Errorf("%s: the answer holds a secret: %s", what, lcShort(string(r.Body)))
		}
		check(what)
	}

	// Below HTTP: garbage, lies about lengths, huge headers, bad tokens.
	for _, raw := range []struct{ name, req string }{
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n"},
		{"bad request line", "GET\r\n\r\n"},
		{"bad version", "GET /v1/sys/health HTTP/9.9\r\nHost: x\r\n\r\n"},
		{"short body", "POST /v1/" + kvData + " HTTP/1.1\r\nHost: x\r\nX-Vault-Token: " + keys.Root + "\r\nContent-Length: 100\r\n\r\n{\"data\":"},
		{"bad content length", "POST /v1/" + kvData + " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"},
		{"bad chunking", "POST /v1/" + kvData + " HTTP/1.1\r\nHost: x\r\nX-Vault-Token: " + keys.Root + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"},
		{"token with control bytes", "GET /v1/" + kvData + " HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ws.\x01\x7f\r\n\r\n"},
		{"unclean path", "PUT /v1/secret/../sys/seal HTTP/1.1\r\nHost: x\r\nX-Vault-Token: " + keys.Root + "\r\nContent-Length: 0\r\n\r\n"},
		{"absolute URI", "PUT http://x/v1/secret/../sys/seal HTTP/1.1\r\nHost: x\r\nX-Vault-Token: " + keys.Root + "\r\nContent-Length: 0\r\n\r\n"},
		{"huge header", "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"},
		{"many headers", "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 200000) + "\r\n"},
	} {
		status := lcRawRequest(t, hostPort, raw.req)
		if status != 0 && status < 400 {
			t.Errorf("raw %s: HTTP %d, want a 4xx or a closed connection", raw.name, status)
		}
		check("raw " + raw.name)
	}

	// Bad tokens are refused, never fatal.
	for _, tok := range []string{"ws.", "ws." + strings.Repeat("A", 10000), "root", "' OR 1=1 --", "ws.../../x"} {
		lcWantErrors(t, c.with(tok).do("GET", "secret/data/app/db", nil), http.StatusForbidden, "permission denied")
	}
	check("bad tokens")

	// The server is still whole.
	if got := lcGetKV(t, root, "app/db"); got["password"] != "still-here" {
		t.Fatalf("after the battery: %v", got)
	}
	if v := lcPutKV(t, root, "app/after", map[string]any{"ok": "yes"}); v != 1 {
		t.Fatalf("write after the battery: version %d", v)
	}
	root.must(http.StatusNotFound, "GET", "secret/data/app/bad", nil)
	if code := p.Stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Stderr.String())
	}
}

// lcRawRequest writes raw bytes to the server and returns the status of
// the first response, or 0 if the server closed the connection without
// one.
func lcRawRequest(t testing.TB, hostPort, raw string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", hostPort, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// The server may answer and close before reading everything; a write
	// error is then expected.
	go func() { _, _ = conn.Write([]byte(raw)) }()
	if tcp, ok := conn.(*net.TCPConn); ok && strings.Contains(raw, "Content-Length: 100") {
		// Send the short body, then half-close so the server sees EOF.
		time.Sleep(50 * time.Millisecond)
		_ = tcp.CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func lcShort(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
