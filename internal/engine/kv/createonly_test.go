package kv

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wardsec/ward/internal/engine"
)

// A create-only write that finds its target already there (it was created
// after core's existence check) must not overwrite it.
func TestCreateOnlyNeverOverwrites(t *testing.T) {
	tests := []struct {
		version, path, first, second string
	}{
		{"2", "data/app", `{"data":{"k":"first"}}`, `{"data":{"k":"second"}}`},
		{"2", "metadata/app", `{"max_versions":3}`, `{"max_versions":7}`},
		{"1", "app", `{"k":"first"}`, `{"k":"second"}`},
	}
	for _, tt := range tests {
		t.Run("v"+tt.version+"/"+tt.path, func(t *testing.T) {
			h := newHarness(t, tt.version)
			create := func(js string) error {
				_, err := h.b.Handle(context.Background(), &engine.Request{
					Operation: engine.OpCreate, Path: tt.path, MountPath: "secret/",
					Data: body(t, js), CreateOnly: true,
				})
				return err
			}
			if err := create(tt.first); err != nil {
				t.Fatalf("first create: %v", err)
			}
			before := h.ok(engine.OpRead, tt.path, "")
			if err := create(tt.second); !errors.Is(err, engine.ErrPermissionDenied) {
				t.Fatalf("second create-only write: %v, want permission denied", err)
			}
			after := h.ok(engine.OpRead, tt.path, "")
			if !equalJSON(t, before.Data, after.Data) {
				t.Fatalf("target changed: %v -> %v", before.Data, after.Data)
			}
		})
	}
}

func equalJSON(t *testing.T, a, b map[string]any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
