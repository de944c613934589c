package file

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wardsec/ward/internal/audit"
)

// chunk is how much the backward scan reads at a time.
const chunk = 64 << 10

// readHead returns the chain head of the audit file f: that of its last
// complete line (zero if it has none), and whether f ends in a torn line
// (bytes after the last newline).
func readHead(f *os.File) (audit.ChainHead, bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return audit.ChainHead{}, false, err
	}
	if !fi.Mode().IsRegular() {
		return audit.ChainHead{}, false, nil // a pipe or device: nothing to read back
	}
	return headAt(f, fi.Size())
}

// headAt is readHead for the first size bytes of r.
func headAt(r io.ReaderAt, size int64) (audit.ChainHead, bool, error) {
	if size == 0 {
		return audit.ChainHead{}, false, nil
	}
	end, err := lastNewline(r, size)
	if err != nil {
		return audit.ChainHead{}, false, err
	}
	torn := end != size-1
	if end < 0 {
		return audit.ChainHead{}, torn, nil // only a torn line
	}
	start, err := lastNewline(r, end)
	if err != nil {
		return audit.ChainHead{}, false, err
	}
	start++
	line := make([]byte, end-start)
	if _, err := r.ReadAt(line, start); err != nil {
		return audit.ChainHead{}, false, fmt.Errorf("read the last line: %w", err)
	}
	head, err := audit.HeadOf(line)
	if err != nil {
		return audit.ChainHead{}, false, fmt.Errorf("the last complete line is not a Ward audit entry (%w): move the file aside to start a new log", err)
	}
	return head, torn, nil
}

// lastNewline returns the offset of the last '\n' before offset end, or
// -1 if there is none. It reads backwards at most MaxLineSize+1 bytes.
func lastNewline(r io.ReaderAt, end int64) (int64, error) {
	buf := make([]byte, min(chunk, end))
	for pos, scanned := end, int64(0); pos > 0; {
		if scanned > audit.MaxLineSize {
			return 0, fmt.Errorf("the last line is longer than %d bytes", audit.MaxLineSize)
		}
		n := min(int64(len(buf)), pos)
		pos -= n
		b := buf[:n]
		if _, err := r.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read back the last line: %w", err)
		}
		for i := n - 1; i >= 0; i-- {
			if b[i] == '\n' {
				return pos + i, nil
			}
		}
		scanned += n
	}
	return -1, nil
}

// endsTorn reports whether the regular file f is non-empty and does not
// end with a newline.
func endsTorn(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}
