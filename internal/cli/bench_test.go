package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBareBodyIsA300ByteEnvelope(t *testing.T) {
	if len(bareBody) != bareBodySize {
		t.Fatalf("bare body is %d bytes, want %d", len(bareBody), bareBodySize)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(bareBody, &env); err != nil || env.Data == nil {
		t.Fatalf("bare body is not a JSON envelope with data (%v): %s", err, bareBody)
	}
}

func TestWrapToken(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"compact", `{"request_id":"","data":null,"wrap_info":{"token":"hvs.abc","accessor":"x","ttl":300},"auth":null}`, "hvs.abc"},
		{"spaced", "{\n  \"wrap_info\": {\n    \"accessor\": \"x\",\n    \"token\": \"s.123\"\n  }\n}", "s.123"},
		{"escaped token decoded then re-escaped", `{"wrap_info":{"token":"a\"b"}}`, `a\"b`},
		{"no wrap info", `{"data":{"token":"not-this"},"wrap_info":null}`, ""},
		{"not json", `<html>`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := string(wrapToken([]byte(c.body))); got != c.want {
				t.Errorf("wrapToken = %q, want %q", got, c.want)
			}
		})
	}
}

// flakyServer answers KV reads with the bare body, except key k0, which
// fails with a 500.
func flakyServer(t *testing.T, served *atomic.Int64) *benchEnv {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("X-Vault-Token") != "tok" {
			t.Errorf("request without the token: %v", r.Header)
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/data/k0") {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"errors":["boom"]}`))
			return
		}
		w.Write(bareBody)
	}))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	tr := benchTransport(4, nil)
	t.Cleanup(tr.CloseIdleConnections)
	env := &benchEnv{target: newBenchTarget(tr, base, "tok")}
	env.addKV(context.Background(), "m", 3, "v")
	return env
}

func TestRunLoadCountsErrorsAndSkipsWarmup(t *testing.T) {
	var served atomic.Int64
	env := flakyServer(t, &served)
	s, _ := findScenario("kv2-read")
	l := benchLoad{concurrency: 4, warmup: 50 * time.Millisecond, duration: 150 * time.Millisecond}
	st := runLoad(context.Background(), l, func(w int) benchOp { return s.newOp(env, w) })
	if st.ops == 0 || st.errors == 0 {
		t.Fatalf("ops %d, errors %d: want both above 0 (a third of the keys fail)", st.ops, st.errors)
	}
	if st.hist.count() != st.ops {
		t.Errorf("histogram holds %d latencies, want one per successful op (%d)", st.hist.count(), st.ops)
	}
	if want := []string{"kv read: HTTP 500: boom"}; len(st.msgs) != 1 || st.msgs[0] != want[0] {
		t.Errorf("messages = %q, want %q", st.msgs, want)
	}
	if n := uint64(served.Load()); st.ops+st.errors >= n {
		t.Errorf("counted %d operations of the %d served: the warmup's should not count", st.ops+st.errors, n)
	}
	if st.last < l.duration-10*time.Millisecond || st.last > l.duration+time.Second {
		t.Errorf("window = %v, want about %v", st.last, l.duration)
	}
	// A third of the reads hit k0: allow a wide margin.
	ratio := float64(st.errors) / float64(st.ops+st.errors)
	if ratio < 0.15 || ratio > 0.55 {
		t.Errorf("error share %.2f, want about 1/3: keys are not spread", ratio)
	}
}

func TestRunLoadStopsWhenCancelled(t *testing.T) {
	var served atomic.Int64
	env := flakyServer(t, &served)
	s, _ := findScenario("kv2-read")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	runLoad(ctx, benchLoad{concurrency: 2, duration: time.Minute}, func(w int) benchOp { return s.newOp(env, w) })
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("runLoad took %v after its context ended after 100ms", el)
	}
}

func TestBenchResultFigures(t *testing.T) {
	st := &benchStats{ops: 2000, last: 2 * time.Second}
	for i := range 2000 {
		st.hist.record(time.Duration(i%100+1) * time.Millisecond)
	}
	r := newBenchResult("kv2-read", st)
	if r.OpsPerSec != 1000 || r.Seconds != 2 {
		t.Errorf("ops/s %v over %vs, want 1000 over 2s", r.OpsPerSec, r.Seconds)
	}
	if r.LatencyMS.P50 < 50 || r.LatencyMS.P50 > 50.5 || r.LatencyMS.Max != 100 {
		t.Errorf("latency %+v, want p50 about 50ms and max 100ms", r.LatencyMS)
	}
	rep := &benchReport{Results: []benchResult{{Scenario: "bare", OpsPerSec: 4000}, r}}
	rep.setRatios()
	if rep.Results[0].RatioToBare != nil || rep.Results[1].RatioToBare == nil || *rep.Results[1].RatioToBare != 0.25 {
		t.Errorf("ratios: bare %v, kv2-read %v; want none and 0.25", rep.Results[0].RatioToBare, rep.Results[1].RatioToBare)
	}
}
