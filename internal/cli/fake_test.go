package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeServer speaks enough of the wire format (API-COMPAT.md) for the CLI
// tests: seal lifecycle, a KV v2 mount at secret/, a KV v1 mount at kv/,
// policies, tokens and mounts. The only valid token is "root" unless
// tokens are added.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	initialized bool
	sealed      bool
	progress    int
	tokens      map[string][]string // token → policies
	policies    map[string]string
	mounts      map[string]map[string]any
	kv1         map[string]map[string]any
	kv2         map[string][]kvVersion // path → versions (index+1 = version)
	kv2meta     map[string]map[string]any
	noPatch     bool      // answer PATCH with 405
	requests    []fakeReq // every request seen
}

type kvVersion struct {
	data    map[string]any
	deleted bool
}

type fakeReq struct {
	Method, Path, Query, Token string
	Body                       map[string]any
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{
		t:           t,
		initialized: true,
		tokens:      map[string][]string{"root": {"root"}},
		policies:    map[string]string{"default": `path "auth/token/lookup-self" { capabilities = ["read"] }`},
		mounts: map[string]map[string]any{
			"secret/":    {"type": "kv", "accessor": "kv_aaaa1111", "description": "key/value secrets", "options": map[string]any{"version": "2"}, "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0}},
			"kv/":        {"type": "kv", "accessor": "kv_bbbb2222", "description": "", "options": nil, "local": true, "config": map[string]any{"default_lease_ttl": 3600, "max_lease_ttl": 0}},
			"sys/":       {"type": "system", "accessor": "system_cccc", "description": "system endpoints", "options": nil, "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0}},
			"cubbyhole/": {"type": "cubbyhole", "accessor": "cubbyhole_dd", "description": "per-token private secret storage", "options": nil, "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0}},
		},
		kv1:     map[string]map[string]any{},
		kv2:     map[string][]kvVersion{},
		kv2meta: map[string]map[string]any{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) last() fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("no request reached the server")
	}
	return f.requests[len(f.requests)-1]
}

// lastTo returns the last request to path.
func (f *fakeServer) lastTo(path string) fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no request to %s", path)
	return fakeReq{}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func errs(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": msgs})
}

func envelope(data map[string]any) map[string]any {
	return map[string]any{"request_id": "req-1", "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": data, "wrap_info": nil, "warnings": nil, "auth": nil}
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			errs(w, 400, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	tok := r.Header.Get("X-Vault-Token")
	f.requests = append(f.requests, fakeReq{Method: r.Method, Path: path, Query: r.URL.RawQuery, Token: tok, Body: body})
	if r.Header.Get("X-Vault-Request") != "true" {
		errs(w, 400, "missing X-Vault-Request header")
		return
	}
	method := r.Method
	if method == "GET" && r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}

	switch path {
	case "sys/seal-status":
		writeJSON(w, 200, f.sealStatus())
		return
	case "sys/init":
		if method == "GET" {
			writeJSON(w, 200, map[string]any{"initialized": f.initialized})
			return
		}
		if f.initialized {
			errs(w, 400, "Vault is already initialized")
			return
		}
		n, _ := body["secret_shares"].(json.Number).Int64()
		f.initialized = true
		keys := make([]string, n)
		b64 := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("%02x", i+1)
			b64[i] = fmt.Sprintf("key%d==", i+1)
		}
		writeJSON(w, 200, map[string]any{"keys": keys, "keys_base64": b64, "root_token": "hvs.newroot"})
		return
	case "sys/unseal":
		if body["reset"] == true {
			f.progress = 0
		} else if k, _ := body["key"].(string); !strings.HasPrefix(k, "key") {
			errs(w, 400, "invalid key")
			return
		} else if f.progress++; f.progress >= 3 {
			f.sealed, f.progress = false, 0
		}
		writeJSON(w, 200, f.sealStatus())
		return
	case "sys/leader":
		writeJSON(w, 200, map[string]any{"ha_enabled": false, "is_self": false, "leader_address": "", "leader_cluster_address": ""})
		return
	case "sys/wrapping/unwrap":
		wt := tok
		if t, ok := body["token"].(string); ok {
			wt = t
		}
		if wt != "wrap1" {
			errs(w, 400, "wrapping token is not valid or does not exist")
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"secret_id": "s3cr3t"}))
		return
	}
	if f.sealed {
		errs(w, 503, "Vault is sealed")
		return
	}
	if _, ok := f.tokens[tok]; !ok {
		errs(w, 403, "permission denied")
		return
	}
	if ttl := r.Header.Get("X-Vault-Wrap-TTL"); ttl != "" {
		writeJSON(w, 200, map[string]any{"request_id": "", "data": nil, "auth": nil, "wrap_info": map[string]any{
			"token": "wrap1", "accessor": "wacc", "ttl": 300, "creation_time": "2024-01-01T00:00:00Z", "creation_path": path}})
		return
	}
	f.route(w, method, path, r.URL.Query().Get("version"), body, tok)
}

func (f *fakeServer) sealStatus() map[string]any {
	return map[string]any{"type": "shamir", "initialized": f.initialized, "sealed": f.sealed, "t": 3, "n": 5,
		"progress": f.progress, "nonce": "", "version": "0.1.0", "build_date": "2024-01-01T00:00:00Z",
		"migration": false, "recovery_seal": false, "storage_type": "inmem"}
}

func (f *fakeServer) route(w http.ResponseWriter, method, path, version string, body map[string]any, tok string) {
	switch {
	case strings.HasPrefix(path, "sys/internal/ui/mounts/"):
		p := strings.TrimPrefix(path, "sys/internal/ui/mounts/")
		for m, info := range f.mounts {
			if strings.HasPrefix(p+"/", m) {
				d := map[string]any{"path": m}
				for k, v := range info {
					d[k] = v
				}
				writeJSON(w, 200, envelope(d))
				return
			}
		}
		errs(w, 403, `preflight capability check returned 403, please ensure client's policies grant access to path "`+p+`/"`)
	case strings.HasPrefix(path, "secret/"):
		f.kvV2(w, method, strings.TrimPrefix(path, "secret/"), version, body)
	case strings.HasPrefix(path, "kv/") || path == "kv":
		f.kvV1(w, method, strings.TrimSuffix(strings.TrimPrefix(path, "kv/"), "/"), body)
	case path == "sys/policies/acl" && method == "LIST":
		keys := []string{"root"}
		for k := range f.policies {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSON(w, 200, envelope(map[string]any{"keys": keys}))
	case strings.HasPrefix(path, "sys/policies/acl/"):
		name := strings.TrimPrefix(path, "sys/policies/acl/")
		switch method {
		case "GET":
			p, ok := f.policies[name]
			if !ok {
				errs(w, 404)
				return
			}
			writeJSON(w, 200, envelope(map[string]any{"name": name, "policy": p}))
		case "PUT":
			f.policies[name] = body["policy"].(string)
			w.WriteHeader(204)
		case "DELETE":
			if name == "default" {
				errs(w, 400, "cannot delete default policy")
				return
			}
			delete(f.policies, name)
			w.WriteHeader(204)
		}
	case path == "sys/mounts" || path == "sys/auth":
		out := map[string]any{}
		if path == "sys/mounts" {
			for k, v := range f.mounts {
				out[k] = v
			}
		} else {
			out["token/"] = map[string]any{"type": "token", "accessor": "auth_token_1234", "description": "token based credentials", "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0}}
		}
		writeJSON(w, 200, envelope(out))
	case strings.HasPrefix(path, "sys/mounts/") || strings.HasPrefix(path, "sys/auth/"):
		w.WriteHeader(204) // enable, disable and tune: recorded, not applied
	case path == "sys/capabilities-self":
		writeJSON(w, 200, envelope(map[string]any{"capabilities": []string{"update", "read"}}))
	case strings.HasPrefix(path, "auth/token/"):
		f.token(w, strings.TrimPrefix(path, "auth/token/"), body, tok)
	default:
		errs(w, 404, "no handler for route \""+path+"\". route entry not found.")
	}
}

func (f *fakeServer) token(w http.ResponseWriter, op string, body map[string]any, tok string) {
	switch op {
	case "lookup-self", "lookup":
		id := tok
		if t, ok := body["token"].(string); ok {
			id = t
		}
		pols, ok := f.tokens[id]
		if !ok {
			errs(w, 403, "bad token")
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"id": id, "accessor": "acc-" + id, "policies": pols, "ttl": 0,
			"expire_time": nil, "type": "service", "display_name": "token", "meta": nil, "num_uses": 0, "orphan": true}))
	case "create", "create-orphan":
		var pols []string
		if list, ok := body["policies"].([]any); ok {
			for _, p := range list {
				pols = append(pols, p.(string))
			}
		}
		newTok := "hvs.child" + strconv.Itoa(len(f.tokens))
		f.tokens[newTok] = pols
		meta := map[string]string{}
		if m, ok := body["meta"].(map[string]any); ok {
			for k, v := range m {
				meta[k] = v.(string)
			}
		}
		writeJSON(w, 200, map[string]any{"request_id": "r", "data": nil, "auth": map[string]any{
			"client_token": newTok, "accessor": "acc-" + newTok, "policies": append([]string{"default"}, pols...),
			"token_policies": append([]string{"default"}, pols...), "metadata": meta, "lease_duration": 3600,
			"renewable": body["renewable"] != false, "entity_id": "", "token_type": "service", "orphan": op == "create-orphan", "num_uses": 0}})
	case "renew-self":
		writeJSON(w, 200, map[string]any{"auth": map[string]any{"client_token": tok, "accessor": "acc", "policies": f.tokens[tok],
			"metadata": nil, "lease_duration": 7200, "renewable": true}})
	case "revoke-self", "revoke", "revoke-accessor", "revoke-orphan":
		w.WriteHeader(204)
	default:
		errs(w, 404)
	}
}

func (f *fakeServer) kvV1(w http.ResponseWriter, method, p string, body map[string]any) {
	switch method {
	case "GET":
		d, ok := f.kv1[p]
		if !ok {
			errs(w, 404)
			return
		}
		e := envelope(d)
		e["lease_duration"] = 3600
		writeJSON(w, 200, e)
	case "PUT":
		f.kv1[p] = body
		w.WriteHeader(204)
	case "DELETE":
		delete(f.kv1, p)
		w.WriteHeader(204)
	case "LIST":
		var keys []string
		for k := range f.kv1 {
			if rest, ok := strings.CutPrefix(k, strings.TrimSuffix(p+"/", "/")+"/"); ok || p == "" {
				if p == "" {
					rest = k
				}
				if i := strings.Index(rest, "/"); i >= 0 {
					rest = rest[:i+1]
				}
				keys = append(keys, rest)
			}
		}
		if len(keys) == 0 {
			errs(w, 404)
			return
		}
		sort.Strings(keys)
		writeJSON(w, 200, envelope(map[string]any{"keys": keys}))
	}
}

func versionMeta(v int, kv kvVersion) map[string]any {
	del := ""
	if kv.deleted {
		del = "2024-01-02T00:00:00Z"
	}
	return map[string]any{"created_time": "2024-01-01T00:00:00Z", "custom_metadata": nil,
		"deletion_time": del, "destroyed": false, "version": v}
}

func (f *fakeServer) kvV2(w http.ResponseWriter, method, p string, version string, body map[string]any) {
	kind, key, _ := strings.Cut(p, "/")
	vs := f.kv2[key]
	switch kind + " " + method {
	case "data GET":
		if len(vs) == 0 {
			errs(w, 404)
			return
		}
		n := len(vs)
		if version != "" {
			n, _ = strconv.Atoi(version)
			if n < 1 || n > len(vs) {
				errs(w, 404)
				return
			}
		}
		v := vs[n-1]
		if v.deleted {
			writeJSON(w, 404, envelope(map[string]any{"data": nil, "metadata": versionMeta(n, v)}))
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"data": v.data, "metadata": versionMeta(n, v)}))
	case "data PUT", "data PATCH":
		if method == "PATCH" && f.noPatch {
			errs(w, 405, "unsupported operation")
			return
		}
		opts, _ := body["options"].(map[string]any)
		if c, ok := opts["cas"].(json.Number); ok {
			if n, _ := c.Int64(); int(n) != len(vs) {
				errs(w, 400, "check-and-set parameter did not match the current version")
				return
			}
		}
		data, _ := body["data"].(map[string]any)
		if method == "PATCH" {
			if len(vs) == 0 {
				errs(w, 404)
				return
			}
			merged := map[string]any{}
			for k, v := range vs[len(vs)-1].data {
				merged[k] = v
			}
			for k, v := range data {
				merged[k] = v
			}
			data = merged
		}
		f.kv2[key] = append(vs, kvVersion{data: data})
		writeJSON(w, 200, envelope(versionMeta(len(vs)+1, kvVersion{})))
	case "data DELETE":
		if len(vs) > 0 {
			vs[len(vs)-1].deleted = true
		}
		w.WriteHeader(204)
	case "delete PUT", "undelete PUT":
		for _, n := range body["versions"].([]any) {
			i, _ := n.(json.Number).Int64()
			if int(i) <= len(vs) {
				vs[i-1].deleted = kind == "delete"
			}
		}
		w.WriteHeader(204)
	case "destroy PUT":
		w.WriteHeader(204)
	case "metadata GET":
		if len(vs) == 0 && f.kv2meta[key] == nil {
			errs(w, 404)
			return
		}
		versions := map[string]any{}
		for i, v := range vs {
			m := versionMeta(i+1, v)
			delete(m, "version")
			delete(m, "custom_metadata")
			versions[strconv.Itoa(i+1)] = m
		}
		d := map[string]any{"cas_required": false, "created_time": "2024-01-01T00:00:00Z", "current_version": len(vs),
			"custom_metadata": nil, "delete_version_after": "0s", "max_versions": 0, "oldest_version": 0,
			"updated_time": "2024-01-01T00:00:00Z", "versions": versions}
		for k, v := range f.kv2meta[key] {
			d[k] = v
		}
		writeJSON(w, 200, envelope(d))
	case "metadata PUT":
		f.kv2meta[key] = body
		w.WriteHeader(204)
	case "metadata DELETE":
		delete(f.kv2, key)
		delete(f.kv2meta, key)
		w.WriteHeader(204)
	case "metadata LIST":
		var keys []string
		for k := range f.kv2 {
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			errs(w, 404)
			return
		}
		sort.Strings(keys)
		writeJSON(w, 200, envelope(map[string]any{"keys": keys}))
	default:
		errs(w, 405, "unsupported operation")
	}
}
