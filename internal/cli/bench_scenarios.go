package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// benchNeeds says what a scenario needs set up on the server.
type benchNeeds uint8

const (
	needKV benchNeeds = 1 << iota
	needTransit
	needAppRole
	needToken // the workload token; every server scenario has it
)

// benchScenario is one kind of load.
type benchScenario struct {
	name    string
	summary string
	needs   benchNeeds
	// newOp returns worker w's operation over env's prepared requests.
	newOp func(env *benchEnv, w int) benchOp
}

// benchScenarios lists the scenarios in the order "all" runs them: the two
// that leave a token behind per operation come last, since a server's
// work grows with its token count on some storage backends.
var benchScenarios = []benchScenario{
	{name: "bare", summary: "GET a fixed 300-byte JSON answer from a bare Go server in its own process",
		newOp: newKVOp(0)},
	{name: "kv2-read", summary: "read a random one of -keys KV v2 secrets",
		needs: needKV | needToken, newOp: newKVOp(0)},
	{name: "kv2-write", summary: "write a new version of a random KV v2 secret",
		needs: needKV | needToken, newOp: newKVOp(10)},
	{name: "kv2-mixed", summary: "90% kv2-read, 10% kv2-write",
		needs: needKV | needToken, newOp: newKVOp(1)},
	{name: "transit-encrypt", summary: "encrypt -value-size bytes with a transit aes256-gcm96 key",
		needs: needTransit | needToken, newOp: newFixedOp(func(e *benchEnv) *benchRequest { return e.encrypt })},
	{name: "wrap-unwrap", summary: "wrap -value-size bytes, then unwrap them (two requests per op)",
		needs: needToken, newOp: newWrapOp},
	{name: "token-create", summary: "create a child token of the workload token (policy default)",
		needs: needToken, newOp: newFixedOp(func(e *benchEnv) *benchRequest { return e.tokenCreate })},
	{name: "approle-login", summary: "log in with an AppRole role and secret ID (skipped without approle)",
		needs: needAppRole | needToken, newOp: newFixedOp(func(e *benchEnv) *benchRequest { return e.login })},
}

func findScenario(name string) (benchScenario, bool) {
	for _, s := range benchScenarios {
		if s.name == name {
			return s, true
		}
	}
	return benchScenario{}, false
}

// benchEnv holds the requests of a target, encoded once: the load only
// copies them.
type benchEnv struct {
	target      *benchTarget
	kvRead      []*benchRequest // one per key
	kvWrite     []*benchRequest // one per key
	encrypt     *benchRequest
	tokenCreate *benchRequest
	login       *benchRequest
	wrap        *benchRequest
	unwrap      *benchRequest // body set per call
}

// benchValue returns n printable bytes, the same for every key.
func benchValue(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+3)%len(alphabet)]
	}
	return string(b)
}

// mustJSON encodes v, whose types cannot fail to encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("bench: encode %T: %v", v, err))
	}
	return b
}

// addKV prepares reads and writes of keys k0…k<keys-1> under the KV v2
// mount.
func (e *benchEnv) addKV(ctx context.Context, mount string, keys int, value string) {
	body := mustJSON(map[string]any{"data": map[string]string{"value": value}, "options": map[string]any{}})
	jsonHeader := e.target.header.Clone()
	jsonHeader["Content-Type"] = []string{"application/json"}
	e.kvRead = make([]*benchRequest, keys)
	e.kvWrite = make([]*benchRequest, keys)
	for i := range keys {
		u := e.target.url(mount + "/data/k" + strconv.Itoa(i))
		e.kvRead[i] = newBenchRequest(ctx, "kv read", http.MethodGet, u, e.target.header, nil)
		e.kvWrite[i] = newBenchRequest(ctx, "kv write", http.MethodPost, u, jsonHeader, body)
	}
}

// addTransit prepares encryptions of value with key under mount.
func (e *benchEnv) addTransit(ctx context.Context, mount, key string, value string) {
	body := mustJSON(map[string]string{"plaintext": base64.StdEncoding.EncodeToString([]byte(value))})
	e.encrypt = e.post(ctx, "transit encrypt", mount+"/encrypt/"+key, e.target.header, body)
}

// addToken prepares child token creation and wrapping.
// Child tokens get ttl.
func (e *benchEnv) addToken(ctx context.Context, value, ttl string) {
	e.tokenCreate = e.post(ctx, "token create", "auth/token/create", e.target.header,
		mustJSON(map[string]any{"policies": []string{"default"}, "ttl": ttl, "display_name": "bench"}))
	wrapHeader := e.target.header.Clone()
	wrapHeader["X-Vault-Wrap-Ttl"] = []string{"5m"}
	e.wrap = e.post(ctx, "wrap", "sys/wrapping/wrap", wrapHeader, mustJSON(map[string]string{"value": value}))
	e.unwrap = e.post(ctx, "unwrap", "sys/wrapping/unwrap", e.target.header, []byte(`{}`))
}

// addLogin prepares AppRole logins; login requests carry no token.
func (e *benchEnv) addLogin(ctx context.Context, mount, roleID, secretID string) {
	h := e.target.header.Clone()
	delete(h, "X-Vault-Token")
	e.login = e.post(ctx, "approle login", "auth/"+mount+"/login", h,
		mustJSON(map[string]string{"role_id": roleID, "secret_id": secretID}))
}

func (e *benchEnv) post(ctx context.Context, what, path string, h http.Header, body []byte) *benchRequest {
	if body != nil {
		h = h.Clone()
		h["Content-Type"] = []string{"application/json"}
	}
	return newBenchRequest(ctx, what, http.MethodPost, e.target.url(path), h, body)
}

// benchRand is a xorshift64* generator: cheap, lock-free, per worker.
type benchRand uint64

func newBenchRand(seed int) benchRand {
	return benchRand(uint64(seed)*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D)
}

func (r *benchRand) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = benchRand(x)
	return x * 0x2545F4914F6CDD1D
}

// kvOp reads or writes a random key; writeEvery is 0 (reads only), 1
// (one write in ten) or 10 (writes only).
type kvOp struct {
	env        *benchEnv
	rng        benchRand
	buf        []byte
	writeEvery uint64
}

func newKVOp(writeTenths uint64) func(*benchEnv, int) benchOp {
	return func(env *benchEnv, w int) benchOp {
		return &kvOp{env: env, rng: newBenchRand(w + 1), buf: make([]byte, 0, 1024), writeEvery: writeTenths}
	}
}

func (o *kvOp) do(context.Context) error {
	r := o.rng.next()
	k := (r >> 8) % uint64(len(o.env.kvRead))
	if r%10 < o.writeEvery {
		return o.env.target.send(o.env.kvWrite[k], nil, &o.buf)
	}
	return o.env.target.send(o.env.kvRead[k], nil, &o.buf)
}

// fixedOp sends the same request every time.
type fixedOp struct {
	env *benchEnv
	req *benchRequest
	buf []byte
}

func newFixedOp(pick func(*benchEnv) *benchRequest) func(*benchEnv, int) benchOp {
	return func(env *benchEnv, _ int) benchOp {
		return &fixedOp{env: env, req: pick(env), buf: make([]byte, 0, 1024)}
	}
}

func (o *fixedOp) do(context.Context) error { return o.env.target.send(o.req, nil, &o.buf) }

// wrapOp wraps a value and unwraps it with the token it got.
type wrapOp struct {
	env *benchEnv
	buf []byte
}

func newWrapOp(env *benchEnv, _ int) benchOp {
	return &wrapOp{env: env, buf: make([]byte, 0, 1024)}
}

var errNoWrapToken = errors.New("wrap: the answer has no wrap_info.token")

func (o *wrapOp) do(context.Context) error {
	if err := o.env.target.send(o.env.wrap, nil, &o.buf); err != nil {
		return err
	}
	tok := wrapToken(o.buf)
	if tok == nil {
		return errNoWrapToken
	}
	// The body is built per call: the transport may still hold the last
	// one when RoundTrip returns.
	body := make([]byte, 0, len(tok)+12)
	body = append(append(append(body, `{"token":"`...), tok...), `"}`...)
	return o.env.target.send(o.env.unwrap, body, &o.buf)
}

// wrapToken finds wrap_info.token in a response, JSON-escaped as it goes
// into a body, without decoding the whole answer when the quick scan
// works. It returns nil when there is none.
func wrapToken(b []byte) []byte {
	if i := bytes.Index(b, []byte(`"wrap_info":`)); i >= 0 {
		rest := bytes.TrimLeft(b[i+len(`"wrap_info":`):], " \t\r\n")
		const key = `"token":"`
		if j := bytes.Index(rest, []byte(key)); len(rest) > 0 && rest[0] == '{' && j >= 0 {
			rest = rest[j+len(key):]
			if k := bytes.IndexByte(rest, '"'); k > 0 && bytes.IndexByte(rest[:k], '\\') < 0 {
				return rest[:k]
			}
		}
	}
	var env struct {
		WrapInfo *struct {
			Token string `json:"token"`
		} `json:"wrap_info"`
	}
	if json.Unmarshal(b, &env) != nil || env.WrapInfo == nil || env.WrapInfo.Token == "" {
		return nil
	}
	esc := mustJSON(env.WrapInfo.Token)
	return esc[1 : len(esc)-1]
}
