package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/client"
)

func init() {
	register(
		&command{
			name:     "secrets enable",
			synopsis: "Enable a secrets engine",
			usage: `Usage: ward secrets enable [flags] TYPE

  Mounts a new secrets engine of TYPE at -path, which defaults to TYPE.
  This release has the key/value engine: "kv" (unversioned, kv-v1) and
  "kv-v2" (versioned: kv with -version=2).

Examples:
  $ ward secrets enable -path=secret kv-v2
  $ ward secrets enable -path=team-a -description="team A secrets" -version=2 kv
  $ ward secrets enable -path=legacy kv`,
			run: runSecretsEnable,
		},
		&command{
			name:     "secrets disable",
			synopsis: "Disable a secrets engine and delete its data",
			usage: `Usage: ward secrets disable [flags] PATH

  Unmounts the secrets engine at PATH. Everything stored in it is deleted
  and its leases are revoked.

Example:
  $ ward secrets disable team-a`,
			run: runSecretsDisable,
		},
		&command{
			name:     "secrets list",
			synopsis: "List the enabled secrets engines",
			usage: `Usage: ward secrets list [flags]

  Lists the mounted secrets engines. -detailed adds TTLs, options and IDs.

Example:
  $ ward secrets list -detailed`,
			run: runSecretsList,
		},
		&command{
			name:     "secrets tune",
			synopsis: "Change a secrets engine's settings",
			usage: `Usage: ward secrets tune [flags] PATH

  Changes the lease TTLs or description of the secrets engine at PATH.
  Settings you do not give are left as they are.

Example:
  $ ward secrets tune -default-lease-ttl=1h -max-lease-ttl=24h team-a`,
			run: runSecretsTune,
		},
	)
}

func runSecretsEnable(c *cmd, args []string) int {
	path := c.fs.String("path", "", "where to mount the engine (default: TYPE)")
	desc := c.fs.String("description", "", "human-readable description")
	version := c.fs.Int("version", 0, "KV version (1 or 2); only for kv")
	defTTL := c.fs.String("default-lease-ttl", "", "default lease TTL for this mount (\"1h\")")
	maxTTL := c.fs.String("max-lease-ttl", "", "maximum lease TTL for this mount")
	local := c.fs.Bool("local", false, "do not replicate this mount")
	sealWrap := c.fs.Bool("seal-wrap", false, "seal-wrap critical values")
	opts := mapFlag{}
	c.fs.Var(opts, "options", "KEY=VALUE engine option; repeatable")
	if !c.parse(args, 1, 1) {
		return c.code
	}
	in, ok := c.mountInput(c.args[0], *desc, *defTTL, *maxTTL, opts)
	if !ok {
		return c.code
	}
	if *version != 0 {
		if *version != 1 && *version != 2 {
			return c.usage("-version must be 1 or 2")
		}
		in.Options["version"] = strconv.Itoa(*version)
	}
	in.Local, in.SealWrap = *local, *sealWrap
	if len(in.Options) == 0 {
		in.Options = nil
	}
	mount := strings.Trim(firstNonEmpty(*path, c.args[0]), "/") + "/"
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Sys().Mount(context.Background(), mount, in); err != nil {
		return c.fail(err)
	}
	return c.success("Enabled the %s secrets engine at: %s", c.args[0], mount)
}

// mountInput builds the common part of an enable request, checking TTLs.
func (c *cmd) mountInput(typ, desc, defTTL, maxTTL string, opts map[string]string) (*client.MountInput, bool) {
	for name, v := range map[string]string{"default-lease-ttl": defTTL, "max-lease-ttl": maxTTL} {
		if v != "" {
			if _, err := parseDuration(v); err != nil {
				return nil, c.usageError("-%s: %v", name, err)
			}
		}
	}
	in := &client.MountInput{
		Type:        typ,
		Description: desc,
		Config:      client.MountConfigInput{DefaultLeaseTTL: defTTL, MaxLeaseTTL: maxTTL},
		Options:     map[string]string{},
	}
	for k, v := range opts {
		in.Options[k] = v
	}
	return in, true
}

func runSecretsDisable(c *cmd, args []string) int {
	if !c.parse(args, 1, 1) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	mount := strings.Trim(c.args[0], "/") + "/"
	if err := cl.Sys().Unmount(context.Background(), mount); err != nil {
		return c.fail(err)
	}
	return c.success("Disabled the secrets engine (if it existed) at: %s", mount)
}

func runSecretsList(c *cmd, args []string) int {
	detailed := c.fs.Bool("detailed", false, "show TTLs, options and IDs too")
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	mounts, err := cl.Sys().ListMounts(context.Background())
	if err != nil {
		return c.fail(err)
	}
	return c.printMounts(mounts, *detailed, "secrets")
}

// printMounts prints the mounts of sys/mounts or sys/auth as a table.
func (c *cmd) printMounts(mounts map[string]*client.MountInfo, detailed bool, kind string) int {
	if c.format == "json" {
		return c.printJSON(mounts)
	}
	paths := make([]string, 0, len(mounts))
	for p := range mounts {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var rows [][]string
	for _, p := range paths {
		m := mounts[p]
		if !detailed {
			rows = append(rows, []string{p, m.Type, m.Accessor, m.Description})
			continue
		}
		repl := "replicated"
		if m.Local {
			repl = "local"
		}
		rows = append(rows, []string{
			p, m.Type, m.Accessor, ttlOrSystem(m.Config.DefaultLeaseTTL), ttlOrSystem(m.Config.MaxLeaseTTL),
			repl, strconv.FormatBool(m.SealWrap), formatOptions(m.Options), m.Description, m.UUID,
		})
	}
	header := []string{"Path", "Type", "Accessor", "Description"}
	if detailed {
		header = []string{"Path", "Type", "Accessor", "Default TTL", "Max TTL", "Replication", "Seal Wrap", "Options", "Description", "UUID"}
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.stdout, "No %s are enabled.\n", map[string]string{"secrets": "secrets engines", "auth": "auth methods"}[kind])
		return exitOK
	}
	columns(c.stdout, header, rows)
	return exitOK
}

func ttlOrSystem(secs int64) string {
	if secs == 0 {
		return "system"
	}
	return humanDuration(secs)
}

func formatOptions(o map[string]string) string {
	if len(o) == 0 {
		return "n/a"
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + o[k]
	}
	return "map[" + strings.Join(parts, " ") + "]"
}

func runSecretsTune(c *cmd, args []string) int {
	defTTL := c.fs.String("default-lease-ttl", "", "new default lease TTL (\"1h\")")
	maxTTL := c.fs.String("max-lease-ttl", "", "new maximum lease TTL")
	desc := c.fs.String("description", "", "new description")
	if !c.parse(args, 1, 1) {
		return c.code
	}
	in, ok := c.mountInput("", "", *defTTL, *maxTTL, nil)
	if !ok {
		return c.code
	}
	cfg := in.Config
	if c.isSet("description") {
		cfg.Description = desc
	}
	if cfg.DefaultLeaseTTL == "" && cfg.MaxLeaseTTL == "" && cfg.Description == nil {
		return c.usage("nothing to change: give -default-lease-ttl, -max-lease-ttl or -description")
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	mount := strings.Trim(c.args[0], "/") + "/"
	if err := cl.Sys().TuneMount(context.Background(), mount, &cfg); err != nil {
		return c.fail(err)
	}
	return c.success("Tuned the secrets engine at: %s", mount)
}
