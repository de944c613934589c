package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// memDevice keeps audit lines in memory; broken makes every write fail.
type memDevice struct {
	mu     sync.Mutex
	lines  [][]byte
	broken bool
}

func (m *memDevice) Write(_ context.Context, line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken {
		return errors.New("mem device: broken")
	}
	m.lines = append(m.lines, bytes.Clone(line))
	return nil
}
func (m *memDevice) Reopen() error { return nil }
func (m *memDevice) Close() error  { return nil }

func (m *memDevice) setBroken(b bool) {
	m.mu.Lock()
	m.broken = b
	m.mu.Unlock()
}

func (m *memDevice) all() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return string(bytes.Join(m.lines, []byte("\n")))
}

// auditedCore is a dev core whose "mem" audit type writes to dev.
func auditedCore(t *testing.T) (*core.Core, *memDevice) {
	t.Helper()
	dev := &memDevice{}
	c, err := core.New(core.Options{
		Physical:   inmem.New(),
		Engines:    map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:     func(c *core.Core) engine.Backend { return sys.New(c) },
		AuditTypes: map[string]core.AuditFactory{"mem": func(map[string]string) (audit.Device, error) { return dev, nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Seal)
	if _, _, err := c.DevInit(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/audit/mem", map[string]any{"type": "mem"})
	return c, dev
}

func TestAuditRecordsHMACsNotSecrets(t *testing.T) {
	c, dev := auditedCore(t)
	const canary = "canary-card-key-4242"
	created := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", nil).Auth
	tok := created.ClientToken
	mustCall(t, c, tok, engine.OpUpdate, "secret/data/pay/key", map[string]any{"data": map[string]any{"k": canary}})
	got := mustCall(t, c, tok, engine.OpRead, "secret/data/pay/key", nil)
	if secretData(t, got)["k"] != canary {
		t.Fatalf("read = %v", got.Data)
	}
	log := dev.all()
	for _, secret := range []string{canary, tok, created.Accessor} {
		if strings.Contains(log, secret) {
			t.Fatalf("audit log holds %q in the clear:\n%s", secret, log)
		}
	}
	hash := mustCall(t, c, "root", engine.OpUpdate, "sys/audit-hash/mem", map[string]any{"input": canary}).Data["hash"].(string)
	if !strings.HasPrefix(hash, "hmac-sha256:") || strings.Count(log, hash) < 2 {
		t.Fatalf("hash %s appears %d times in the log, want the write's request and the read's response", hash, strings.Count(log, hash))
	}
	// Each line is an entry of the device's chain, in order.
	for i, line := range strings.Split(log, "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if e.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d", i+1, e.Seq)
		}
	}
}

func TestAuditRecordsRefusedRequests(t *testing.T) {
	c, dev := auditedCore(t)
	tok := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "default"}).Auth.ClientToken
	if _, err := call(t, c, tok, engine.OpRead, "secret/data/pay/key", nil); !errors.Is(err, engine.ErrPermissionDenied) {
		t.Fatalf("read without policy: %v", err)
	}
	if !strings.Contains(dev.all(), `"path":"secret/data/pay/key"`) || !strings.Contains(dev.all(), `"error":"permission denied"`) {
		t.Fatalf("denied request not recorded with its error:\n%s", dev.all())
	}
}

func TestAuditFailsClosed(t *testing.T) {
	c, dev := auditedCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "secret/data/a", map[string]any{"data": map[string]any{"k": "v"}})
	dev.setBroken(true)
	resp, err := call(t, c, "root", engine.OpRead, "secret/data/a", nil)
	if !errors.Is(err, engine.ErrUnavailable) || resp != nil {
		t.Fatalf("read with a broken audit device = %v, %v; want no data and unavailable", resp, err)
	}
	if c.Sealed() {
		t.Fatal("a failing audit device sealed the server")
	}
	dev.setBroken(false)
	if got := mustCall(t, c, "root", engine.OpRead, "secret/data/a", nil); got == nil {
		t.Fatal("no answer after the device recovered")
	}
	// With the device disabled, auditing is off and requests flow.
	mustCall(t, c, "root", engine.OpDelete, "sys/audit/mem", nil)
	dev.setBroken(true)
	mustCall(t, c, "root", engine.OpRead, "secret/data/a", nil)
}

func TestAuditDevicesNeedSudo(t *testing.T) {
	c, _ := auditedCore(t)
	mustCall(t, c, "root", engine.OpUpdate, "sys/policies/acl/ops", map[string]any{"policy": `path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }`})
	tok := mustCall(t, c, "root", engine.OpUpdate, "auth/token/create", map[string]any{"policies": "ops"}).Auth.ClientToken
	for _, op := range []engine.Operation{engine.OpRead, engine.OpDelete} {
		path := "sys/audit"
		if op == engine.OpDelete {
			path = "sys/audit/mem"
		}
		if _, err := call(t, c, tok, op, path, nil); !errors.Is(err, engine.ErrPermissionDenied) {
			t.Errorf("%s %s without sudo: %v", op, path, err)
		}
	}
	devices, _ := c.AuditDevices()
	if len(devices) != 1 || devices[0].Key != nil {
		t.Fatalf("devices = %+v (keys must not be listed)", devices)
	}
}

// rotatedDevice is a file-like device whose file is empty again (it was
// rotated): it reports an empty chain head.
type rotatedDevice struct{ *memDevice }

func (rotatedDevice) Head() (audit.ChainHead, error) { return audit.ChainHead{}, nil }

// A device whose output was rotated away continues its chain across a
// seal and unseal from the head the server saved.
func TestAuditChainContinuesAcrossUnseal(t *testing.T) {
	mem := &memDevice{}
	dev := rotatedDevice{mem}
	c, err := core.New(core.Options{
		Physical:   inmem.New(),
		Engines:    map[string]engine.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory},
		System:     func(c *core.Core) engine.Backend { return sys.New(c) },
		AuditTypes: map[string]core.AuditFactory{"mem": func(map[string]string) (audit.Device, error) { return dev, nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Seal()
	_, key, err := c.DevInit(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpUpdate, "sys/audit/mem", map[string]any{"type": "mem"})
	mustCall(t, c, "root", engine.OpRead, "sys/mounts", nil)
	before, ok := c.AuditHead("mem")
	if !ok || before.Seq == 0 {
		t.Fatalf("head before seal = %+v, %v", before, ok)
	}
	c.Seal()
	if _, err := c.Unseal(ctx, key); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "root", engine.OpRead, "sys/mounts", nil)
	lines := strings.Split(mem.all(), "\n")
	var first audit.Entry
	for _, line := range lines {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Seq == before.Seq+1 {
			first = e
			break
		}
	}
	if first.PrevHash != before.Hash {
		t.Fatalf("after unseal the chain did not continue from seq %d: %+v", before.Seq, first)
	}
	if _, err := audit.Verify([]audit.NamedReader{{Name: "mem", R: strings.NewReader(mem.all() + "\n")}}); err != nil {
		t.Fatalf("verify across the unseal: %v", err)
	}
}
