package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func request(id string) *Entry {
	return &Entry{Type: TypeRequest, Auth: &Auth{ClientToken: "CANARY-token"},
		Request: &Request{ID: id, Operation: "read", Path: "secret/data/x"}}
}

func TestChainFields(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("x", 3600))
	b := newTestBroker(t, BrokerOptions{Now: func() time.Time { return now }})
	d := &memDevice{}
	mustAdd(t, b, "mem/", d, DefaultOptions())
	for i := range 3 {
		if err := b.Log(context.Background(), request(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	lines := d.all()
	prev := ""
	for i, l := range lines {
		m := decode(t, l)
		if got := fmt.Sprint(m["seq"]); got != fmt.Sprint(i+1) {
			t.Errorf("line %d seq = %s", i+1, got)
		}
		if m["prev_hash"] != prev {
			t.Errorf("line %d prev_hash = %v, want %q", i+1, m["prev_hash"], prev)
		}
		if m["time"] != "2025-03-04T04:06:07.000000008Z" {
			t.Errorf("time = %v", m["time"])
		}
		prev = LineHash(l)
	}
	if h, ok := b.Head("mem/"); !ok || h.Seq != 3 || h.Hash != prev {
		t.Errorf("Head = %+v, %v; want seq 3 and the last line's hash", h, ok)
	}
	if _, err := Verify([]NamedReader{{"mem", bytes.NewReader(d.log())}}); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestAddContinuesAHeadReadersChain(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	d := &headDevice{h: ChainHead{Seq: 41, Hash: LineHash([]byte("line 41"))}}
	mustAdd(t, b, "h/", d, DefaultOptions())
	if err := b.Log(context.Background(), request("1")); err != nil {
		t.Fatal(err)
	}
	m := decode(t, d.all()[0])
	if fmt.Sprint(m["seq"]) != "42" || m["prev_hash"] != d.h.Hash {
		t.Errorf("first line seq %v prev %v; want 42 and the head's hash", m["seq"], m["prev_hash"])
	}
}

func TestAddRefuses(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	mustAdd(t, b, "a/", &memDevice{}, DefaultOptions())
	if err := b.Add("a/", &memDevice{}, testKey, DefaultOptions()); err == nil {
		t.Error("Add on a taken path succeeded")
	}
	if err := b.Add("b/", &memDevice{}, testKey[:16], DefaultOptions()); err == nil {
		t.Error("Add with a 16-byte key succeeded")
	}
	if err := b.Add("c/", &headDevice{err: errors.New("unreadable")}, testKey, DefaultOptions()); err == nil {
		t.Error("Add with a failing Head succeeded")
	}
	if b.Len() != 1 {
		t.Errorf("Len = %d, want 1", b.Len())
	}
}

func TestNoDeviceMeansAuditingOff(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	if err := b.Log(context.Background(), request("1")); err != nil {
		t.Errorf("Log with no device = %v", err)
	}
}

func TestFailClosed(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	good, bad := &memDevice{}, &memDevice{fail: true}
	mustAdd(t, b, "good/", good, DefaultOptions())
	mustAdd(t, b, "bad/", bad, DefaultOptions())
	if err := b.Log(context.Background(), request("1")); err != nil {
		t.Fatalf("one good device: Log = %v", err)
	}
	good.setFail(true)
	err := b.Log(context.Background(), request("2"))
	if !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("all devices failing: Log = %v, want ErrNotRecorded", err)
	}
	if !strings.Contains(err.Error(), `"good/"`) || !strings.Contains(err.Error(), `"bad/"`) || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error should name both devices and no content: %v", err)
	}
	// Recovery: the heads did not advance on failure, so both chains are
	// whole; bad's chain starts at seq 1 now.
	good.setFail(false)
	bad.setFail(false)
	if err := b.Log(context.Background(), request("3")); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	for name, d := range map[string]*memDevice{"good": good, "bad": bad} {
		if _, err := Verify([]NamedReader{{name, bytes.NewReader(d.log())}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(good.all()) != 2 || len(bad.all()) != 1 {
		t.Errorf("lines: good %d bad %d; want 2 and 1", len(good.all()), len(bad.all()))
	}
}

func TestCancelledContextRecordsNothing(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	d := &memDevice{}
	mustAdd(t, b, "mem/", d, DefaultOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 { // the writer may or may not receive the job: never write it
		if err := b.Log(ctx, request("1")); !errors.Is(err, ErrNotRecorded) {
			t.Fatalf("Log = %v, want ErrNotRecorded", err)
		}
	}
	if len(d.all()) != 0 {
		t.Error("a cancelled entry was written")
	}
}

func TestStuckDeviceIsBounded(t *testing.T) {
	const timeout = 50 * time.Millisecond
	b := newTestBroker(t, BrokerOptions{Timeout: timeout})
	stuck, good := newStuck(), &memDevice{}
	mustAdd(t, b, "stuck/", stuck, DefaultOptions())
	baseline := runtime.NumGoroutine()

	// Alone, the stuck device fails every entry within the timeout.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() { errs[i] = b.Log(context.Background(), request(fmt.Sprint(i))) })
	}
	wg.Wait()
	if el := time.Since(start); el > 20*timeout {
		t.Errorf("50 Logs behind a stuck device took %v", el)
	}
	for i, err := range errs {
		if !errors.Is(err, ErrNotRecorded) {
			t.Fatalf("Log %d = %v, want ErrNotRecorded", i, err)
		}
	}
	if n := runtime.NumGoroutine(); n > baseline+5 {
		t.Errorf("goroutines grew from %d to %d behind a stuck device", baseline, n)
	}
	if len(stuck.entered) != 1 {
		t.Errorf("%d writes reached the stuck device; want 1 (the rest wait their turn, then give up)", len(stuck.entered))
	}

	// With a good device beside it, entries are recorded on time.
	mustAdd(t, b, "good/", good, DefaultOptions())
	start = time.Now()
	if err := b.Log(context.Background(), request("x")); err != nil {
		t.Errorf("Log with one good device = %v", err)
	}
	if el := time.Since(start); el > 10*timeout {
		t.Errorf("Log took %v", el)
	}

	// Once released, the write that was stuck lands (so its seq is used)
	// and the device serves entries again, its chain intact.
	close(stuck.release)
	deadline := time.Now().Add(5 * time.Second)
	for len(stuck.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := b.Log(context.Background(), request("y")); err != nil {
		t.Fatal(err)
	}
	if got := len(stuck.all()); got != 2 {
		t.Errorf("stuck device has %d lines, want 2", got)
	}
	if _, err := Verify([]NamedReader{{"stuck", bytes.NewReader(stuck.log())}}); err != nil {
		t.Errorf("stuck device's chain: %v", err)
	}
}

func TestRemoveAndCloseDoNotHangOnAStuckDevice(t *testing.T) {
	const timeout = 30 * time.Millisecond
	b := NewBroker(BrokerOptions{Timeout: timeout})
	stuck := newStuck()
	defer close(stuck.release)
	mustAdd(t, b, "stuck/", stuck, DefaultOptions())
	_ = b.Log(context.Background(), request("1"))
	<-stuck.entered
	start := time.Now()
	if err := b.Remove("stuck/"); err != nil {
		t.Errorf("Remove = %v", err)
	}
	if el := time.Since(start); el > 10*timeout {
		t.Errorf("Remove took %v", el)
	}
	if b.Len() != 0 {
		t.Errorf("Len = %d after Remove", b.Len())
	}
}

func TestRemoveCloseReopen(t *testing.T) {
	b := NewBroker(BrokerOptions{})
	a, c := &memDevice{}, &memDevice{}
	mustAdd(t, b, "a/", a, DefaultOptions())
	mustAdd(t, b, "c/", c, DefaultOptions())
	if got := fmt.Sprint(b.Paths()); got != "[a/ c/]" {
		t.Errorf("Paths = %s", got)
	}
	if err := b.Reopen(); err != nil || a.reopens != 1 || c.reopens != 1 {
		t.Errorf("Reopen = %v; reopens a=%d c=%d", err, a.reopens, c.reopens)
	}
	if err := b.Remove("a/"); err != nil || !a.closed || b.Len() != 1 {
		t.Errorf("Remove = %v, closed %v, Len %d", err, a.closed, b.Len())
	}
	if err := b.Remove("missing/"); err != nil {
		t.Errorf("Remove of a missing path = %v", err)
	}
	if err := b.Close(); err != nil || !c.closed || b.Len() != 0 {
		t.Errorf("Close = %v, closed %v, Len %d", err, c.closed, b.Len())
	}
	// The path is free again after Close.
	mustAdd(t, b, "a/", &memDevice{}, DefaultOptions())
	_ = b.Close()
}

func TestConcurrentLogsKeepTheChainInOrder(t *testing.T) {
	b := newTestBroker(t, BrokerOptions{})
	d1, d2 := &memDevice{}, &memDevice{}
	mustAdd(t, b, "one/", d1, DefaultOptions())
	mustAdd(t, b, "two/", d2, Options{})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			if err := b.Log(context.Background(), request(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for name, d := range map[string]*memDevice{"one": d1, "two": d2} {
		sum, err := Verify([]NamedReader{{name, bytes.NewReader(d.log())}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sum.Lines != 100 || sum.LastSeq != 100 {
			t.Errorf("%s: %+v", name, sum)
		}
	}
}

// A job the writer receives after its caller gave up is not written: the
// entry was already reported as not recorded.
func TestWriterSkipsJobsWhoseCallerLeft(t *testing.T) {
	m := &memDevice{}
	d := newDevice("mem/", m, testKey, DefaultOptions(), ChainHead{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body, err := d.prepare(request("1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.do(job{ctx: ctx, body: body}); err == nil || len(m.all()) != 0 || d.chainHead().Seq != 0 {
		t.Errorf("do = %v, %d lines, head %+v; want an error and nothing written", err, len(m.all()), d.chainHead())
	}
}
