package core

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wardsec/ward/internal/barrier"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// A snapshot, as sys/storage/raft/snapshot hands it out, is a gzip'd tar
// shaped like Vault's, so that Vault's clients accept it:
//
//	ward.snap          the storage snapshot (values are barrier ciphertext)
//	SHA256SUMS         "<hex sha-256>  ward.snap"
//	SHA256SUMS.sealed  SHA256SUMS encrypted by the barrier
//
// The sealed sums make a snapshot tamper-evident: a restore without force
// decrypts them with this cluster's keyring, which also proves the
// snapshot comes from this cluster, and compares the hash before
// anything is installed.
const (
	snapshotFile      = "ward.snap"
	snapshotSums      = "SHA256SUMS"
	snapshotSealed    = "SHA256SUMS.sealed"
	snapshotSealedKey = "core/raft/snapshot-sums"
)

// errBadSnapshot is the answer to a damaged, altered or foreign archive.
var errBadSnapshot = engine.BadRequest("the snapshot is damaged or not a Ward raft snapshot; nothing was changed")

// RaftSnapshot writes a snapshot archive of the whole store to w. The
// storage snapshot goes through a temporary file (mode 0600, removed
// after) because a tar entry needs its size before its bytes.
func (c *Core) RaftSnapshot(ctx context.Context, w io.Writer) error {
	if c.ha == nil {
		return engine.BadRequest("this server's storage is not raft")
	}
	if _, err := c.state(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "ward-snapshot-*")
	if err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	if err := c.ha.SaveSnapshot(ctx, io.MultiWriter(tmp, h)); err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	sums := []byte(hex.EncodeToString(h.Sum(nil)) + "  " + snapshotFile + "\n")
	sealed, err := c.barrier.Encrypt(snapshotSealedKey, sums)
	if err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := c.opts.Now()
	put := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := put(snapshotFile, size, tmp); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	if err := put(snapshotSums, int64(len(sums)), bytes.NewReader(sums)); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	if err := put(snapshotSealed, int64(len(sealed)), bytes.NewReader(sealed)); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	return gz.Close()
}

// RaftRestore replaces the whole store with a snapshot archive. Without
// force, the archive's sealed sums must open with this cluster's keys
// and the snapshot's keyring with this cluster's root key; a foreign,
// altered or damaged archive is a 400 that changes nothing. With force
// (another cluster's snapshot) only the plain sums are checked, and the
// node, unable to open the restored data, seals itself: it is then
// unsealed with that cluster's shares. Either way the active node
// rebuilds its state from the restored data.
func (c *Core) RaftRestore(ctx context.Context, r io.Reader, force bool) error {
	if c.ha == nil {
		return engine.BadRequest("this server's storage is not raft")
	}
	if _, err := c.state(); err != nil {
		return err
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return errBadSnapshot
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != snapshotFile {
		return errBadSnapshot
	}
	c.lifecycle.Lock()
	rootKey := bytes.Clone(c.hastate.rootKey)
	c.lifecycle.Unlock()
	defer clear(rootKey)

	h := sha256.New()
	verify := func(view storage.Backend) error {
		// The storage snapshot has been read in full: check the sums that
		// follow it before raft installs anything.
		if err := c.checkSnapshotSums(tr, h.Sum(nil), force); err != nil {
			return err
		}
		// The gzip trailer (CRC and size) is checked only when read.
		if _, err := io.Copy(io.Discard, gz); err != nil {
			return errBadSnapshot
		}
		if force {
			return nil
		}
		b := barrier.New(view, &barrier.Options{Rand: c.opts.Rand, Clock: c.opts.Now})
		if err := b.Unseal(ctx, rootKey); err != nil {
			return engine.BadRequest("the snapshot does not open with this cluster's keys; nothing was changed")
		}
		b.Seal()
		return nil
	}
	if err := c.ha.RestoreSnapshot(ctx, io.TeeReader(tr, h), verify); err != nil {
		if errors.Is(err, storage.ErrInvalidSnapshot) {
			return errBadSnapshot
		}
		var ee *engine.Error
		if errors.As(err, &ee) {
			return ee
		}
		return fmt.Errorf("raft restore: %w", err)
	}
	c.lifecycle.Lock()
	defer c.lifecycle.Unlock()
	c.stepDown()
	if err := c.becomeActive(ctx); err != nil {
		c.forgetRootKey()
		c.log.Warn("core: the restored snapshot does not open with this cluster's keys; sealed: unseal with the snapshot's shares", "error", err)
	}
	return nil
}

// checkSnapshotSums reads SHA256SUMS and SHA256SUMS.sealed from the rest
// of the archive and checks them against sum, the hash of the storage
// snapshot. Unless force, the sealed copy must decrypt with this
// cluster's keyring and say the same.
func (c *Core) checkSnapshotSums(tr *tar.Reader, sum []byte, force bool) error {
	want := hex.EncodeToString(sum) + "  " + snapshotFile + "\n"
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || hdr.Size > 1<<16 {
			return errBadSnapshot
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return errBadSnapshot
		}
		files[hdr.Name] = b
	}
	if string(files[snapshotSums]) != want {
		return errBadSnapshot
	}
	if force {
		return nil
	}
	plain, err := c.barrier.Decrypt(snapshotSealedKey, files[snapshotSealed])
	if err != nil {
		return engine.BadRequest("the snapshot does not open with this cluster's keys (its sealed checksums do not decrypt; another cluster's snapshot needs snapshot-force); nothing was changed")
	}
	if !strings.EqualFold(string(plain), want) {
		return errBadSnapshot
	}
	return nil
}
