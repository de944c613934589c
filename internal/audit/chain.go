package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// LineHash returns the hex SHA-256 of an audit line as written, without
// its newline: the prev_hash the next line of the chain carries.
func LineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// HeadOf returns the chain head a device stands at once line is its last
// line: line's seq and LineHash(line). A file device uses it to continue
// its chain after a restart. It fails if line is not a Ward audit entry.
func HeadOf(line []byte) (ChainHead, error) {
	seq, _, err := parseLink(line)
	if err != nil {
		return ChainHead{}, err
	}
	return ChainHead{Seq: seq, Hash: LineHash(line)}, nil
}

// Reasons parseLink gives for a line that is not a chain link.
var (
	errNotJSON    = errors.New("not valid JSON")
	errNotEntry   = errors.New("not a Ward audit entry (no seq or prev_hash)")
	errZeroSeq    = errors.New("seq must be 1 or more")
	errBadPrevLen = errors.New("prev_hash is not empty or a hex SHA-256")
)

// parseLink reads the chain fields of one line.
func parseLink(line []byte) (seq uint64, prev string, err error) {
	var rec struct {
		Seq      *uint64 `json:"seq"`
		PrevHash *string `json:"prev_hash"`
	}
	if err := json.Unmarshal(line, &rec); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return 0, "", errNotJSON
		}
		return 0, "", errNotEntry
	}
	if rec.Seq == nil || rec.PrevHash == nil {
		return 0, "", errNotEntry
	}
	seq = *rec.Seq
	if seq == 0 {
		return 0, "", errZeroSeq
	}
	if p := *rec.PrevHash; p != "" && (len(p) != 2*sha256.Size || !isLowerHex(p)) {
		return 0, "", errBadPrevLen
	}
	return seq, *rec.PrevHash, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// unstampedSuffix ends every Entry encoded with Seq 0 and an empty
// PrevHash, the last two fields of Entry.
const unstampedSuffix = `"seq":0,"prev_hash":""}`

// encodeUnstamped encodes e (which it may modify: the caller passes its
// own copy) without its chain fields: the result ends where `"seq":`
// will go. Encoding happens outside the device's critical section; stamp
// then adds seq and prev_hash cheaply.
func encodeUnstamped(e *Entry) ([]byte, error) {
	e.Seq, e.PrevHash = 0, ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	if !bytes.HasSuffix(b, []byte(unstampedSuffix)) {
		return nil, errors.New("encode entry: chain fields are not last")
	}
	return b[:len(b)-len(unstampedSuffix)], nil
}

// stamp completes an encodeUnstamped prefix into a line: the same bytes
// json.Marshal gives for the entry with Seq and PrevHash set.
func stamp(prefix []byte, seq uint64, prev string) []byte {
	b := append(prefix, `"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"prev_hash":"`...)
	b = append(b, prev...)
	return append(b, `"}`...)
}
