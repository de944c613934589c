package raft

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	hraft "github.com/hashicorp/raft"
	"go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/storage"
)

// Snapshot file format (SaveSnapshot writes it, RestoreSnapshot reads it):
//
//	magic       8 bytes, "WARDRAFT"
//	version     1 byte, snapshotVersion
//	header len  4 bytes, big endian
//	header      JSON snapshotHeader
//	state       header.Size bytes: the fsm.db bbolt file
//	checksum    32 bytes: SHA-256 of everything before it
//
// The state holds exactly what storage holds: keys, and values that are
// barrier ciphertext. Nothing in the file is plaintext secret material.
const (
	snapshotMagic   = "WARDRAFT"
	snapshotVersion = 1
	maxHeaderSize   = 64 << 10
)

type snapshotHeader struct {
	NodeID      string    `json:"node_id"` // the node that saved it
	Index       uint64    `json:"index"`   // raft index and term the state is at
	Term        uint64    `json:"term"`
	Size        int64     `json:"size"`         // state bytes
	RaftVersion int       `json:"raft_version"` // hashicorp/raft snapshot version
	Created     time.Time `json:"created"`
}

// SaveSnapshot writes a snapshot of the whole store to w, streaming it. It
// runs on the leader only (ErrNotLeader elsewhere) and includes every write
// acknowledged before the call.
func (b *Backend) SaveSnapshot(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: save snapshot: %w", err)
	}
	if err := b.readBarrier(ctx); err != nil {
		return fmt.Errorf("raft: save snapshot: %w", err)
	}
	meta, rc, err := b.takeSnapshot()
	if err != nil {
		return fmt.Errorf("raft: save snapshot: %w", err)
	}
	defer rc.Close()

	hdr, err := json.Marshal(snapshotHeader{
		NodeID: b.opts.NodeID, Index: meta.Index, Term: meta.Term, Size: meta.Size,
		RaftVersion: int(meta.Version), Created: time.Now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("raft: save snapshot: %w", err)
	}
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	prefix := append([]byte(snapshotMagic), snapshotVersion)
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(len(hdr)))
	prefix = append(prefix, hdr...)
	if _, err := out.Write(prefix); err != nil {
		return fmt.Errorf("raft: save snapshot: write: %w", err)
	}
	n, err := io.Copy(out, rc)
	if err != nil {
		return fmt.Errorf("raft: save snapshot: write: %w", err)
	}
	if n != meta.Size {
		return fmt.Errorf("raft: save snapshot: state is %d bytes, snapshot metadata says %d", n, meta.Size)
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("raft: save snapshot: write: %w", err)
	}
	return nil
}

// takeSnapshot has raft snapshot the FSM now and opens the result; when
// nothing was applied since the last snapshot it opens that one instead.
func (b *Backend) takeSnapshot() (*hraft.SnapshotMeta, io.ReadCloser, error) {
	f := b.raft.Snapshot()
	err := f.Error()
	if err == nil {
		return f.Open()
	}
	if !errors.Is(err, hraft.ErrNothingNewToSnapshot) {
		return nil, nil, b.mapErr(err)
	}
	list, err := b.snaps.List()
	if err != nil {
		return nil, nil, err
	}
	if len(list) == 0 {
		return nil, nil, errors.New("no snapshot to open")
	}
	return b.snaps.Open(list[0].ID)
}

// RestoreSnapshot replaces the whole store with a snapshot written by
// SaveSnapshot, on this cluster or another. It runs on the leader only.
// The file is checked (format, checksum, state file) in a temporary copy
// before raft sees it, so a damaged file changes nothing: that is an error
// wrapping storage.ErrInvalidSnapshot. verify, when not nil, then reads
// the snapshot's state through a read-only view and may refuse it, again
// before anything changes. On success every node holds the snapshot's
// state, and writes made since it was saved are gone; writes in flight
// during the restore fail with ErrLeadershipLost.
func (b *Backend) RestoreSnapshot(ctx context.Context, r io.Reader, verify func(storage.Backend) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", err)
	}
	if b.closed.Load() {
		return fmt.Errorf("raft: restore snapshot: %w", ErrClosed)
	}
	if !b.IsLeader() {
		return fmt.Errorf("raft: restore snapshot: %w", ErrNotLeader)
	}
	tmp, err := os.CreateTemp(b.opts.Dir, "restore-*.snap")
	if err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	hdr, err := readSnapshot(r, tmp)
	if err != nil {
		return fmt.Errorf("raft: restore snapshot: %w: %w", storage.ErrInvalidSnapshot, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", err)
	}
	if err := checkStateFile(tmp.Name()); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w: %w", storage.ErrInvalidSnapshot, err)
	}
	if verify != nil {
		if err := verifyStateFile(tmp.Name(), verify); err != nil {
			return fmt.Errorf("raft: restore snapshot: %w", err)
		}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", err)
	}
	meta := &hraft.SnapshotMeta{
		Version: hraft.SnapshotVersion(hdr.RaftVersion),
		Index:   hdr.Index,
		Term:    hdr.Term,
		Size:    hdr.Size,
	}
	if err := b.raft.Restore(meta, tmp, timeout(ctx)); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", b.mapErr(err))
	}
	b.opts.Logger.Info("raft: restored snapshot", "from_node", hdr.NodeID, "from_index", hdr.Index, "bytes", hdr.Size)
	return nil
}

// readSnapshot parses a snapshot file from r, copying the state to dst, and
// verifies the checksum. It returns the header.
func readSnapshot(r io.Reader, dst io.Writer) (snapshotHeader, error) {
	var hdr snapshotHeader
	sum := sha256.New()
	br := bufio.NewReader(r)
	in := io.TeeReader(br, sum)
	prefix := make([]byte, len(snapshotMagic)+1+4)
	if _, err := io.ReadFull(in, prefix); err != nil {
		return hdr, fmt.Errorf("read header: %w", noEOF(err))
	}
	if string(prefix[:len(snapshotMagic)]) != snapshotMagic {
		return hdr, errors.New("not a ward raft snapshot (bad magic)")
	}
	if v := prefix[len(snapshotMagic)]; v != snapshotVersion {
		return hdr, fmt.Errorf("snapshot format version %d is not supported (want %d)", v, snapshotVersion)
	}
	n := binary.BigEndian.Uint32(prefix[len(snapshotMagic)+1:])
	if n > maxHeaderSize {
		return hdr, fmt.Errorf("snapshot header of %d bytes is over the limit of %d", n, maxHeaderSize)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(in, raw); err != nil {
		return hdr, fmt.Errorf("read header: %w", noEOF(err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hdr); err != nil {
		return hdr, fmt.Errorf("decode header: %w", err)
	}
	if hdr.Size <= 0 {
		return hdr, fmt.Errorf("snapshot header gives a state size of %d bytes", hdr.Size)
	}
	if v := hraft.SnapshotVersion(hdr.RaftVersion); v < hraft.SnapshotVersionMin || v > hraft.SnapshotVersionMax {
		return hdr, fmt.Errorf("raft snapshot version %d is not supported", hdr.RaftVersion)
	}
	if _, err := io.CopyN(dst, in, hdr.Size); err != nil {
		return hdr, fmt.Errorf("read state: %w", noEOF(err))
	}
	return hdr, checkTrailer(br, sum)
}

func checkTrailer(br *bufio.Reader, sum hash.Hash) error {
	want := sum.Sum(nil)
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(br, got); err != nil {
		return fmt.Errorf("read checksum: %w", noEOF(err))
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return errors.New("checksum mismatch: the snapshot is damaged or was modified")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return errors.New("unexpected data after the checksum")
	}
	return nil
}

// noEOF reports a short file as io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// verifyStateFile opens a snapshot's state file read-only and hands a
// view of it to verify.
func verifyStateFile(path string, verify func(storage.Backend) error) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: %w", storage.ErrInvalidSnapshot, err)
	}
	defer db.Close()
	return verify(localView{&fsm{path: path, db: db}})
}
