// Package file is the audit device that appends lines to a local file,
// Vault's "file" audit device:
//
//	d, err := file.New("/var/log/ward/audit.log", 0o600)
//	if err != nil { ... }
//	err = broker.Add("file/", d, key, audit.DefaultOptions())
//
// The path "stdout" writes to the server's standard output and "discard"
// drops every line (both start a new chain at each start).
//
// Each line is appended with one write(2) on a file opened with O_APPEND,
// so lines never interleave, even with another writer. The file is created
// with the given mode (default 0600; executable bits are refused, as in
// Vault) and an existing file is set to that mode; its directory is created
// (0700) if missing. Lines are not fsynced: a crash of the machine may lose
// the last lines, and the chain then continues from what is on disk.
//
// The chain survives restarts: New reads the file's last complete line
// back (Head), and the Broker continues from its seq and hash. A file that
// ends in a partial line (a write torn by a crash) keeps it: the next line
// starts with a newline, so the torn line stands alone, the chain continues
// from the last complete line, and `ward audit verify` reports the torn
// line. A file whose last complete line is not a Ward audit entry is
// refused: move it aside.
//
// Rotation: rename the file, then send the server SIGHUP. Reopen opens the
// path again (a new file) and the chain continues there from the head kept
// in memory, so `ward audit verify audit.log.1 audit.log` checks both as
// one chain. If reopening fails, lines keep going to the old file and
// Reopen reports the error.
package file
