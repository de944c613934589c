package client

import (
	"context"
	"strings"
	"testing"
)

func TestAudit(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.on("PUT", "/v1/sys/audit/file/", 204, "")
	f.on("DELETE", "/v1/sys/audit/file/", 204, "")
	f.on("GET", "/v1/sys/audit", 200, `{"file/":{"type":"file"},"data":{
		"file/":{"type":"file","description":"main log","options":{"file_path":"/var/log/ward.log"},"local":false,"path":"file/"}}}`)
	f.on("PUT", "/v1/sys/audit-hash/file/", 200, `{"data":{"hash":"hmac-sha256:abcd"}}`)
	f.on("PUT", "/v1/sys/audit-hash/none/", 400, `{"errors":["no audit device at \"none/\""]}`)
	sys := f.client(t, "t").Sys()

	in := &AuditInput{Type: "file", Description: "main log", Options: map[string]string{"file_path": "/var/log/ward.log"}}
	if err := sys.EnableAudit(ctx, "/file", in); err != nil {
		t.Fatal(err)
	}
	b := f.last().Body
	if b["type"] != "file" || b["description"] != "main log" || b["options"].(map[string]any)["file_path"] != "/var/log/ward.log" {
		t.Errorf("enable body = %v", b)
	}
	if _, ok := b["local"]; ok {
		t.Errorf("enable body sends local=false: %v", b)
	}
	list, err := sys.ListAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := list["file/"]; len(list) != 1 || d == nil || d.Type != "file" || d.Options["file_path"] != "/var/log/ward.log" || d.Path != "file/" {
		t.Errorf("list = %+v", list)
	}
	h, err := sys.AuditHash(ctx, "file", "s3cret")
	if err != nil || h != "hmac-sha256:abcd" {
		t.Errorf("hash = %q, %v", h, err)
	}
	if f.last().Body["input"] != "s3cret" {
		t.Errorf("hash body = %v", f.last().Body)
	}
	_, err = sys.AuditHash(ctx, "none", "x")
	if StatusCode(err) != 400 || !strings.HasPrefix(err.Error(), "audit hash at none/: ") {
		t.Errorf("hash of a missing device: %v", err)
	}
	if err := sys.DisableAudit(ctx, "file/"); err != nil {
		t.Fatal(err)
	}
	if m := f.last().Method; m != "DELETE" {
		t.Errorf("disable sent %s", m)
	}
}
