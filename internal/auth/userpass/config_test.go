package userpass

import (
	"context"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage/inmem"
)

func TestConfigDefaults(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig is invalid: %v", err)
	}
	b, err := Factory(context.Background(), engine.Env{Storage: inmem.New()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Handle(context.Background(), &engine.Request{Operation: engine.OpRead, Path: "config"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"hash_algorithm": "bcrypt", "bcrypt_cost": 10,
		"argon2_time": uint32(2), "argon2_memory": uint32(19456), "argon2_threads": uint8(1),
		"lockout_threshold": 5, "lockout_duration": int64(900), "lockout_counter_reset": int64(900),
		"disable_lockout": false,
	}
	for k, v := range want {
		if resp.Data[k] != v {
			t.Errorf("default %s = %v (%T), want %v", k, resp.Data[k], resp.Data[k], v)
		}
	}
	if len(resp.Data) != len(want) {
		t.Errorf("config read has %d keys, want %d: %v", len(resp.Data), len(want), resp.Data)
	}
}

func TestConfigWrite(t *testing.T) {
	h := newHarness(t)
	h.mustDo(engine.OpUpdate, "config", map[string]any{"hash_algorithm": "argon2id", "lockout_duration": "90s", "disable_lockout": "true"})
	resp := h.mustDo(engine.OpRead, "config", nil)
	for k, v := range map[string]any{
		"hash_algorithm": "argon2id", "bcrypt_cost": 4, "argon2_memory": uint32(64),
		"lockout_duration": int64(90), "lockout_counter_reset": int64(900), "disable_lockout": true,
	} {
		if resp.Data[k] != v {
			t.Errorf("%s = %v, want %v", k, resp.Data[k], v)
		}
	}
	h.restart()
	if resp := h.mustDo(engine.OpRead, "config", nil); resp.Data["lockout_duration"] != int64(90) {
		t.Errorf("config lost at restart: %v", resp.Data)
	}

	for _, bad := range []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"hash_algorithm": "md5"}, "hash_algorithm"},
		{map[string]any{"bcrypt_cost": 3}, "bcrypt_cost"},
		{map[string]any{"bcrypt_cost": 17}, "bcrypt_cost"},
		{map[string]any{"argon2_time": 0}, "argon2_time"},
		{map[string]any{"argon2_memory": 63}, "argon2_memory"},
		{map[string]any{"argon2_memory": MaxArgon2Memory + 1}, "argon2_memory"},
		{map[string]any{"argon2_threads": 16, "argon2_memory": 100}, "argon2_memory"},
		{map[string]any{"argon2_threads": 0}, "argon2_threads"},
		{map[string]any{"argon2_threads": 300}, "argon2_threads"},
		{map[string]any{"lockout_threshold": 0}, "lockout_threshold"},
		{map[string]any{"lockout_duration": "0s"}, "lockout_duration"},
		{map[string]any{"lockout_counter_reset": "500ms"}, "lockout_counter_reset"},
		{map[string]any{"lockout_duration": "soon"}, "lockout_duration"},
	} {
		_, err := h.do(engine.OpUpdate, "config", bad.data)
		wantErr(t, err, engine.ErrInvalidRequest, "invalid "+bad.field)
	}
	// Refused writes changed nothing.
	if resp := h.mustDo(engine.OpRead, "config", nil); resp.Data["bcrypt_cost"] != 4 || resp.Data["hash_algorithm"] != "argon2id" {
		t.Errorf("refused writes changed the config: %v", resp.Data)
	}
	resp = h.mustDo(engine.OpUpdate, "config", map[string]any{"lockout_treshold": 3})
	if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "lockout_treshold") {
		t.Errorf("misspelt key answered %+v, want a warning", resp)
	}
}
