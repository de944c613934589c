package testcluster

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func put(client int, key, value string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: KVInput{Op: KVPut, Key: key, Value: value},
		Output: KVOutput{Result: KVOK}, Call: call, Return: ret}
}

// unknownPut is a put whose answer never came: it returns at +infinity.
func unknownPut(client int, key, value string, call int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: KVInput{Op: KVPut, Key: key, Value: value},
		Output: KVOutput{Result: KVUnknown}, Call: call, Return: math.MaxInt64}
}

func get(client int, key, value string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: KVInput{Op: KVGet, Key: key},
		Output: KVOutput{Result: KVOK, Value: value, Found: true}, Call: call, Return: ret}
}

func getAbsent(client int, key string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: KVInput{Op: KVGet, Key: key},
		Output: KVOutput{Result: KVOK}, Call: call, Return: ret}
}

func TestKVModel(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"empty", nil, porcupine.Ok},
		{"read your write", []porcupine.Operation{
			put(0, "a", "1", 0, 10), get(0, "a", "1", 20, 30),
		}, porcupine.Ok},
		{"absent before any put", []porcupine.Operation{
			getAbsent(0, "a", 0, 10), put(1, "a", "1", 20, 30),
		}, porcupine.Ok},
		{"concurrent read may see either side", []porcupine.Operation{
			put(0, "a", "1", 0, 10), put(1, "a", "2", 20, 40), get(2, "a", "1", 25, 35), get(3, "a", "2", 30, 50),
		}, porcupine.Ok},
		{"keys are independent", []porcupine.Operation{
			put(0, "a", "1", 0, 10), getAbsent(1, "b", 20, 30), get(1, "a", "1", 40, 50),
		}, porcupine.Ok},
		{"acknowledged write lost", []porcupine.Operation{
			put(0, "a", "1", 0, 10), getAbsent(1, "a", 20, 30),
		}, porcupine.Illegal},
		{"stale read after a newer write", []porcupine.Operation{
			put(0, "a", "1", 0, 10), put(0, "a", "2", 20, 30), get(1, "a", "1", 40, 50),
		}, porcupine.Illegal},
		{"value never written", []porcupine.Operation{
			put(0, "a", "1", 0, 10), get(1, "a", "3", 20, 30),
		}, porcupine.Illegal},
		{"reads disagree on order", []porcupine.Operation{
			put(0, "a", "1", 0, 100), put(1, "a", "2", 0, 100),
			get(2, "a", "1", 10, 20), get(2, "a", "2", 30, 40), get(3, "a", "1", 50, 60),
		}, porcupine.Illegal},
		{"unknown put may have been applied", []porcupine.Operation{
			put(0, "a", "1", 0, 10), unknownPut(1, "a", "2", 20), get(2, "a", "2", 100, 110),
		}, porcupine.Ok},
		{"unknown put may never apply", []porcupine.Operation{
			put(0, "a", "1", 0, 10), unknownPut(1, "a", "2", 20), get(2, "a", "1", 100, 110),
		}, porcupine.Ok},
		{"unknown put seen late, not early", []porcupine.Operation{
			unknownPut(0, "a", "1", 0), getAbsent(1, "a", 10, 20), get(1, "a", "1", 30, 40),
		}, porcupine.Ok},
		{"unknown put cannot be undone", []porcupine.Operation{
			unknownPut(0, "a", "1", 0), get(1, "a", "1", 10, 20), getAbsent(1, "a", 30, 40),
		}, porcupine.Illegal},
		{"unknown put cannot apply before its call", []porcupine.Operation{
			get(1, "a", "1", 0, 10), unknownPut(0, "a", "1", 20),
		}, porcupine.Illegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(KVModel(), tt.history); got != (tt.want == porcupine.Ok) {
				t.Fatalf("linearizable = %v, want %v", got, tt.want == porcupine.Ok)
			}
		})
	}
}

func TestRecorderHistory(t *testing.T) {
	r := NewRecorder()
	errTimeout := errors.New("timeout")
	if err := r.Put(0, "a", "1", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Put(0, "a", "2", func() error { return errTimeout }); err != errTimeout {
		t.Fatalf("Put returned %v, want the error of do", err)
	}
	v, found, err := r.Get(1, "a", func() (string, bool, error) { return "1", true, nil })
	if v != "1" || !found || err != nil {
		t.Fatalf("Get = %q, %v, %v", v, found, err)
	}
	if _, _, err := r.Get(1, "a", func() (string, bool, error) { return "", false, errTimeout }); err != errTimeout {
		t.Fatalf("Get returned %v, want the error of do", err)
	}
	failed := r.Call(2, KVInput{Op: KVPut, Key: "a", Value: "3"})
	r.Return(failed, KVOutput{Result: KVFailed})
	r.Call(2, KVInput{Op: KVPut, Key: "b", Value: "4"}) // never returns

	h := r.History()
	var got []string
	for _, op := range h {
		s := describeKV(op.Input, op.Output)
		if op.Return == math.MaxInt64 {
			s += " @inf"
		} else if op.Return < op.Call {
			t.Errorf("%s returns before its call", s)
		}
		got = append(got, s)
	}
	want := []string{`put("a", "1") → ok`, `put("a", "2") → ? @inf`, `get("a") → "1"`, `put("b", "4") → ? @inf`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h[0].Return > h[2].Call {
		t.Errorf("the acknowledged put returns at %d, after the later get's call at %d", h[0].Return, h[2].Call)
	}
	if h[2].ClientId != 1 {
		t.Errorf("get's client = %d, want 1", h[2].ClientId)
	}
	if !porcupine.CheckOperations(KVModel(), h) {
		t.Error("the recorded history is linearizable but the checker says no")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for range 50 {
				_ = r.Put(c, "k", "v", func() error { return nil })
				_, _, _ = r.Get(c, "k", func() (string, bool, error) { return "v", true, nil })
			}
		})
	}
	wg.Wait()
	if n := len(r.History()); n != 8*50*2 {
		t.Fatalf("history holds %d operations, want %d", n, 8*50*2)
	}
}

// captureTB records what CheckLinearizable reports.
type captureTB struct {
	testing.TB
	dir    string
	errors []string
	logs   []string
}

func (c *captureTB) Helper()             {}
func (c *captureTB) ArtifactDir() string { return c.dir }
func (c *captureTB) Errorf(format string, args ...any) {
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}
func (c *captureTB) Logf(format string, args ...any) {
	c.logs = append(c.logs, fmt.Sprintf(format, args...))
}

func TestCheckLinearizable(t *testing.T) {
	good := []porcupine.Operation{put(0, "a", "1", 0, 10), get(1, "a", "1", 20, 30)}
	c := &captureTB{dir: t.TempDir()}
	if res := CheckLinearizable(c, good, 0); res != porcupine.Ok || len(c.errors) != 0 {
		t.Fatalf("good history: %v, errors %q", res, c.errors)
	}

	bad := []porcupine.Operation{put(0, "a", "1", 0, 10), getAbsent(1, "a", 20, 30)}
	c = &captureTB{dir: t.TempDir()}
	if res := CheckLinearizable(c, bad, 0); res != porcupine.Illegal {
		t.Fatalf("bad history: %v", res)
	}
	if len(c.errors) != 1 || !strings.Contains(c.errors[0], "not linearizable") {
		t.Fatalf("bad history reported %q", c.errors)
	}
	html, err := os.ReadFile(c.dir + "/linearizability.html")
	if err != nil {
		t.Fatalf("no visualization: %v", err)
	}
	if !strings.Contains(string(html), `get(\"a\") → absent`) {
		t.Errorf("visualization does not describe the offending get")
	}
}

func TestPruneUnobserved(t *testing.T) {
	h := []porcupine.Operation{
		put(0, "a", "1", 0, 10),
		unknownPut(1, "a", "2", 5), // observed below: kept
		unknownPut(2, "a", "3", 6), // never observed: left out
		unknownPut(3, "b", "2", 7), // "2" was observed on a, not b: left out
		get(4, "a", "2", 20, 30),
		getAbsent(4, "b", 40, 50),
	}
	kept, dropped := pruneUnobserved(h)
	if dropped != 2 || len(kept) != 4 {
		t.Fatalf("kept %d, dropped %d; want 4 and 2", len(kept), dropped)
	}
	for _, op := range kept {
		if in := op.Input.(KVInput); in.Op == KVPut && (in.Value == "3" || in.Key == "b") {
			t.Errorf("kept unobserved put %v", in)
		}
	}
}

// failoverHistory is what a failover looks like to the checker: steady
// acknowledged puts and gets of one key, then a burst of puts of unknown
// outcome from several clients, then the cluster serving again. If stale
// is set, the last get returns a value overwritten before it started.
func failoverHistory(stale bool) []porcupine.Operation {
	var h []porcupine.Operation
	ts := int64(0)
	for i := range 20 {
		v := fmt.Sprint("before", i)
		h = append(h, put(0, "k", v, ts, ts+5), get(1, "k", v, ts+10, ts+15))
		ts += 20
	}
	for i := range 60 {
		h = append(h, unknownPut(2+i%4, "k", fmt.Sprint("lost", i), ts))
		ts += 3
	}
	h = append(h, get(1, "k", "lost7", ts, ts+5)) // one unknown put did apply
	ts += 10
	for i := range 20 {
		v := fmt.Sprint("after", i)
		h = append(h, put(0, "k", v, ts, ts+5), get(1, "k", v, ts+10, ts+15))
		ts += 20
	}
	if stale {
		h = append(h, get(1, "k", "after3", ts, ts+5))
	}
	return h
}

func TestCheckLinearizableAfterFailover(t *testing.T) {
	c := &captureTB{dir: t.TempDir()}
	if res := CheckLinearizable(c, failoverHistory(false), 10*time.Second); res != porcupine.Ok {
		t.Fatalf("linearizable failover history: %v, %q %q", res, c.errors, c.logs)
	}
	c = &captureTB{dir: t.TempDir()}
	if res := CheckLinearizable(c, failoverHistory(true), 10*time.Second); res != porcupine.Illegal {
		t.Fatalf("stale read after failover: %v, %q %q", res, c.errors, c.logs)
	}
}
