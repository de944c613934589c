package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

const transitInputHelp = `
  INPUT is "-" to read stdin, @FILE to read a file (or -file=FILE), or
  the value itself ("\@x" for a value that starts with @). A value on the
  command line is visible to other users of the machine: prefer stdin or
  a file for secrets.
`

func init() {
	register(
		&command{
			name:     "transit encrypt",
			synopsis: "Encrypt data with a transit key",
			usage: `Usage: ward transit encrypt [flags] KEY INPUT

  Encrypts the bytes of INPUT exactly as they are (binary is fine; ward
  does the base64 encoding the API wants) with the transit key KEY and
  prints the ciphertext, "vault:v<N>:…", where N is the key version used.
  -field=ciphertext prints the ciphertext alone, for scripts.
` + transitInputHelp + `
Examples:
  $ ward transit encrypt -field=ciphertext app - < card.txt > card.enc
  $ ward transit encrypt -context=tenant-7 -mount=crypto orders @order.json`,
			run: runTransitEncrypt,
		},
		&command{
			name:     "transit decrypt",
			synopsis: "Decrypt a transit ciphertext",
			usage: `Usage: ward transit decrypt [flags] KEY INPUT

  Decrypts the ciphertext in INPUT ("vault:v<N>:…"; surrounding
  whitespace is ignored) with the transit key KEY and writes the
  plaintext bytes to stdout exactly, with no newline added. -base64
  prints them base64-encoded instead, on one line; -format=json prints
  the server's whole response.
` + transitInputHelp + `
Examples:
  $ ward transit decrypt app @card.enc > card.txt
  $ ward transit decrypt -base64 -context=tenant-7 orders vault:v1:8SDd3WHDOjf7mq69...`,
			run: runTransitDecrypt,
		},
	)
}

// transitFlags are the flags both transit commands share.
type transitFlags struct {
	mount, context, file *string
}

func (c *cmd) transitFlags() transitFlags {
	return transitFlags{
		mount:   c.fs.String("mount", "transit", "path of the transit mount"),
		context: c.fs.String("context", "", "key derivation context, as text (ward base64-encodes it); required by derived keys"),
		file:    c.fs.String("file", "", "read INPUT from this file"),
	}
}

// transitInput parses the arguments (KEY, then INPUT unless -file is set)
// and returns the key name and the input bytes, or an exit code >= 0.
func (c *cmd) transitInput(args []string, f transitFlags) (string, []byte, int) {
	if !c.parse(args, 1, 2) {
		return "", nil, c.code
	}
	key := c.args[0]
	if key == "" || strings.Contains(key, "/") {
		return "", nil, c.usage("KEY must be a key name, without slashes (use -mount for the mount path)")
	}
	switch {
	case *f.file != "" && len(c.args) == 2:
		return "", nil, c.usage("give INPUT or -file, not both")
	case *f.file != "":
		b, err := readFileLimited(*f.file)
		if err != nil {
			return "", nil, c.dataError(err)
		}
		return key, b, -1
	case len(c.args) == 1:
		return "", nil, c.usage(`no INPUT: give "-" for stdin, @FILE, -file=FILE or the value`)
	}
	in := c.args[1]
	switch {
	case in == "-":
		b, err := (&dataParser{stdin: c.stdin}).readStdin()
		if err != nil {
			return "", nil, c.dataError(err)
		}
		return key, b, -1
	case strings.HasPrefix(in, `\@`):
		return key, []byte(in[1:]), -1
	case strings.HasPrefix(in, "@"):
		b, err := readFileLimited(in[1:])
		if err != nil {
			return "", nil, c.dataError(err)
		}
		return key, b, -1
	}
	return key, []byte(in), -1
}

// transitBody starts a request body with the shared options.
func transitBody(f transitFlags) map[string]any {
	body := map[string]any{}
	if *f.context != "" {
		body["context"] = base64.StdEncoding.EncodeToString([]byte(*f.context))
	}
	return body
}

func runTransitEncrypt(c *cmd, args []string) int {
	f := c.transitFlags()
	keyVersion := c.fs.Int("key-version", 0, "encrypt with this key version (0: the latest)")
	field := c.fs.String("field", "", "print only this field of the response (ciphertext, key_version)")
	key, plaintext, code := c.transitInput(args, f)
	if code >= 0 {
		return code
	}
	if *keyVersion < 0 {
		return c.usage("-key-version must be 0 (the latest) or a version number")
	}
	body := transitBody(f)
	body["plaintext"] = base64.StdEncoding.EncodeToString(plaintext)
	if *keyVersion > 0 {
		body["key_version"] = *keyVersion
	}
	sec, code := c.transitCall(strings.Trim(*f.mount, "/")+"/encrypt/"+key, body)
	if code >= 0 {
		return code
	}
	if *field != "" {
		return c.printField(sec, *field)
	}
	return c.printSecret(sec)
}

func runTransitDecrypt(c *cmd, args []string) int {
	f := c.transitFlags()
	asBase64 := c.fs.Bool("base64", false, "print the plaintext base64-encoded, with a newline")
	key, in, code := c.transitInput(args, f)
	if code >= 0 {
		return code
	}
	ct := string(bytes.TrimSpace(in))
	if !strings.HasPrefix(ct, "vault:v") {
		// Not echoed: a mix-up may have put a plaintext here.
		return c.usage(`INPUT is not a transit ciphertext (they start with "vault:v")`)
	}
	body := transitBody(f)
	body["ciphertext"] = ct
	sec, code := c.transitCall(strings.Trim(*f.mount, "/")+"/decrypt/"+key, body)
	if code >= 0 {
		return code
	}
	if c.format == "json" {
		return c.printSecret(sec)
	}
	c.warnings(sec)
	b64, ok := sec.Data["plaintext"].(string)
	if !ok {
		return c.failf("decrypt: the server returned no plaintext")
	}
	if *asBase64 {
		fmt.Fprintln(c.stdout, b64)
		return exitOK
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return c.failf("decrypt: the server's plaintext is not base64: %w", err)
	}
	if _, err := c.stdout.Write(pt); err != nil {
		return c.failf("decrypt: write plaintext: %w", err)
	}
	return exitOK
}

// transitCall writes body to path. It returns the response, or an exit
// code >= 0 when the call failed or its answer (a wrapped one) was
// printed already.
func (c *cmd) transitCall(path string, body map[string]any) (*api.Secret, int) {
	cl, err := c.client()
	if err != nil {
		return nil, c.fail(err)
	}
	sec, err := cl.Write(context.Background(), path, body)
	if err != nil {
		return nil, c.fail(transitHints(err, path))
	}
	if c.printWrapped(sec, "") {
		return nil, c.code
	}
	if sec == nil || sec.Data == nil {
		return nil, c.failf("%s: the server returned no data", path)
	}
	return sec, -1
}

// transitHints attaches next steps to the transit failures users meet
// most; other errors keep the generic hints.
func transitHints(err error, path string) error {
	var re *client.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return err
	}
	mount, _, _ := strings.Cut(path, "/")
	msg := strings.ToLower(strings.Join(re.Errors, " "))
	switch {
	case strings.Contains(msg, "context") && (strings.Contains(msg, "required") || strings.Contains(msg, "missing")):
		return withHints(err, "this key derives a key per context: give the -context used to encrypt")
	case strings.Contains(msg, "too old") || strings.Contains(msg, "disallowed by policy") || strings.Contains(msg, "min_decryption_version"):
		return withHints(err, "the key's min_decryption_version refuses this version: lower it, or rewrap data before raising it")
	case strings.Contains(msg, "authentication failed") || strings.Contains(msg, "does not decrypt"):
		return withHints(err, "the ciphertext was changed, or was made with another key, -context or mount")
	case strings.Contains(msg, "not found"):
		return withHints(err, fmt.Sprintf("`ward list %s/keys` shows the keys; `ward write -f %s/keys/NAME` creates one", mount, mount))
	}
	return err
}
