package audit_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/audit/file"
)

// kvRead returns the two entries core logs for a KV v2 read of a secret
// holding a 100-byte value.
func kvRead() (req, resp *audit.Entry) {
	auth := &audit.Auth{ClientToken: "hvs.CAESIJ1xv0PVwP9U8Qz3xu0mR3p0dK5Lw2t7", Accessor: "Yq1qQ2yGk9n8RbHc3mXwV0aZ",
		DisplayName: "approle-web", Policies: []string{"default", "web"}, TokenPolicies: []string{"default", "web"},
		Metadata: map[string]string{"role_name": "web"}, EntityID: "9f3b2c1e-1111-2222-3333-444455556666",
		TokenType: "service", TokenTTL: 3600, TokenIssueTime: "2025-01-01T00:00:00Z"}
	r := &audit.Request{ID: "4b1f4c8e-aaaa-bbbb-cccc-ddddeeeeffff", Operation: "read", MountPoint: "secret/",
		MountType: "kv", MountAccessor: "kv_1a2b3c4d", ClientToken: auth.ClientToken, ClientTokenAccessor: auth.Accessor,
		Namespace: audit.Namespace{ID: "root"}, Path: "secret/data/web/db", RemoteAddress: "10.0.0.7", RemotePort: 51234}
	req = &audit.Entry{Type: audit.TypeRequest, Auth: auth, Request: r}
	resp = &audit.Entry{Type: audit.TypeResponse, Auth: auth, Request: r, Response: &audit.Response{
		MountPoint: "secret/", MountType: "kv", MountAccessor: "kv_1a2b3c4d", StatusCode: 200,
		Data: map[string]any{
			"data": map[string]any{"password": strings.Repeat("s", 100)},
			"metadata": map[string]any{"created_time": "2025-01-01T00:00:00Z", "custom_metadata": nil,
				"deletion_time": "", "destroyed": false, "version": 3},
		},
	}}
	return req, resp
}

func benchLog(b *testing.B, add func(*audit.Broker)) {
	br := audit.NewBroker(audit.BrokerOptions{})
	defer br.Close()
	if add != nil {
		add(br)
	}
	req, resp := kvRead()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Log(ctx, req); err != nil {
			b.Fatal(err)
		}
		if err := br.Log(ctx, resp); err != nil {
			b.Fatal(err)
		}
	}
}

var benchKey = bytes.Repeat([]byte{9}, 32)

// BenchmarkLogNoDevice is the audit cost of one KV read (its request and
// response entries) with auditing off.
func BenchmarkLogNoDevice(b *testing.B) { benchLog(b, nil) }

// BenchmarkLogDiscardDevice is HMAC and encoding without I/O.
func BenchmarkLogDiscardDevice(b *testing.B) {
	benchLog(b, func(br *audit.Broker) {
		d, _ := file.New(file.Discard, 0)
		if err := br.Add("discard/", d, benchKey, audit.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLogOneFileDevice is the audit cost of one KV read with one
// file device.
func BenchmarkLogOneFileDevice(b *testing.B) {
	benchLog(b, func(br *audit.Broker) {
		d, err := file.New(filepath.Join(b.TempDir(), "audit.log"), 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := br.Add("file/", d, benchKey, audit.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLogOneFileDeviceParallel is the same under concurrent requests.
func BenchmarkLogOneFileDeviceParallel(b *testing.B) {
	br := audit.NewBroker(audit.BrokerOptions{})
	defer br.Close()
	d, err := file.New(filepath.Join(b.TempDir(), "audit.log"), 0)
	if err != nil {
		b.Fatal(err)
	}
	if err := br.Add("file/", d, benchKey, audit.DefaultOptions()); err != nil {
		b.Fatal(err)
	}
	req, resp := kvRead()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Log(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			if err := br.Log(context.Background(), resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
