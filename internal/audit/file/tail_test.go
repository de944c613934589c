package file

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/audit"
)

func TestHeadAt(t *testing.T) {
	l1 := `{"type":"request","seq":1,"prev_hash":""}`
	l2 := `{"type":"request","seq":2,"prev_hash":"` + audit.LineHash([]byte(l1)) + `"}`
	long := `{"data":"` + strings.Repeat("x", 3*chunk+17) + `","seq":3,"prev_hash":"` + audit.LineHash([]byte(l2)) + `"}`
	tests := []struct {
		name    string
		content string
		seq     uint64
		last    string
		torn    bool
		err     bool
	}{
		{name: "empty"},
		{name: "one line", content: l1 + "\n", seq: 1, last: l1},
		{name: "two lines", content: l1 + "\n" + l2 + "\n", seq: 2, last: l2},
		{name: "long last line", content: l1 + "\n" + l2 + "\n" + long + "\n", seq: 3, last: long},
		{name: "torn after a line", content: l1 + "\n" + `{"type":"req`, seq: 1, last: l1, torn: true},
		{name: "torn long", content: l1 + "\n" + long[:len(long)-5], seq: 1, last: l1, torn: true},
		{name: "only torn", content: `{"type":"req`, torn: true},
		{name: "blank last line", content: l1 + "\n\n", err: true},
		{name: "not audit", content: "hello world\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader([]byte(tt.content))
			h, torn, err := headAt(r, int64(len(tt.content)))
			if tt.err {
				if err == nil {
					t.Fatalf("headAt = %+v, want an error", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := audit.ChainHead{}
			if tt.last != "" {
				want = audit.ChainHead{Seq: tt.seq, Hash: audit.LineHash([]byte(tt.last))}
			}
			if h != want || torn != tt.torn {
				t.Errorf("headAt = %+v torn %v; want %+v torn %v", h, torn, want, tt.torn)
			}
		})
	}
}
