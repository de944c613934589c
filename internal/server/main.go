package server

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wardsec/ward/internal/config"
)

const usage = `Usage: ward server [options]

  Start a Ward server. With -dev it runs in memory, already initialized and
  unsealed, with a root token printed at start: for trying Ward out, never
  for real secrets. Otherwise it reads a configuration file:

      ward server -config=/etc/ward/ward.hcl

  A minimal configuration:

      storage "bolt" { path = "/var/lib/ward" }
      listener "tcp" {
        address       = "127.0.0.1:8200"
        tls_cert_file = "/etc/ward/tls.crt"
        tls_key_file  = "/etc/ward/tls.key"
      }

  Then initialize and unseal it with "ward operator init" and
  "ward operator unseal". SIGINT or SIGTERM shut the server down cleanly;
  SIGHUP reloads the log level and TLS certificates and reopens audit
  files (for log rotation).

Options:
`

// Main runs `ward server` and returns the exit status: 0 after a clean
// shutdown, 1 if the server failed, 2 for bad flags or configuration.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "path to the configuration file (HCL or JSON)")
	dev := fs.Bool("dev", false, "run a dev server: in memory, unsealed, root token printed")
	devRoot := fs.String("dev-root-token-id", envOr("WARD_DEV_ROOT_TOKEN_ID", "VAULT_DEV_ROOT_TOKEN_ID"), "dev mode: the root token's ID")
	devAddr := fs.String("dev-listen-address", envOr("WARD_DEV_LISTEN_ADDRESS", "VAULT_DEV_LISTEN_ADDRESS"), "dev mode: address to listen on (default 127.0.0.1:8200)")
	logLevel := fs.String("log-level", envOr("WARD_LOG_LEVEL", "VAULT_LOG_LEVEL"), "log level: trace, debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "error: unexpected argument %q\nhint: run \"ward server -help\" for usage\n", fs.Arg(0))
		return 2
	}

	var cfg *config.Config
	switch {
	case *dev && *configPath != "":
		fmt.Fprintln(stderr, "error: -dev and -config cannot be used together")
		return 2
	case *dev:
		cfg = config.Dev(*devAddr)
	case *configPath != "":
		var err error
		if cfg, err = config.Load(*configPath); err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return 2
		}
	default:
		fmt.Fprintln(stderr, "error: either -dev or -config=FILE is required")
		fmt.Fprintln(stderr, "hint: try \"ward server -dev\" to experiment, or see \"ward server -help\"")
		return 2
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	if err := checkDeclaredAudit(cfg); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	return run(cfg, *dev, *devRoot, *configPath, *logLevel, stdout, stderr)
}

func envOr(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func run(cfg *config.Config, dev bool, devRoot, configPath, logLevel string, stdout, stderr io.Writer) int {
	srv, err := New(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	ctx := context.Background()
	var root, unsealKey string
	if dev {
		if root, unsealKey, err = srv.Core.DevInit(ctx, devRoot); err != nil {
			fmt.Fprintf(stderr, "error: dev setup: %v\n", err)
			return 1
		}
	}
	if err := srv.Listen(cfg); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		_ = srv.Shutdown(ctx)
		return 1
	}
	if dev {
		printDevBanner(stdout, srv.Addrs()[0].String(), root, unsealKey)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-srv.Errors():
			fmt.Fprintf(stderr, "error: listener failed: %v\n", err)
			_ = srv.Shutdown(ctx)
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(srv, cfg, configPath, logLevel)
				continue
			}
			srv.log.Info("server: shutting down", "signal", sig.String())
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := srv.Shutdown(sctx)
			cancel()
			if err != nil {
				fmt.Fprintf(stderr, "error: shutdown: %v\n", err)
				return 1
			}
			return 0
		}
	}
}

// reload re-reads the configuration file on SIGHUP; a bad file is logged
// and the running configuration kept. A -log-level flag still overrides
// the file's level.
func reload(srv *Server, running *config.Config, configPath, logLevel string) {
	next := running
	if configPath != "" {
		c, err := config.Load(configPath)
		if err == nil {
			if logLevel != "" {
				c.LogLevel = logLevel
			}
			err = c.Validate()
		}
		if err != nil {
			srv.log.Error("server: reload failed; keeping the running configuration", "error", err)
			return
		}
		next = c
	}
	if err := srv.Reload(next); err != nil {
		srv.log.Error("server: reload failed", "error", err)
	}
}

func printDevBanner(w io.Writer, addr, root, unsealKey string) {
	scheme := "http"
	fmt.Fprintf(w, `WARNING! dev mode is enabled: the server runs in memory, is already
unsealed, and every secret is lost when it stops. Never use it for real secrets.

You may need to set these in your shell:

    export WARD_ADDR='%s://%s'
    export WARD_TOKEN='%s'

The unseal key and root token are shown below in case you want to seal and
unseal the dev server or log in again.

Unseal Key: %s
Root Token: %s

Development mode should NOT be used in production installations!
%s
`, scheme, addr, root, unsealKey, root, strings.Repeat("=", 60))
}
