package testcluster

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// KVOp is the kind of a KV operation in a recorded history.
type KVOp uint8

const (
	KVPut KVOp = iota + 1 // put(key, value)
	KVGet                 // get(key)
)

// KVInput is what a client asked for: a put of Value under Key, or a get
// of Key.
type KVInput struct {
	Op         KVOp
	Key, Value string
}

// KVResult says how an operation ended.
type KVResult uint8

const (
	// KVOK: the cluster answered. A put was acknowledged; a get returned
	// Value (Found) or reported the key absent (!Found).
	KVOK KVResult = iota + 1
	// KVUnknown: the outcome cannot be known (a timeout, a reset
	// connection, a 5xx after the request may have been forwarded). An
	// unknown put may or may not have been applied, at any time after it
	// was called; an unknown get observed nothing and is left out.
	KVUnknown
	// KVFailed: the operation certainly had no effect (for example the
	// request was refused before it was sent). It is left out of the
	// history.
	KVFailed
)

// KVOutput is how an operation ended. Value and Found matter only for a
// get that ended KVOK.
type KVOutput struct {
	Result KVResult
	Value  string
	Found  bool
}

// register is the state of one key: absent, or holding a value. It is
// comparable, so porcupine's default equality applies.
type register struct {
	value   string
	present bool
}

// KVModel returns the porcupine model of a map of independent registers:
// put(k, v) makes k hold v, and get(k) must return what k holds, or absent
// if no put of k has taken effect. Histories are partitioned by key, so
// each key is checked on its own (a map of linearizable registers is
// itself linearizable).
func KVModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return register{} },
		Step: func(state, input, output any) (bool, any) {
			st, in, out := state.(register), input.(KVInput), output.(KVOutput)
			switch in.Op {
			case KVPut:
				// Acknowledged or unknown: if the checker places the
				// put here, it took effect here.
				return true, register{value: in.Value, present: true}
			case KVGet:
				ok := out.Found == st.present && (!st.present || out.Value == st.value)
				return ok, st
			}
			return false, st
		},
		DescribeOperation: describeKV,
		DescribeState: func(state any) string {
			st := state.(register)
			if !st.present {
				return "absent"
			}
			return fmt.Sprintf("%q", st.value)
		},
	}
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range history {
		k := op.Input.(KVInput).Key
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	sort.Strings(keys) // stable order for stable visualizations
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

func describeKV(input, output any) string {
	in, out := input.(KVInput), output.(KVOutput)
	switch {
	case in.Op == KVPut && out.Result == KVOK:
		return fmt.Sprintf("put(%q, %q) → ok", in.Key, in.Value)
	case in.Op == KVPut:
		return fmt.Sprintf("put(%q, %q) → ?", in.Key, in.Value)
	case out.Found:
		return fmt.Sprintf("get(%q) → %q", in.Key, out.Value)
	default:
		return fmt.Sprintf("get(%q) → absent", in.Key)
	}
}

// Recorder collects a history of KV operations from concurrent clients.
// Timestamps come from one monotonic clock, so the real-time order of
// operations in the history is the order the clients saw. All methods are
// safe for concurrent use.
type Recorder struct {
	start time.Time

	mu  sync.Mutex
	ops []recorded
}

type recorded struct {
	client   int
	in       KVInput
	out      KVOutput
	call     int64
	ret      int64
	returned bool
}

// NewRecorder returns an empty recorder whose clock starts now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// now returns nanoseconds since the recorder started; at least 1, so that
// no timestamp collides with the zero value.
func (r *Recorder) now() int64 { return int64(time.Since(r.start)) + 1 }

// Call records that client (a small non-negative number, one per
// goroutine issuing operations one at a time) is about to send in. It
// returns the operation's id for Return. Call it immediately before the
// request goes out.
func (r *Recorder) Call(client int, in KVInput) int {
	t := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, recorded{client: client, in: in, call: t})
	return len(r.ops) - 1
}

// Return records how operation id ended. Call it immediately after the
// answer (or the error) arrives. An operation never returned counts as
// KVUnknown.
func (r *Recorder) Return(id int, out KVOutput) {
	t := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	op := &r.ops[id]
	if op.returned {
		panic(fmt.Sprintf("testcluster: Recorder.Return called twice for operation %d", id))
	}
	op.out, op.ret, op.returned = out, t, true
}

// Put records a put of value under key by client around do, which sends
// it: nil from do means acknowledged, an error means the outcome is
// unknown. It returns do's error.
func (r *Recorder) Put(client int, key, value string, do func() error) error {
	id := r.Call(client, KVInput{Op: KVPut, Key: key, Value: value})
	err := do()
	if err != nil {
		r.Return(id, KVOutput{Result: KVUnknown})
		return err
	}
	r.Return(id, KVOutput{Result: KVOK})
	return nil
}

// Get records a read of key by client around do, which sends it and
// reports the value and whether the key exists; an error from do leaves
// the read out of the history. It returns do's results.
func (r *Recorder) Get(client int, key string, do func() (value string, found bool, err error)) (string, bool, error) {
	id := r.Call(client, KVInput{Op: KVGet, Key: key})
	v, found, err := do()
	if err != nil {
		r.Return(id, KVOutput{Result: KVUnknown})
		return v, found, err
	}
	r.Return(id, KVOutput{Result: KVOK, Value: v, Found: found})
	return v, found, nil
}

// History returns the operations recorded so far as porcupine operations.
// Puts whose outcome is unknown (or that have not returned) return at
// +infinity (math.MaxInt64): they may take effect at any point after
// their call. Gets that did not succeed and operations that certainly
// failed are left out.
func (r *Recorder) History() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]porcupine.Operation, 0, len(r.ops))
	for _, op := range r.ops {
		o := op.out
		if !op.returned {
			o = KVOutput{Result: KVUnknown}
		}
		switch {
		case o.Result == KVFailed:
			continue
		case o.Result == KVUnknown && op.in.Op == KVGet:
			continue
		}
		ret := op.ret
		if o.Result == KVUnknown {
			ret = math.MaxInt64
		}
		out = append(out, porcupine.Operation{ClientId: op.client, Input: op.in, Call: op.call, Output: o, Return: ret})
	}
	return out
}

// CheckLinearizable checks history against KVModel for at most timeout
// (0 means no limit). On a violation it fails the test and writes
// porcupine's visualization, an HTML page showing the longest partial
// linearizations, to t.ArtifactDir() (kept with `go test -artifacts`). It
// returns the checker's verdict; porcupine.Unknown (the time ran out) is
// only logged, since it proves nothing either way.
//
// Before checking, it leaves out every put of unknown outcome whose value
// no get of its key returned. Such a put can always be placed last, after
// every other operation, where it changes nothing anyone saw; and no
// linearization needs it, since a get that followed it would have to
// return its value. Keeping it would only make the checker try every
// subset of those puts, which after a failover with a few dozen failed
// writes means it never finishes.
func CheckLinearizable(t testing.TB, history []porcupine.Operation, timeout time.Duration) porcupine.CheckResult {
	t.Helper()
	model := KVModel()
	kept, dropped := pruneUnobserved(history)
	res, info := porcupine.CheckOperationsVerbose(model, kept, timeout)
	what := fmt.Sprintf("history of %d operations (%d unobserved puts of unknown outcome left out)", len(kept), dropped)
	switch res {
	case porcupine.Illegal:
		path := filepath.Join(t.ArtifactDir(), "linearizability.html")
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			t.Errorf("%s is not linearizable (visualization failed: %v)", what, err)
		} else {
			t.Errorf("%s is not linearizable; visualization: %s", what, path)
		}
	case porcupine.Unknown:
		t.Logf("linearizability check of %s inconclusive after %v", what, timeout)
	}
	return res
}

// pruneUnobserved returns history without the puts of unknown outcome
// whose value no successful get of the same key returned, and how many it
// left out.
func pruneUnobserved(history []porcupine.Operation) ([]porcupine.Operation, int) {
	type kv struct{ key, value string }
	seen := map[kv]bool{}
	for _, op := range history {
		in, out := op.Input.(KVInput), op.Output.(KVOutput)
		if in.Op == KVGet && out.Result == KVOK && out.Found {
			seen[kv{in.Key, out.Value}] = true
		}
	}
	kept := make([]porcupine.Operation, 0, len(history))
	for _, op := range history {
		in, out := op.Input.(KVInput), op.Output.(KVOutput)
		if in.Op == KVPut && out.Result != KVOK && !seen[kv{in.Key, in.Value}] {
			continue
		}
		kept = append(kept, op)
	}
	return kept, len(history) - len(kept)
}
