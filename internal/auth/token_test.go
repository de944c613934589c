package auth

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/engine"
)

func TestTokenParamsUpdate(t *testing.T) {
	var p TokenParams
	pol := []string{" App ", "DB"}
	ttl, max := time.Hour, 2*time.Hour
	if err := p.Update(TokenInput{Policies: &pol, TTL: &ttl, MaxTTL: &max}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Policies, []string{"app", "db"}) || p.TTL != time.Hour || p.MaxTTL != 2*time.Hour {
		t.Fatalf("params = %+v", p)
	}
	for _, bad := range []TokenInput{
		{Policies: &[]string{"default", "Root"}},
		{TTL: ptr(3 * time.Hour)},
		{NumUses: ptr(-1)},
		{Type: ptr("batch")},
		{BoundCIDRs: &[]string{"10.0.0.0/33"}},
	} {
		before := p
		err := p.Update(bad)
		var ie *engine.InputError
		if !errors.As(err, &ie) {
			t.Errorf("Update(%+v) = %v, want an input error", bad, err)
		}
		if !reflect.DeepEqual(p, before) {
			t.Errorf("a refused update changed the params: %+v", p)
		}
	}
}

func TestRemoteIn(t *testing.T) {
	for _, tt := range []struct {
		addr  string
		cidrs []string
		want  bool
	}{
		{"10.1.2.3:80", nil, true},
		{"10.1.2.3:80", []string{"10.1.0.0/16"}, true},
		{"10.2.2.3:80", []string{"10.1.0.0/16"}, false},
		{"127.0.0.1:1", []string{"127.0.0.1"}, true},
		{"[::1]:1", []string{"::1/128"}, true},
		{"garbage", []string{"10.0.0.0/8"}, false},
	} {
		if got := RemoteIn(tt.addr, tt.cidrs); got != tt.want {
			t.Errorf("RemoteIn(%q, %v) = %v", tt.addr, tt.cidrs, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }
