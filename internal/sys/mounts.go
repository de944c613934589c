package sys

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
)

func (b *backend) mountPaths() []engine.Path {
	return []engine.Path{
		{
			Pattern: "mounts",
			Summary: "List the secrets engines.",
			Read:    b.listMounts(core.TableMounts),
		},
		{
			Pattern: "mounts/{path...}",
			Summary: "Enable, read, tune or disable a secrets engine (mounts/<path>/tune to tune).",
			Read:    b.readMount(core.TableMounts),
			Write:   b.writeMount(core.TableMounts),
			Delete:  b.disableMount(core.TableMounts),
		},
		{
			Pattern: "auth",
			Summary: "List the auth methods.",
			Read:    b.listMounts(core.TableAuth),
		},
		{
			Pattern: "auth/{path...}",
			Summary: "Enable, read, tune or disable an auth method (auth/<path>/tune to tune).",
			Sudo:    true,
			Read:    b.readMount(core.TableAuth),
			Write:   b.writeMount(core.TableAuth),
			Delete:  b.disableMount(core.TableAuth),
		},
		{
			Pattern:         "internal/ui/mounts",
			Summary:         "List the mounts the caller can see.",
			Unauthenticated: true,
			Read:            b.uiMounts,
		},
		{
			Pattern:         "internal/ui/mounts/{path...}",
			Summary:         "Describe the mount that owns a path, if the caller may use it.",
			Unauthenticated: true,
			Read:            b.uiMount,
		},
	}
}

// mountInfo renders an entry the way sys/mounts shows it: TTLs as integer
// seconds, options as strings.
func (b *backend) mountInfo(e *core.MountEntry) map[string]any {
	var options map[string]string
	if len(e.Options) > 0 {
		options = e.Options
	}
	config := map[string]any{
		"default_lease_ttl": int64(e.Config.DefaultLeaseTTL / time.Second),
		"max_lease_ttl":     int64(e.Config.MaxLeaseTTL / time.Second),
		"force_no_cache":    e.Config.ForceNoCache,
	}
	if e.Config.ListingVisibility != "" {
		config["listing_visibility"] = e.Config.ListingVisibility
	}
	if e.Table == core.TableAuth && e.Type == "token" {
		config["token_type"] = "default-service"
	}
	return map[string]any{
		"type":                    e.Type,
		"description":             e.Description,
		"accessor":                e.Accessor,
		"uuid":                    e.UUID,
		"config":                  config,
		"options":                 options,
		"local":                   e.Local,
		"seal_wrap":               e.SealWrap,
		"external_entropy_access": false,
		"plugin_version":          "",
		"running_plugin_version":  "",
		"running_sha256":          "",
	}
}

func (b *backend) listMounts(table string) engine.Handler {
	return func(context.Context, *engine.Request) (*engine.Response, error) {
		entries, err := b.core.Mounts(table)
		if err != nil {
			return nil, err
		}
		data := make(map[string]any, len(entries))
		for i := range entries {
			data[entries[i].Path] = b.mountInfo(&entries[i])
		}
		return engine.DataResponse(data), nil
	}
}

// splitTune separates "<path>/tune" from a mount path.
func splitTune(p string) (string, bool) {
	p = strings.TrimSuffix(p, "/")
	if rest, ok := strings.CutSuffix(p, "/tune"); ok {
		return rest, true
	}
	return p, false
}

func (b *backend) readMount(table string) engine.Handler {
	return func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
		path, tune := splitTune(req.Var("path"))
		if path == "" {
			return b.listMounts(table)(ctx, req)
		}
		e, err := b.owningMount(table, path)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, engine.BadRequest("no mount at %q", path+"/")
		}
		if !tune {
			return engine.DataResponse(b.mountInfo(e)), nil
		}
		def, max := b.core.MountTTLs(e)
		data := map[string]any{
			"description":       e.Description,
			"default_lease_ttl": int64(def / time.Second),
			"max_lease_ttl":     int64(max / time.Second),
			"force_no_cache":    e.Config.ForceNoCache,
		}
		if len(e.Options) > 0 {
			data["options"] = e.Options
		}
		if e.Config.ListingVisibility != "" {
			data["listing_visibility"] = e.Config.ListingVisibility
		}
		return engine.DataResponse(data), nil
	}
}

// owningMount finds the mount that owns path, as Vault does for reads:
// sys/mounts/<path> accepts any path inside a mount, auth mounts included
// (the Go client's Sys().GetAuth reads sys/mounts/auth/<path>).
func (b *backend) owningMount(table, path string) (*core.MountEntry, error) {
	route := strings.Trim(path, "/") + "/"
	if table == core.TableAuth {
		route = "auth/" + route
	}
	return b.core.MountFor(route)
}

type mountConfigInput struct {
	DefaultLeaseTTL   *time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL       *time.Duration `json:"max_lease_ttl"`
	ForceNoCache      bool           `json:"force_no_cache"`
	ListingVisibility *string        `json:"listing_visibility"`
	// Accepted for compatibility; Ward does not act on them yet.
	AuditNonHMACRequestKeys   []string `json:"audit_non_hmac_request_keys"`
	AuditNonHMACResponseKeys  []string `json:"audit_non_hmac_response_keys"`
	PassthroughRequestHeaders []string `json:"passthrough_request_headers"`
	AllowedResponseHeaders    []string `json:"allowed_response_headers"`
	TokenType                 string   `json:"token_type"`
	PluginVersion             string   `json:"plugin_version"`
}

type enableInput struct {
	Type                  string            `json:"type"`
	Description           *string           `json:"description"`
	Config                mountConfigInput  `json:"config"`
	Local                 bool              `json:"local"`
	SealWrap              bool              `json:"seal_wrap"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	Options               map[string]string `json:"options"`
	PluginName            string            `json:"plugin_name"`
	PluginVersion         string            `json:"plugin_version"`
	// Tune accepts these at the top level.
	DefaultLeaseTTL   *time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL       *time.Duration `json:"max_lease_ttl"`
	ListingVisibility *string        `json:"listing_visibility"`
}

func (b *backend) writeMount(table string) engine.Handler {
	return func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
		path, tune := splitTune(req.Var("path"))
		data := req.Data
		if tune {
			data = tuneTTLs(data)
		}
		in, warnings, err := engine.Decode[enableInput](data)
		if err != nil {
			return nil, err
		}
		if tune {
			t := core.Tune{
				DefaultLeaseTTL:   firstDuration(in.DefaultLeaseTTL, in.Config.DefaultLeaseTTL),
				MaxLeaseTTL:       firstDuration(in.MaxLeaseTTL, in.Config.MaxLeaseTTL),
				Description:       in.Description,
				ListingVisibility: in.ListingVisibility,
				Options:           in.Options,
			}
			if t.ListingVisibility == nil {
				t.ListingVisibility = in.Config.ListingVisibility
			}
			return withWarnings(nil, warnings), b.core.TuneMount(ctx, table, path, t)
		}
		e, err := entryFromInput(table, path, in)
		if err != nil {
			return nil, err
		}
		return withWarnings(nil, warnings), b.core.EnableMount(ctx, e)
	}
}

// tuneTTLs applies Vault's special tune TTL values before decoding: an
// empty string leaves a TTL unchanged (the Go client's TuneMount always
// sends both TTLs) and "system" resets it to the server default. It
// returns a copy; the request's data is not modified.
func tuneTTLs(data map[string]any) map[string]any {
	out := maps.Clone(data)
	fix := func(m map[string]any) {
		for _, k := range []string{"default_lease_ttl", "max_lease_ttl"} {
			s, isString := m[k].(string)
			if !isString {
				continue
			}
			switch strings.TrimSpace(s) {
			case "":
				delete(m, k)
			case "system":
				m[k] = 0
			}
		}
	}
	fix(out)
	if cfg, ok := out["config"].(map[string]any); ok {
		cfg = maps.Clone(cfg)
		fix(cfg)
		out["config"] = cfg
	}
	return out
}

func firstDuration(ds ...*time.Duration) *time.Duration {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

// entryFromInput applies Vault's type aliases: kv-v2, kv-v1 and generic.
func entryFromInput(table, path string, in enableInput) (core.MountEntry, error) {
	typ := in.Type
	if typ == "" {
		typ = in.PluginName
	}
	options := in.Options
	if options == nil {
		options = map[string]string{}
	}
	switch typ {
	case "kv-v2":
		typ, options["version"] = "kv", "2"
	case "kv-v1", "generic":
		typ, options["version"] = "kv", "1"
	case "kv":
		if options["version"] == "" {
			options["version"] = "1"
		}
	}
	if v, ok := options["version"]; ok && table == core.TableMounts {
		if typ != "kv" {
			return core.MountEntry{}, &engine.InputError{Field: "options.version", Rule: fmt.Sprintf("is only valid for kv mounts, not %q", typ)}
		}
		if v != "1" && v != "2" {
			return core.MountEntry{}, &engine.InputError{Field: "options.version", Rule: "must be \"1\" or \"2\""}
		}
	}
	e := core.MountEntry{
		Table:    table,
		Path:     path,
		Type:     typ,
		Local:    in.Local,
		SealWrap: in.SealWrap,
		Options:  options,
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if d := firstDuration(in.Config.DefaultLeaseTTL, in.DefaultLeaseTTL); d != nil {
		e.Config.DefaultLeaseTTL = *d
	}
	if d := firstDuration(in.Config.MaxLeaseTTL, in.MaxLeaseTTL); d != nil {
		e.Config.MaxLeaseTTL = *d
	}
	if e.Config.MaxLeaseTTL > 0 && e.Config.DefaultLeaseTTL > e.Config.MaxLeaseTTL {
		return core.MountEntry{}, &engine.InputError{Field: "config.default_lease_ttl", Rule: "must not exceed max_lease_ttl"}
	}
	e.Config.ForceNoCache = in.Config.ForceNoCache
	if in.Config.ListingVisibility != nil {
		e.Config.ListingVisibility = *in.Config.ListingVisibility
	}
	return e, nil
}

func (b *backend) disableMount(table string) engine.Handler {
	return func(ctx context.Context, req *engine.Request) (*engine.Response, error) {
		path, tune := splitTune(req.Var("path"))
		if tune {
			return nil, engine.Errorf(engine.ErrUnsupportedOperation, "unsupported operation")
		}
		if path == "" {
			return nil, &engine.InputError{Field: "path", Rule: "is required"}
		}
		return nil, b.core.DisableMount(ctx, table, path)
	}
}

// uiMount answers sys/internal/ui/mounts/<path>: the owning mount, with its
// path, for callers that may use it; 403 otherwise, even for unknown
// mounts, so tokens cannot enumerate mounts.
func (b *backend) uiMount(_ context.Context, req *engine.Request) (*engine.Response, error) {
	p := strings.TrimPrefix(req.Var("path"), "/")
	e, err := b.core.MountFor(p)
	if err != nil {
		return nil, err
	}
	denied := engine.Errorf(engine.ErrPermissionDenied,
		"preflight capability check returned 403, please ensure client's policies grant access to path %q", strings.TrimSuffix(p, "/")+"/")
	if e == nil {
		return nil, denied
	}
	ok, err := b.core.CanSeeMount(req.Caller, e.RoutePath())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, denied
	}
	info := b.mountInfo(e)
	info["path"] = e.RoutePath()
	return engine.DataResponse(info), nil
}

// uiMounts lists the mounts the caller may use.
func (b *backend) uiMounts(_ context.Context, req *engine.Request) (*engine.Response, error) {
	out := map[string]any{}
	for _, table := range []string{core.TableMounts, core.TableAuth} {
		entries, err := b.core.Mounts(table)
		if err != nil {
			return nil, err
		}
		visible := map[string]any{}
		for i := range entries {
			ok, err := b.core.CanSeeMount(req.Caller, entries[i].RoutePath())
			if err != nil {
				return nil, err
			}
			if ok || entries[i].Config.ListingVisibility == "unauth" {
				visible[entries[i].Path] = b.mountInfo(&entries[i])
			}
		}
		key := "secret"
		if table == core.TableAuth {
			key = "auth"
		}
		out[key] = visible
	}
	return engine.DataResponse(out), nil
}
