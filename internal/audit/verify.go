package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// MaxLineSize is the longest line Verify reads (and a file device reads
// back at open); a longer line is reported as broken.
const MaxLineSize = 64 << 20

// NamedReader is one audit file for Verify: Name appears in errors.
type NamedReader struct {
	Name string
	R    io.Reader
}

// Location is a line of a file, numbered from 1.
type Location struct {
	File string
	Line int
}

// Summary describes a verified chain.
type Summary struct {
	Lines    int    // lines read, over all files
	LastSeq  uint64 // seq of the last line (of the starting head if none)
	LastHash string // LineHash of the last line: compare with the server's head
	// Restarts lists the lines, after the first, that start a new chain
	// (seq 1, empty prev_hash): a server restarted with a device that
	// cannot read its head back (a socket, stdout).
	Restarts []Location
}

// ChainError is the first broken line Verify found.
type ChainError struct {
	File   string
	Line   int // 1-based, within File
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
}

// Verify reads audit lines from files in order (a rotated log continues
// its chain in the next file) and checks that they form an intact chain
// starting at seq 1. It returns the Summary and, if a link is broken, a
// *ChainError for the first broken line (the Summary then covers the
// lines before it). Other errors are read errors.
//
// Which line is blamed:
//   - a line that is not valid JSON, or has no seq or prev_hash, is
//     itself blamed ("not valid JSON": an edit, or a write torn by a
//     crash);
//   - the last line of a file without a final newline is blamed as cut off;
//   - a line whose seq is not one more than the line before (or not 1 on
//     the first line) is blamed: it follows a deleted line, or lines were
//     reordered, duplicated or inserted;
//   - a line whose seq is right but whose prev_hash does not match the
//     line before blames that line before: it was edited (or, less likely,
//     the prev_hash field of the line after it was);
//   - a line that starts a new chain (seq 1, empty prev_hash) is accepted
//     and listed in Summary.Restarts, but if the line after it continues
//     the old chain instead, the restart is blamed as inserted.
//
// Not detectable from the files alone: lines removed from the end, and an
// edit of the very last line. Compare Summary.LastSeq and LastHash with
// the device's head on the server (Broker.Head) to catch those.
func Verify(files []NamedReader) (*Summary, error) {
	return VerifyFrom(ChainHead{}, files)
}

// VerifyFrom is Verify for files that continue a chain standing at start:
// the first line must have seq start.Seq+1 and prev_hash start.Hash (for
// example the Summary.LastSeq and LastHash of the previous, rotated file).
func VerifyFrom(start ChainHead, files []NamedReader) (*Summary, error) {
	v := &verifier{prev: link{seq: start.Seq, hash: start.Hash}}
	sum := &Summary{LastSeq: start.Seq, LastHash: start.Hash}
	for _, f := range files {
		if err := v.file(f, sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// link is what the chain remembers of a line.
type link struct {
	seq  uint64
	hash string
	at   Location
	read bool // a line was read (false: the starting head)
}

type verifier struct {
	prev          link
	restart       bool // prev started a new chain
	beforeRestart link // the line before that restart
}

func (v *verifier) file(f NamedReader, sum *Summary) error {
	r := bufio.NewReaderSize(f.R, 64<<10)
	for n := 1; ; n++ {
		line, newline, err := readLine(r)
		if err == io.EOF {
			return nil
		}
		at := Location{File: f.Name, Line: n}
		if errors.Is(err, errLineTooLong) {
			return &ChainError{File: f.Name, Line: n, Reason: err.Error()}
		}
		if err != nil {
			return fmt.Errorf("audit: verify %s: %w", f.Name, err)
		}
		if !newline {
			return &ChainError{File: f.Name, Line: n, Reason: "cut off: no newline at the end of the file (a truncated or torn write)"}
		}
		if cerr := v.line(at, line, sum); cerr != nil {
			return cerr
		}
		sum.Lines++
		sum.LastSeq, sum.LastHash = v.prev.seq, v.prev.hash
	}
}

// line checks one complete line against the chain and advances it.
func (v *verifier) line(at Location, line []byte, sum *Summary) *ChainError {
	blame := func(l Location, format string, args ...any) *ChainError {
		return &ChainError{File: l.File, Line: l.Line, Reason: fmt.Sprintf(format, args...)}
	}
	seq, prev, err := parseLink(line)
	switch {
	case errors.Is(err, errNotJSON):
		return blame(at, "not valid JSON (an edit, or a write torn by a crash)")
	case err != nil:
		return blame(at, "%v", err)
	}
	cur := link{seq: seq, hash: LineHash(line), at: at, read: true}
	want := v.prev.seq + 1
	if seq == 1 && prev == "" && want != 1 {
		// A new chain: accepted, unless the next line shows it was inserted.
		v.beforeRestart, v.restart, v.prev = v.prev, true, cur
		sum.Restarts = append(sum.Restarts, at)
		return nil
	}
	if v.restart {
		b := v.beforeRestart
		if seq == b.seq+1 && prev == b.hash {
			return blame(v.prev.at, "starts a new chain (seq 1), but the line after it continues the chain before it: this line was inserted")
		}
	}
	switch {
	case seq != want && !v.prev.read && v.prev.seq == 0:
		return blame(at, "the chain starts at seq %d, not 1: earlier lines are missing (or lines were reordered)", seq)
	case seq != want && !v.prev.read:
		return blame(at, "seq %d does not continue the starting head (seq %d)", seq, v.prev.seq)
	case seq > want:
		return blame(at, "seq %d follows seq %d: %d line(s) before this one are missing (deleted), or lines were reordered", seq, v.prev.seq, seq-want)
	case seq < want:
		return blame(at, "seq %d follows seq %d: the seq goes back (lines reordered, duplicated or inserted)", seq, v.prev.seq)
	case prev != v.prev.hash && !v.prev.read && v.prev.seq == 0:
		return blame(at, "the first line of a chain must have an empty prev_hash: this line was edited")
	case prev != v.prev.hash && !v.prev.read:
		return blame(at, "prev_hash does not match the starting head's hash")
	case prev != v.prev.hash:
		return blame(v.prev.at, "edited: its hash does not match the prev_hash recorded in the next line (or that field of the next line was edited)")
	}
	v.prev, v.restart = cur, false
	return nil
}

var errLineTooLong = fmt.Errorf("longer than %d bytes", MaxLineSize)

// readLine returns the next line without its newline, whether it ended
// with one, and io.EOF once r is exhausted.
func readLine(r *bufio.Reader) (line []byte, newline bool, err error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineSize+1 {
			return nil, false, errLineTooLong
		}
		switch err {
		case nil:
			if buf == nil {
				return chunk[:len(chunk)-1], true, nil
			}
			buf = append(buf, chunk...)
			return buf[:len(buf)-1], true, nil
		case bufio.ErrBufferFull:
			buf = append(buf, chunk...)
		case io.EOF:
			buf = append(buf, chunk...)
			if len(buf) == 0 {
				return nil, false, io.EOF
			}
			return buf, false, nil
		default:
			return nil, false, err
		}
	}
}
