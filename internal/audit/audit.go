package audit

import (
	"context"
	"errors"
)

// ErrNotRecorded is returned by Broker.Log when no device recorded the
// entry; core refuses the request and returns no data. The error wraps
// each device's failure; it never contains entry content.
var ErrNotRecorded = errors.New("audit: no audit device recorded the request")

// Device is a destination for audit lines: a file, a socket.
//
// Write records one line (a JSON object without the trailing newline; the
// device adds it) and returns nil only once the device has taken it
// (written to the file, sent on the socket). A nil return means the line
// is part of the device's output and the Broker advances the chain; an
// error means it is not (the same seq is written again next time). It
// should return by the context's deadline: a device that cannot write in
// time fails that entry rather than stall the server. A Write that ignores
// the deadline does not block the server (the Broker stops waiting), but
// it blocks every later entry of that device until it returns.
//
// The Broker never calls Write and Reopen concurrently on one device: it
// serialises them, to keep the chain in order. Reopen is called on SIGHUP
// (a file device reopens its path so that log rotation works). Close
// releases the device; the Broker calls it once, after the last Write has
// returned, or, if a Write is stuck past its deadline, while it still runs:
// Close must not wait for a stuck Write.
type Device interface {
	Write(ctx context.Context, line []byte) error
	Reopen() error
	Close() error
}

// ChainHead is where a device's hash chain stands: the sequence number and
// hash (LineHash) of the last line it wrote. A device that can read back
// its own output (a file) reports it at open so that the chain continues
// across restarts; the zero value starts a new chain.
type ChainHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// HeadReader is implemented by devices that can recover their chain head.
// The Broker calls Head once, when the device is added; an error refuses
// the device.
type HeadReader interface {
	Head() (ChainHead, error)
}
