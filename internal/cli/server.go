package cli

import "github.com/wardsec/ward/internal/server"

func init() {
	register(&command{
		name:     "server",
		synopsis: "Run a Ward server (-dev for an in-memory test server)",
		usage:    "Usage: ward server [-dev | -config=FILE] [flags]\n\nRun `ward server -h` for details.",
		run: func(c *cmd, args []string) int {
			return server.Main(args, c.stdout, c.stderr)
		},
	})
}
