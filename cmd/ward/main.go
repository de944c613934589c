// Command ward is Ward's single binary: `ward server` runs a server and
// every other subcommand is a client of one. See `ward -h`.
package main

import (
	"os"

	"github.com/wardsec/ward/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
