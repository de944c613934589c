package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
)

func init() {
	register(
		&command{
			name:     "kv metadata get",
			synopsis: "Show a secret's versions and settings",
			usage: `Usage: ward kv metadata get [flags] PATH

  Prints the metadata of the secret at PATH on a versioned mount: its
  settings, custom metadata and every version with its state.

Example:
  $ ward kv metadata get secret/app/db`,
			run: runKVMetadataGet,
		},
		&command{
			name:     "kv metadata put",
			synopsis: "Change a secret's settings and custom metadata",
			usage: `Usage: ward kv metadata put [flags] PATH

  Changes the settings of the secret at PATH on a versioned mount. Works
  before the secret's first version is written. Settings you do not give
  are left as they are.

Example:
  $ ward kv metadata put -max-versions=5 -cas-required -custom-metadata=owner=ops secret/app/db`,
			run: runKVMetadataPut,
		},
		&command{
			name:     "kv metadata delete",
			synopsis: "Delete a secret with all its versions",
			usage: `Usage: ward kv metadata delete [flags] PATH

  Deletes the secret at PATH on a versioned mount: its metadata and every
  version. This cannot be undone.

Example:
  $ ward kv metadata delete secret/app/db`,
			run: runKVMetadataDelete,
		},
	)
}

func (c *cmd) requireV2(t *kvTarget, what string) bool {
	if t.version == 2 {
		return true
	}
	c.usageError("%s works only on versioned (v2) mounts; %s is not one", what, c.args[0])
	return false
}

func runKVMetadataGet(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	if !c.requireV2(t, "kv metadata") {
		return c.code
	}
	p := t.v2Path("metadata")
	sec, err := cl.Read(context.Background(), p)
	if err != nil {
		return c.fail(err)
	}
	if c.printWrapped(sec, "") {
		return c.code
	}
	if sec == nil || sec.Data == nil {
		return c.notFound(p)
	}
	c.warnings(sec)
	if c.format == "json" {
		return c.printJSON(sec)
	}
	top := map[string]any{}
	for k, v := range sec.Data {
		if k != "versions" {
			top[k] = v
		}
	}
	fmt.Fprintf(c.stdout, "== Metadata Path ==\n%s\n\n== Metadata ==\n", p)
	kvTable(c.stdout, mapRows(top))

	versions, _ := sec.Data["versions"].(map[string]any)
	nums := make([]int, 0, len(versions))
	for k := range versions {
		if n, err := strconv.Atoi(k); err == nil {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		v, _ := versions[strconv.Itoa(n)].(map[string]any)
		fmt.Fprintf(c.stdout, "\n== Version %d ==\n", n)
		kvTable(c.stdout, metadataRows(v))
	}
	return exitOK
}

func runKVMetadataPut(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	maxVersions := c.fs.Int("max-versions", -1, "versions to keep (0: the mount's default)")
	casRequired := c.fs.Bool("cas-required", false, "require -cas on every write to this secret")
	deleteAfter := c.fs.String("delete-version-after", "", "delete versions this long after they are written (\"720h\"; 0 disables)")
	custom := mapFlag{}
	c.fs.Var(custom, "custom-metadata", "KEY=VALUE to store with the secret; repeatable")
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	if !c.requireV2(t, "kv metadata") {
		return c.code
	}
	body := map[string]any{}
	if *maxVersions >= 0 {
		body["max_versions"] = *maxVersions
	}
	if c.isSet("cas-required") {
		body["cas_required"] = *casRequired
	}
	if *deleteAfter != "" {
		d, err := parseDuration(*deleteAfter)
		if err != nil {
			return c.usage("-delete-version-after: %v", err)
		}
		body["delete_version_after"] = d.String()
	}
	if len(custom) > 0 {
		body["custom_metadata"] = map[string]string(custom)
	}
	p := t.v2Path("metadata")
	sec, err := cl.Write(context.Background(), p, body)
	if err != nil {
		return c.fail(err)
	}
	c.warnings(sec)
	return c.success("Data written to: %s", p)
}

func runKVMetadataDelete(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	if !c.requireV2(t, "kv metadata") {
		return c.code
	}
	p := t.v2Path("metadata")
	if _, err := cl.Delete(context.Background(), p); err != nil {
		return c.fail(err)
	}
	return c.success("Data deleted (if it existed) at: %s", p)
}
