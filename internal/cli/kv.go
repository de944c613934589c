package cli

import (
	"context"
	"fmt"
	"net/url"
	pathpkg "path"
	"strconv"
	"strings"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

const kvValuesHelp = `
  Values: KEY=VALUE sends a string; KEY=@FILE the contents of FILE;
  KEY=- reads the value from stdin; a lone "-" reads a JSON object from
  stdin (the only way to send numbers, booleans or nested objects).
`

func init() {
	register(
		&command{
			name:     "kv put",
			synopsis: "Write a secret to the key/value store",
			usage: `Usage: ward kv put [flags] PATH KEY=VALUE...

  Writes the data at PATH, replacing what was there. On a versioned (v2)
  mount this adds a version; -cas=N makes the write succeed only if the
  current version is N (-cas=0: only if the secret does not exist yet).
` + kvValuesHelp + `
Examples:
  $ ward kv put secret/app/db user=app password=@password.txt
  $ ward kv put -cas=0 secret/app/api key=-  < key.txt
  $ echo '{"port": 5432}' | ward kv put secret/app/db -`,
			run: runKVPut,
		},
		&command{
			name:     "kv get",
			synopsis: "Read a secret from the key/value store",
			usage: `Usage: ward kv get [flags] PATH

  Reads the secret at PATH (the latest version, or -version=N on a
  versioned mount). -field prints one value alone, for scripts.

Examples:
  $ ward kv get secret/app/db
  $ ward kv get -field=password secret/app/db
  $ ward kv get -version=2 -format=json secret/app/db`,
			run: runKVGet,
		},
		&command{
			name:     "kv list",
			synopsis: "List the secrets under a path",
			usage: `Usage: ward kv list [flags] PATH

  Lists the keys under PATH; names ending in "/" are folders.

Example:
  $ ward kv list secret/app`,
			run: runKVList,
		},
		&command{
			name:     "kv delete",
			synopsis: "Delete a secret (recoverably on versioned mounts)",
			usage: `Usage: ward kv delete [flags] PATH

  Deletes the secret at PATH. On a versioned mount this soft-deletes the
  latest version (or -versions=1,2), which "ward kv undelete" restores;
  "ward kv destroy" removes data for good.

Example:
  $ ward kv delete secret/app/db
  $ ward kv delete -versions=1,2 secret/app/db`,
			run: runKVDelete,
		},
		&command{
			name:     "kv undelete",
			synopsis: "Restore deleted versions of a secret",
			usage: `Usage: ward kv undelete -versions=N[,N...] [flags] PATH

  Restores soft-deleted versions of the secret at PATH (versioned mounts).

Example:
  $ ward kv undelete -versions=3 secret/app/db`,
			run: func(c *cmd, args []string) int { return runKVVersions(c, args, "undelete") },
		},
		&command{
			name:     "kv destroy",
			synopsis: "Permanently remove versions of a secret",
			usage: `Usage: ward kv destroy -versions=N[,N...] [flags] PATH

  Permanently removes the data of the given versions of the secret at PATH
  (versioned mounts). This cannot be undone.

Example:
  $ ward kv destroy -versions=1,2 secret/app/db`,
			run: func(c *cmd, args []string) int { return runKVVersions(c, args, "destroy") },
		},
		&command{
			name:     "kv patch",
			synopsis: "Update some fields of a secret",
			usage: `Usage: ward kv patch [flags] PATH KEY=VALUE...

  Changes the given fields of the latest version of the secret at PATH and
  keeps the others, writing a new version (versioned mounts only). If the
  server or your policy does not allow PATCH, ward reads the secret and
  writes it back with check-and-set instead (-method=rw forces that).
` + kvValuesHelp + `
Example:
  $ ward kv patch secret/app/db password=@new-password.txt`,
			run: runKVPatch,
		},
	)
}

// kvTarget is a KV path resolved against its mount.
type kvTarget struct {
	mount   string // "secret/", or "" when the server did not say
	rel     string // the path inside the mount
	version int
}

func (t *kvTarget) v1Path() string { return t.mount + t.rel }

func (t *kvTarget) v2Path(kind string) string { return t.mount + kind + "/" + t.rel }

func kvMountFlag(c *cmd) *string {
	return c.fs.String("mount", "", "KV mount path; PATH is then relative to it (-mount=secret app/db)")
}

// resolveKV finds the mount owning path (or uses mountFlag) and whether it
// is versioned.
func (c *cmd) resolveKV(cl *client.Client, mountFlag, path string) (*kvTarget, error) {
	path = strings.TrimLeft(path, "/")
	ctx := context.Background()
	if mountFlag != "" {
		mount := strings.Trim(mountFlag, "/") + "/"
		m, err := cl.KVMount(ctx, mount)
		if err != nil {
			return nil, err
		}
		if m.Path != "" {
			mount = m.Path
		}
		return &kvTarget{mount: mount, rel: path, version: m.Version}, nil
	}
	m, err := cl.KVMount(ctx, path)
	if err != nil {
		return nil, err
	}
	t := &kvTarget{mount: m.Path, rel: path, version: m.Version}
	if m.Path != "" {
		if path+"/" == m.Path {
			t.rel = ""
		} else {
			t.rel = strings.TrimPrefix(path, m.Path)
		}
	}
	return t, nil
}

// kvSetup parses args and resolves the KV target; needData says whether
// KEY=VALUE arguments follow PATH.
func (c *cmd) kvSetup(args []string, mountFlag *string, needData bool) (*client.Client, *kvTarget, map[string]any, int) {
	minArgs, maxArgs := 1, 1
	if needData {
		minArgs, maxArgs = 2, -1
	}
	if !c.parse(args, minArgs, maxArgs) {
		return nil, nil, nil, c.code
	}
	var data map[string]any
	if needData {
		var err error
		if data, err = (&dataParser{stdin: c.stdin}).parse(c.args[1:]); err != nil {
			return nil, nil, nil, c.dataError(err)
		}
		if len(data) == 0 {
			return nil, nil, nil, c.usage("no data to write")
		}
	}
	cl, err := c.client()
	if err != nil {
		return nil, nil, nil, c.fail(err)
	}
	t, err := c.resolveKV(cl, *mountFlag, c.args[0])
	if err != nil {
		return nil, nil, nil, c.fail(err)
	}
	if t.version == 2 && t.rel == "" && needData {
		return nil, nil, nil, c.usage("PATH %q names the mount itself; add the secret's name, like %sNAME", c.args[0], t.mount)
	}
	return cl, t, data, -1
}

// notFound reports that nothing exists at path (the API path) and suggests
// listing the parent of the PATH argument.
func (c *cmd) notFound(path string) int {
	fmt.Fprintf(c.stderr, "error: no value found at %s\n", path)
	if strings.Contains(path, "/data/data/") || strings.Contains(path, "/metadata/data/") {
		fmt.Fprintln(c.stderr, "hint: kv commands add data/ themselves; give the path without it (secret/app, not secret/data/app)")
		return exitError
	}
	if len(c.args) > 0 && !c.isSet("mount") {
		if parent := pathpkg.Dir(strings.Trim(c.args[0], "/")); parent != "." {
			list := "ward list"
			if strings.HasPrefix(c.def.name, "kv ") {
				list = "ward kv list"
			}
			fmt.Fprintf(c.stderr, "hint: `%s %s` shows what exists there\n", list, parent)
		}
	}
	return exitError
}

func runKVPut(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	cas := c.fs.Int("cas", -1, "check-and-set: write only if the current version is N (0: only if absent)")
	cl, t, data, code := c.kvSetup(args, mount, true)
	if code >= 0 {
		return code
	}
	ctx := context.Background()
	if t.version == 1 {
		if *cas >= 0 {
			return c.usage("-cas works only on versioned (v2) mounts")
		}
		if _, err := cl.Write(ctx, t.v1Path(), data); err != nil {
			return c.fail(err)
		}
		return c.success("Data written to: %s", t.v1Path())
	}
	p := t.v2Path("data")
	sec, err := cl.Write(ctx, p, kvWriteBody(data, *cas))
	if err != nil {
		return c.fail(err)
	}
	return c.printKVWrite(p, sec)
}

func kvWriteBody(data map[string]any, cas int) map[string]any {
	opts := map[string]any{}
	if cas >= 0 {
		opts["cas"] = cas
	}
	return map[string]any{"data": data, "options": opts}
}

// printKVWrite prints the version metadata a KV v2 write returns.
func (c *cmd) printKVWrite(path string, sec *api.Secret) int {
	if sec == nil {
		return c.success("Data written to: %s", path)
	}
	if c.printWrapped(sec, "") {
		return c.code
	}
	c.warnings(sec)
	if c.format == "json" {
		return c.printJSON(sec)
	}
	fmt.Fprintf(c.stdout, "== Secret Path ==\n%s\n\n== Metadata ==\n", path)
	kvTable(c.stdout, metadataRows(sec.Data))
	return exitOK
}

// metadataRows renders version metadata, showing an empty deletion_time
// as "n/a".
func metadataRows(m map[string]any) [][2]string {
	rows := mapRows(m)
	for i, r := range rows {
		if r[0] == "deletion_time" && r[1] == "" {
			rows[i][1] = "n/a"
		}
	}
	return rows
}

func runKVGet(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	version := c.fs.Int("version", 0, "version to read (versioned mounts; default latest)")
	field := c.fs.String("field", "", "print only the value of this key")
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	ctx := context.Background()
	if t.version == 1 {
		if *version != 0 {
			return c.usage("-version works only on versioned (v2) mounts")
		}
		sec, err := cl.Read(ctx, t.v1Path())
		if err != nil {
			return c.fail(err)
		}
		if c.printWrapped(sec, *field) {
			return c.code
		}
		if sec == nil || sec.Data == nil {
			return c.notFound(t.v1Path())
		}
		if *field != "" {
			return c.printField(sec, *field)
		}
		return c.printSecret(sec)
	}

	p := t.v2Path("data")
	var q url.Values
	if *version > 0 {
		q = url.Values{"version": {strconv.Itoa(*version)}}
	}
	sec, err := cl.ReadWithData(ctx, p, q)
	if err != nil {
		return c.fail(err)
	}
	if c.printWrapped(sec, *field) {
		return c.code
	}
	if sec == nil || sec.Data == nil {
		return c.notFound(p)
	}
	data, _ := sec.Data["data"].(map[string]any)
	meta, _ := sec.Data["metadata"].(map[string]any)
	if *field != "" {
		if data == nil {
			return c.failf("version at %s was deleted or destroyed: no data to print", p)
		}
		v, ok := data[*field]
		if !ok {
			return c.failf("field %q is not present in the secret", *field)
		}
		return c.printRaw(v)
	}
	c.warnings(sec)
	if c.format == "json" {
		return c.printJSON(sec)
	}
	fmt.Fprintf(c.stdout, "== Secret Path ==\n%s\n", p)
	if meta != nil {
		fmt.Fprint(c.stdout, "\n== Metadata ==\n")
		kvTable(c.stdout, metadataRows(meta))
	}
	if data == nil {
		fmt.Fprintln(c.stderr, "warning: this version was deleted or destroyed; it has no data")
		return exitOK
	}
	fmt.Fprint(c.stdout, "\n== Data ==\n")
	kvTable(c.stdout, mapRows(data))
	return exitOK
}

func runKVList(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	p := t.v1Path()
	if t.version == 2 {
		p = t.v2Path("metadata")
	}
	sec, err := cl.List(context.Background(), p)
	if err != nil {
		return c.fail(err)
	}
	if c.printWrapped(sec, "") {
		return c.code
	}
	keys, err := client.Keys(sec)
	if err != nil {
		return c.fail(err)
	}
	if len(keys) == 0 {
		return c.notFound(p)
	}
	return c.printKeys(keys)
}

func runKVDelete(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	versions := c.fs.String("versions", "", "comma-separated versions to delete (versioned mounts; default latest)")
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	ctx := context.Background()
	if t.version == 1 {
		if *versions != "" {
			return c.usage("-versions works only on versioned (v2) mounts")
		}
		if _, err := cl.Delete(ctx, t.v1Path()); err != nil {
			return c.fail(err)
		}
		return c.success("Data deleted (if it existed) at: %s", t.v1Path())
	}
	if *versions == "" {
		p := t.v2Path("data")
		if _, err := cl.Delete(ctx, p); err != nil {
			return c.fail(err)
		}
		return c.success("Data deleted (if it existed) at: %s", p)
	}
	vs, err := parseVersions(*versions)
	if err != nil {
		return c.usage("-versions: %v", err)
	}
	p := t.v2Path("delete")
	if _, err := cl.Write(ctx, p, map[string]any{"versions": vs}); err != nil {
		return c.fail(err)
	}
	return c.success("Data deleted (if it existed) at: %s", p)
}

// runKVVersions runs undelete and destroy, which differ only in the path.
func runKVVersions(c *cmd, args []string, kind string) int {
	mount := kvMountFlag(c)
	versions := c.fs.String("versions", "", "comma-separated versions (required)")
	cl, t, _, code := c.kvSetup(args, mount, false)
	if code >= 0 {
		return code
	}
	if t.version != 2 {
		return c.usage("kv %s works only on versioned (v2) mounts; %s is not one", kind, c.args[0])
	}
	vs, err := parseVersions(*versions)
	if err != nil {
		return c.usage("-versions: %v", err)
	}
	p := t.v2Path(kind)
	if _, err := cl.Write(context.Background(), p, map[string]any{"versions": vs}); err != nil {
		return c.fail(err)
	}
	return c.success("Data written to: %s", p)
}

func runKVPatch(c *cmd, args []string) int {
	mount := kvMountFlag(c)
	cas := c.fs.Int("cas", -1, "check-and-set: patch only if the current version is N")
	method := c.fs.String("method", "", "patch (PATCH request) or rw (read, then write with check-and-set); default: patch, falling back to rw")
	cl, t, data, code := c.kvSetup(args, mount, true)
	if code >= 0 {
		return code
	}
	if t.version != 2 {
		return c.usage("kv patch works only on versioned (v2) mounts; %s is not one", c.args[0])
	}
	if *method != "" && *method != "patch" && *method != "rw" {
		return c.usage("unknown -method %q: use patch or rw", *method)
	}
	ctx := context.Background()
	p := t.v2Path("data")
	if *method != "rw" {
		sec, err := cl.Patch(ctx, p, kvWriteBody(data, *cas))
		status := client.StatusCode(err)
		fallback := *method == "" && (status == 405 || status == 403)
		if !fallback {
			if status == 404 {
				return c.notFound(p)
			}
			if err != nil {
				return c.fail(err)
			}
			return c.printKVWrite(p, sec)
		}
	}
	cur, err := cl.Read(ctx, p)
	if err != nil {
		return c.fail(err)
	}
	if cur == nil {
		return c.notFound(p)
	}
	curData, _ := cur.Data["data"].(map[string]any)
	meta, _ := cur.Data["metadata"].(map[string]any)
	if curData == nil || meta == nil {
		return c.notFound(p)
	}
	version := *cas
	if version < 0 {
		n, err := strconv.Atoi(formatValue(meta["version"]))
		if err != nil {
			return c.failf("read %s: the server sent no usable version number", p)
		}
		version = n
	}
	sec, err := cl.Write(ctx, p, kvWriteBody(client.MergePatch(curData, data), version))
	if err != nil {
		return c.fail(err)
	}
	return c.printKVWrite(p, sec)
}
