package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// realLog writes n entries through a Broker and returns the lines.
func realLog(t testing.TB, n int) [][]byte {
	b := NewBroker(BrokerOptions{})
	defer b.Close()
	d := &memDevice{}
	if err := b.Add("mem/", d, testKey, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := &Entry{Type: TypeRequest, Request: &Request{ID: fmt.Sprint(i), Operation: "read", Path: "secret/data/x",
			Data: map[string]any{"value": fmt.Sprint("secret-", i)}}}
		if err := b.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return d.all()
}

func join(lines [][]byte) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// edit returns a copy of lines with line i (0-based) changed by f.
func edit(lines [][]byte, i int, f func([]byte) []byte) [][]byte {
	out := make([][]byte, len(lines))
	copy(out, lines)
	out[i] = f(bytes.Clone(lines[i]))
	return out
}

func TestVerify(t *testing.T) {
	lines := realLog(t, 6)
	intact := join(lines)
	changeID := func(l []byte) []byte { return bytes.Replace(l, []byte(`"id":"2"`), []byte(`"id":"9"`), 1) }
	deleted := append(append([][]byte{}, lines[:2]...), lines[3:]...)
	swapped := append([][]byte{}, lines...)
	swapped[2], swapped[3] = swapped[3], swapped[2]
	restarted := append(append([][]byte{}, lines...), realLog(t, 2)...)
	inserted := append(append(append([][]byte{}, lines[:3]...), lines[0]), lines[3:]...)

	tests := []struct {
		name  string
		files map[string][]byte
		order []string
		line  int // 0: intact
		file  string
		why   string
	}{
		{name: "intact", files: map[string][]byte{"a": intact}},
		{name: "empty", files: map[string][]byte{"a": nil}},
		{name: "edited line 3", files: map[string][]byte{"a": join(edit(lines, 2, changeID))}, line: 3, why: "edited"},
		{name: "edited JSON breaks", files: map[string][]byte{"a": join(edit(lines, 2, func(l []byte) []byte { return l[:len(l)-1] }))}, line: 3, why: "not valid JSON"},
		{name: "edited seq", files: map[string][]byte{"a": join(edit(lines, 2, func(l []byte) []byte {
			return bytes.Replace(l, []byte(`"seq":3`), []byte(`"seq":4`), 1)
		}))}, line: 3, why: "missing"},
		{name: "edited prev_hash of line 1", files: map[string][]byte{"a": join(edit(lines, 0, func(l []byte) []byte {
			return bytes.Replace(l, []byte(`"prev_hash":""`), []byte(`"prev_hash":"`+strings.Repeat("0", 64)+`"`), 1)
		}))}, line: 1, why: "empty prev_hash"},
		{name: "deleted line 3", files: map[string][]byte{"a": join(deleted)}, line: 3, why: "1 line(s) before this one are missing"},
		{name: "swapped lines 3 and 4", files: map[string][]byte{"a": join(swapped)}, line: 3, why: "seq 4 follows seq 2"},
		{name: "cut-off last line", files: map[string][]byte{"a": intact[:len(intact)-10]}, line: 6, why: "cut off"},
		{name: "last newline removed", files: map[string][]byte{"a": intact[:len(intact)-1]}, line: 6, why: "cut off"},
		{name: "first line deleted", files: map[string][]byte{"a": join(lines[1:])}, line: 1, why: "starts at seq 2"},
		{name: "duplicated line", files: map[string][]byte{"a": join(append(append([][]byte{}, lines...), lines[5]))}, line: 7, why: "goes back"},
		{name: "blank line", files: map[string][]byte{"a": join(append(append(append([][]byte{}, lines[:2]...), nil), lines[2:]...))}, line: 3, why: "not valid JSON"},
		{name: "not an audit line", files: map[string][]byte{"a": join(append([][]byte{[]byte(`{"time":"x"}`)}, lines...))}, line: 1, why: "no seq"},
		{name: "restart accepted", files: map[string][]byte{"a": join(restarted)}},
		{name: "inserted first line", files: map[string][]byte{"a": join(inserted)}, line: 4, why: "inserted"},
		{name: "rotated", files: map[string][]byte{"1": join(lines[:4]), "2": join(lines[4:])}, order: []string{"1", "2"}},
		{name: "rotated, wrong order", files: map[string][]byte{"1": join(lines[:4]), "2": join(lines[4:])}, order: []string{"2", "1"}, file: "2", line: 1, why: "starts at seq 5"},
		{name: "rotated, last line of first file edited", files: map[string][]byte{"1": join(edit(lines, 3, func(l []byte) []byte {
			return bytes.Replace(l, []byte(`"read"`), []byte(`"list"`), 1)
		})[:4]), "2": join(lines[4:])}, order: []string{"1", "2"}, file: "1", line: 4, why: "edited"},
		{name: "rotated, line missing at the boundary", files: map[string][]byte{"1": join(lines[:3]), "2": join(lines[4:])}, order: []string{"1", "2"}, file: "2", line: 1, why: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := tt.order
			if order == nil {
				order = []string{"a"}
			}
			var files []NamedReader
			for _, name := range order {
				files = append(files, NamedReader{Name: name, R: bytes.NewReader(tt.files[name])})
			}
			sum, err := Verify(files)
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("Verify = %v, want a ChainError", err)
			}
			file := tt.file
			if file == "" {
				file = "a"
			}
			if ce.File != file || ce.Line != tt.line || !strings.Contains(ce.Reason, tt.why) {
				t.Errorf("got %q, want %s: line %d: ...%s...", ce.Error(), file, tt.line, tt.why)
			}
			if !strings.HasPrefix(ce.Error(), fmt.Sprintf("%s: line %d: ", file, tt.line)) {
				t.Errorf("Error() = %q", ce.Error())
			}
			if sum == nil {
				t.Error("no partial summary")
			}
		})
	}
}

func TestVerifySummary(t *testing.T) {
	lines := realLog(t, 5)
	sum, err := Verify([]NamedReader{{"a", bytes.NewReader(join(lines))}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != 5 || sum.LastSeq != 5 || sum.LastHash != LineHash(lines[4]) || len(sum.Restarts) != 0 {
		t.Errorf("Summary = %+v", sum)
	}
	restarted := append(append([][]byte{}, lines...), realLog(t, 2)...)
	sum, err = Verify([]NamedReader{{"a", bytes.NewReader(join(restarted))}})
	if err != nil || len(sum.Restarts) != 1 || sum.Restarts[0] != (Location{"a", 6}) || sum.LastSeq != 2 {
		t.Errorf("restart: %+v, %v", sum, err)
	}
}

// An edit of the last line is invisible to Verify alone; the summary's
// LastHash then differs from the head the server holds.
func TestVerifyCannotSeeAnEditedLastLine(t *testing.T) {
	lines := realLog(t, 3)
	head, err := HeadOf(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(lines, 2, func(l []byte) []byte { return bytes.Replace(l, []byte(`"read"`), []byte(`"list"`), 1) })
	sum, err := Verify([]NamedReader{{"a", bytes.NewReader(join(edited))}})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.LastSeq != head.Seq || sum.LastHash == head.Hash {
		t.Errorf("summary %+v should differ from the true head %+v in its hash only", sum, head)
	}
}

func TestVerifyFrom(t *testing.T) {
	lines := realLog(t, 6)
	first, err := Verify([]NamedReader{{"1", bytes.NewReader(join(lines[:4]))}})
	if err != nil {
		t.Fatal(err)
	}
	start := ChainHead{Seq: first.LastSeq, Hash: first.LastHash}
	if _, err := VerifyFrom(start, []NamedReader{{"2", bytes.NewReader(join(lines[4:]))}}); err != nil {
		t.Errorf("VerifyFrom: %v", err)
	}
	start.Hash = LineHash([]byte("other"))
	var ce *ChainError
	if _, err := VerifyFrom(start, []NamedReader{{"2", bytes.NewReader(join(lines[4:]))}}); !errors.As(err, &ce) || ce.Line != 1 {
		t.Errorf("VerifyFrom with a wrong head = %v", err)
	}
}

func TestHeadOf(t *testing.T) {
	lines := realLog(t, 2)
	h, err := HeadOf(lines[1])
	if err != nil || h.Seq != 2 || h.Hash != LineHash(lines[1]) {
		t.Errorf("HeadOf = %+v, %v", h, err)
	}
	for _, bad := range []string{``, `{}`, `[1]`, `{"seq":0,"prev_hash":""}`, `{"seq":-1,"prev_hash":""}`,
		`{"seq":1,"prev_hash":"zz"}`, `{"seq":1}`, `{"seq":1,"prev_hash":""`} {
		if _, err := HeadOf([]byte(bad)); err == nil {
			t.Errorf("HeadOf(%s) succeeded", bad)
		}
	}
}

func FuzzVerify(f *testing.F) {
	lines := realLog(f, 4)
	f.Add(join(lines))
	f.Add(join(lines)[:len(join(lines))-7])
	f.Add(join(append(append([][]byte{}, lines[1:]...), lines[0])))
	f.Add(join(edit(lines, 1, func(l []byte) []byte { return bytes.ToUpper(l) })))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"prev_hash":""}` + "\n" + `{"seq":2,"prev_hash":""}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, err := Verify([]NamedReader{{"f", bytes.NewReader(data)}})
		n := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			n++
		}
		var ce *ChainError
		switch {
		case err == nil:
			if len(data) > 0 && data[len(data)-1] != '\n' {
				t.Fatal("accepted a log without a final newline")
			}
			if sum.Lines != n {
				t.Fatalf("Lines = %d, want %d", sum.Lines, n)
			}
		case errors.As(err, &ce):
			if ce.Line < 1 || ce.Line > n || ce.File != "f" {
				t.Fatalf("blamed line %d of %d", ce.Line, n)
			}
			if sum == nil || sum.Lines >= ce.Line+1 {
				t.Fatalf("summary %+v covers the blamed line %d", sum, ce.Line)
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
