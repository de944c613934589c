package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/wardsec/ward/internal/audit"
)

// Special paths.
const (
	Stdout  = "stdout"  // write to the server's standard output
	Discard = "discard" // drop every line
)

// DefaultMode is the mode of a new audit file when New gets 0.
const DefaultMode os.FileMode = 0o600

// maxKeptBuffer bounds the write buffer a Device keeps between writes.
const maxKeptBuffer = 64 << 10

// Device appends audit lines to a file. It is safe for concurrent use.
type Device struct {
	path string
	mode os.FileMode
	head audit.ChainHead // found at open; see Head

	mu     sync.Mutex
	w      io.Writer // the file, os.Stdout, or nil (discard)
	f      *os.File  // the file, if w is one
	torn   bool      // the output does not end with a newline
	closed bool
	buf    []byte
}

// New opens the audit file at path ("stdout", "discard" or a file path)
// and reads its chain head back. mode 0 means DefaultMode; a mode with an
// executable bit, or other than permission bits, is refused.
func New(path string, mode os.FileMode) (*Device, error) {
	if mode == 0 {
		mode = DefaultMode
	}
	if mode&^os.ModePerm != 0 || mode&0o111 != 0 {
		return nil, fmt.Errorf("file audit device: mode %#o: must be permission bits without execute", mode)
	}
	d := &Device{path: path, mode: mode}
	switch path {
	case "":
		return nil, errors.New("file audit device: file_path is required")
	case Discard:
		return d, nil
	case Stdout:
		d.w = os.Stdout
		return d, nil
	}
	f, err := d.open()
	if err != nil {
		return nil, err
	}
	head, torn, err := readHead(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file audit device: %s: %w", path, err)
	}
	d.w, d.f, d.torn, d.head = f, f, torn, head
	return d, nil
}

// open opens (creating) the file for appending, with d's mode.
func (d *Device) open() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return nil, fmt.Errorf("file audit device: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, d.mode)
	if err != nil {
		return nil, fmt.Errorf("file audit device: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != d.mode {
		err = f.Chmod(d.mode)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file audit device: %s: %w", d.path, err)
	}
	return f, nil
}

// Head reports the chain head found when the file was opened: the seq and
// hash of its last complete line, or the zero head for a new or empty
// file, "stdout" and "discard". The Broker reads it once, at Add.
func (d *Device) Head() (audit.ChainHead, error) { return d.head, nil }

// Write appends line and a newline in one write. ctx is checked before
// writing; a write to a local file is not interrupted.
func (d *Device) Write(ctx context.Context, line []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("file audit device: write %s: closed", d.path)
	}
	if d.w == nil {
		return nil
	}
	buf := d.buf[:0]
	if d.torn {
		buf = append(buf, '\n')
	}
	buf = append(buf, line...)
	buf = append(buf, '\n')
	n, err := d.w.Write(buf)
	if cap(buf) <= maxKeptBuffer {
		d.buf = buf[:0]
	}
	if err != nil {
		if n > 0 {
			d.torn = true // part of the line went out: end it before the next
		}
		return fmt.Errorf("file audit device: write %s: %w", d.path, err)
	}
	d.torn = false
	return nil
}

// Reopen opens the path again, for log rotation: later lines go to the
// file now at the path (created if it was renamed away). If that fails,
// lines keep going to the file already open and the error is returned.
func (d *Device) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("file audit device: reopen %s: closed", d.path)
	}
	if d.f == nil {
		return nil
	}
	f, err := d.open()
	if err != nil {
		return err
	}
	torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("file audit device: reopen %s: %w", d.path, err)
	}
	old := d.f
	d.w, d.f, d.torn = f, f, torn
	if err := old.Close(); err != nil {
		return fmt.Errorf("file audit device: close the previous %s: %w", d.path, err)
	}
	return nil
}

// Close closes the file; later writes fail. Standard output stays open.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.f == nil {
		return nil
	}
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("file audit device: close %s: %w", d.path, err)
	}
	return nil
}

// String names the device.
func (d *Device) String() string { return "file audit device " + d.path }
