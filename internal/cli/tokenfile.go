package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tokenFileName is where `ward login` keeps the token, in the home
// directory. The file holds the token alone; trailing whitespace is ignored
// on read.
const tokenFileName = ".ward-token"

func tokenFilePath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find token file: %w", err)
	}
	return filepath.Join(home, tokenFileName), nil
}

// readTokenFile returns the saved token, or "" when there is none.
func readTokenFile() (string, error) {
	p, err := tokenFilePath()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeTokenFile saves tok with mode 0600, writing a temporary file in the
// same directory and renaming it over the old one so that a reader never
// sees a partial token.
func writeTokenFile(tok string) (string, error) {
	p, err := tokenFilePath()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(p), tokenFileName+".tmp*")
	if err != nil {
		return "", fmt.Errorf("save token: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("save token: %w", err)
	}
	if _, err := f.WriteString(tok); err != nil {
		f.Close()
		return "", fmt.Errorf("save token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("save token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("save token: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("save token: %w", err)
	}
	return p, nil
}
