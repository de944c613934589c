package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/wardsec/ward/api"
)

// encodeCases are envelopes as the server answers them.
func encodeCases() []*api.Secret {
	return []*api.Secret{
		{RequestID: "8d1c0a52-3b8e-4f7e-9a3e-0c1f5b2d7e11", Data: map[string]any{
			"data": json.RawMessage(`{"password":"s3cr\u003cet","n":1}`),
			"metadata": map[string]any{
				"created_time": "2026-11-22T10:00:00.123456789Z", "custom_metadata": nil,
				"deletion_time": "", "destroyed": false, "version": 3,
			},
		}},
		{RequestID: "r", Data: map[string]any{"keys": []string{"a", "b/", "<script>"}}},
		{RequestID: "r", LeaseID: "database/creds/ro/abc", Renewable: true, LeaseDuration: 3600,
			Data: map[string]any{"username": "v-ro-x", "ttl": int64(-1), "list": []any{"x", 1, true, nil, 1.5},
				"meta": map[string]string{"z": "1", "a": "line\nbreak\t\"q\" \\ \u2028 \x01 \xff"}}},
		{RequestID: "r", Auth: &api.Auth{ClientToken: "hvs.x", Policies: []string{"default"},
			Metadata: map[string]string{"role": "web"}, LeaseDuration: 60, Renewable: true}},
		{RequestID: "r", WrapInfo: &api.WrapInfo{Token: "hvs.w", TTL: 300, CreationTime: "now", CreationPath: "sys/wrapping/wrap"}},
		{RequestID: "r", Warnings: []string{"a & b"}, MountType: "kv", Data: map[string]any{}},
		{RequestID: "r", Data: map[string]any{"when": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			"n": json.Number("12.50"), "f": 0.000001, "big": map[string]any{"1": 1, "2": 2, "3": 3, "4": 4,
				"5": 5, "6": 6, "7": 7, "8": 8, "9": 9, "10": 10}}},
	}
}

func TestAppendSecretMatchesMarshal(t *testing.T) {
	for i, s := range encodeCases() {
		checkEncoding(t, i, s)
	}
}

func checkEncoding(t *testing.T, i int, s *api.Secret) {
	t.Helper()
	want, wantErr := json.Marshal(s)
	got, err := appendSecret(nil, s)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("case %d: error %v, json.Marshal's %v", i, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
	}
}

// FuzzAppendSecret holds the hand-written encoder to encoding/json's
// output for any JSON-decodable data and any string.
func FuzzAppendSecret(f *testing.F) {
	for _, s := range encodeCases() {
		data, _ := json.Marshal(s.Data)
		f.Add(data, s.RequestID)
	}
	f.Add([]byte(`{"a":[1,2.5e10,"x\u2029y",{"<":">"}],"b":null}`), "\x00\x7f\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, in []byte, str string) {
		var plain, numbers any
		if json.Unmarshal(in, &plain) != nil {
			plain = string(in)
		}
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.UseNumber()
		if dec.Decode(&numbers) != nil {
			numbers = nil
		}
		raw, _ := json.Marshal(plain) // compact, as the contract requires
		s := &api.Secret{RequestID: str, LeaseID: str, Warnings: []string{str},
			Data: map[string]any{"plain": plain, "numbers": numbers, "raw": json.RawMessage(raw), str: str,
				"strs": map[string]string{str: str}}}
		checkEncoding(t, 0, s)
	})
}
