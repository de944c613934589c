package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// readSecret reads one secret value (an unseal key, a token, a password).
// On a terminal it prompts on stderr and does not echo; otherwise it reads
// the first line of stdin.
func (c *cmd) readSecret(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(strings.ToLower(prompt), ": "), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if c.stdin == nil {
		return "", errors.New("no input: pass the value as an argument")
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return strings.TrimSpace(line), nil
}
