package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRaftMembership(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	// Vault's sample answer, protocol_version and all.
	f.on("GET", "/v1/sys/storage/raft/configuration", 200, `{"request_id":"x","lease_id":"","lease_duration":0,"renewable":false,
		"data":{"config":{"index":24,"servers":[
			{"address":"127.0.0.1:8201","leader":true,"node_id":"raft1","protocol_version":"\u0003","voter":true},
			{"address":"127.0.0.2:8201","leader":false,"node_id":"raft2","protocol_version":"3","voter":false}]}},"warnings":null}`)
	f.on("POST", "/v1/sys/storage/raft/remove-peer", 204, "")
	f.on("PUT", "/v1/sys/step-down", 204, "")
	f.on("POST", "/v1/sys/storage/raft/join", 200, `{"joined":true}`)
	sys := f.client(t, "tok").Sys()

	cfg, err := sys.RaftConfiguration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Config.Servers
	if cfg.Config.Index != 24 || len(s) != 2 || s[0].NodeID != "raft1" || !s[0].Leader || !s[0].Voter ||
		s[1].Address != "127.0.0.2:8201" || s[1].Leader || s[1].Voter {
		t.Fatalf("configuration = %+v", cfg)
	}
	if err := sys.RaftRemovePeer(ctx, "raft2"); err != nil {
		t.Fatal(err)
	}
	if got := f.last().Body["server_id"]; got != "raft2" {
		t.Errorf("remove-peer body server_id = %v", got)
	}
	if err := sys.StepDown(ctx); err != nil {
		t.Fatal(err)
	}
	if f.last().Header.Get("X-Vault-Token") != "tok" {
		t.Error("step-down sent no token")
	}
	j, err := sys.RaftJoin(ctx, "http://10.0.0.1:8200")
	if err != nil || !j.Joined {
		t.Fatalf("join = %+v, %v", j, err)
	}
	if got := f.last().Body["leader_api_addr"]; got != "http://10.0.0.1:8200" {
		t.Errorf("join body leader_api_addr = %v", got)
	}
}

func TestRaftMembershipErrors(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/sys/step-down", 403, `{"errors":["permission denied"]}`)
	f.on("POST", "/v1/sys/storage/raft/remove-peer", 400, `{"errors":["no member of the raft cluster has server_id \"x\""]}`)
	sys := f.client(t, "tok").Sys()
	if err := sys.StepDown(ctx); StatusCode(err) != 403 || !strings.HasPrefix(err.Error(), "step down: ") {
		t.Errorf("step-down err = %v", err)
	}
	if err := sys.RaftRemovePeer(ctx, "x"); StatusCode(err) != 400 || !strings.Contains(err.Error(), "server_id") {
		t.Errorf("remove-peer err = %v", err)
	}
	// No route: the fake answers a bare 404.
	if _, err := sys.RaftConfiguration(ctx); err == nil {
		t.Error("configuration without an answer succeeded")
	}
}

// snapshotServer serves GET and POST on the snapshot paths; restores are
// recorded in got.
type snapshotServer struct {
	srv   *httptest.Server
	snap  []byte
	got   map[string][]byte // path -> restored body
	ctype map[string]string
}

func newSnapshotServer(t *testing.T, snap []byte) *snapshotServer {
	s := &snapshotServer{snap: snap, got: map[string][]byte{}, ctype: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "tok" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":["permission denied"]}`)
			return
		}
		switch {
		case r.Method == "GET" && r.URL.Path == "/v1/sys/storage/raft/snapshot":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(s.snap[:len(s.snap)/2])
			w.(http.Flusher).Flush()
			if r.Header.Get("X-Cut") != "" {
				panic(http.ErrAbortHandler) // a failure mid-stream
			}
			w.Write(s.snap[len(s.snap)/2:])
		case r.Method == "POST":
			b, _ := io.ReadAll(r.Body)
			s.got[r.URL.Path] = b
			s.ctype[r.URL.Path] = r.Header.Get("Content-Type")
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func TestRaftSnapshotStreams(t *testing.T) {
	snap := bytes.Repeat([]byte("WARDRAFT\x00\x01binary"), 50_000) // ~800 KB, several chunks
	s := newSnapshotServer(t, snap)
	c, _ := New(&Config{Address: s.srv.URL, Token: "tok"})
	ctx := context.Background()

	var buf bytes.Buffer
	n, err := c.Sys().RaftSnapshot(ctx, &buf)
	if err != nil || n != int64(len(snap)) || !bytes.Equal(buf.Bytes(), snap) {
		t.Fatalf("snapshot: %d bytes, %v; equal %t", n, err, bytes.Equal(buf.Bytes(), snap))
	}

	if err := c.Sys().RaftRestore(ctx, bytes.NewReader(snap), false); err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().RaftRestore(ctx, io.MultiReader(bytes.NewReader(snap[:10]), bytes.NewReader(snap[10:])), true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/sys/storage/raft/snapshot", "/v1/sys/storage/raft/snapshot-force"} {
		if !bytes.Equal(s.got[p], snap) {
			t.Errorf("%s received %d bytes, want the %d of the snapshot", p, len(s.got[p]), len(snap))
		}
		if s.ctype[p] != "application/octet-stream" {
			t.Errorf("%s Content-Type = %q", p, s.ctype[p])
		}
	}
}

func TestRaftSnapshotFailures(t *testing.T) {
	snap := bytes.Repeat([]byte("0123456789"), 20_000)
	s := newSnapshotServer(t, snap)
	ctx := context.Background()

	noToken, _ := New(&Config{Address: s.srv.URL})
	var buf bytes.Buffer
	if _, err := noToken.Sys().RaftSnapshot(ctx, &buf); StatusCode(err) != 403 || buf.Len() != 0 {
		t.Errorf("snapshot without a token: %v, %d bytes written", err, buf.Len())
	}
	if err := noToken.Sys().RaftRestore(ctx, bytes.NewReader(snap), false); StatusCode(err) != 403 {
		t.Errorf("restore without a token: %v", err)
	}

	// A stream cut short is an error, never a short snapshot.
	cut := &Client{base: noToken.base, hc: &http.Client{Transport: headerTransport{"X-Cut": {"1"}}}, token: "tok"}
	n, err := cut.Sys().RaftSnapshot(ctx, io.Discard)
	if err == nil || n >= int64(len(snap)) {
		t.Errorf("cut snapshot: %d bytes, err %v; want an error", n, err)
	}
}

func TestRaftRestoreRedirectIsAnError(t *testing.T) {
	target := newSnapshotServer(t, nil)
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer hop.Close()
	c, _ := New(&Config{Address: hop.URL, Token: "tok"})
	// A streamed body cannot be sent twice: the redirect is not followed,
	// and it must not pass for a success.
	err := c.Sys().RaftRestore(context.Background(), io.MultiReader(strings.NewReader("snap")), false)
	if StatusCode(err) != http.StatusTemporaryRedirect || !strings.Contains(err.Error(), target.srv.URL) {
		t.Errorf("restore through a redirect: %v", err)
	}
	if len(target.got) != 0 {
		t.Errorf("the target received a restore: %v", target.got)
	}
}

// headerTransport adds headers to every request.
type headerTransport http.Header

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h {
		r.Header[k] = vs
	}
	return http.DefaultTransport.RoundTrip(r)
}
