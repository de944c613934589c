package server

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/audit"
	"github.com/wardsec/ward/internal/audit/file"
	"github.com/wardsec/ward/internal/audit/socket"
	"github.com/wardsec/ward/internal/config"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
)

// auditTypes is the catalog of audit devices, by type, opened from the
// options sys/audit or the configuration gives.
func auditTypes() map[string]core.AuditFactory {
	return map[string]core.AuditFactory{
		"file":   openFileDevice,
		"socket": openSocketDevice,
	}
}

// deviceOptions are the options each device type takes, besides
// commonOptions.
var deviceOptions = map[string][]string{
	"file":   {"file_path", "path", "mode"},
	"socket": {"address", "socket_type", "write_timeout"},
}

// checkDeclaredAudit checks the options of the audit blocks of a
// configuration at start, so that a typo is a configuration error naming
// its line rather than a device that refuses every request after unseal.
func checkDeclaredAudit(cfg *config.Config) error {
	for _, a := range cfg.Audit {
		if err := checkOptions(a.Options, deviceOptions[a.Type]...); err != nil {
			return fmt.Errorf("%s:%d: audit %q: %v", cfg.Source, a.Line, a.Type, err)
		}
	}
	return nil
}

// commonOptions are the options every device type takes; core reads them.
var commonOptions = []string{"hmac_accessor", "log_raw", "format"}

// checkOptions refuses an option the device type does not know, a
// boolean option that is not a boolean, and a format other than json: a
// typo must not pass silently, least of all one that would write secrets
// in the clear (log_raw=flase) or keep a setting the operator thinks is
// in effect.
func checkOptions(options map[string]string, known ...string) error {
	known = append(known, commonOptions...)
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := options[k]
		switch {
		case !slices.Contains(known, k):
			return &engine.InputError{Field: "options." + k, Rule: fmt.Sprintf("unknown option (this device type takes %s)", strings.Join(known, ", "))}
		case k == "hmac_accessor" || k == "log_raw":
			if _, err := strconv.ParseBool(v); err != nil {
				return &engine.InputError{Field: "options." + k, Rule: "must be true or false"}
			}
		case k == "format" && v != "json":
			return &engine.InputError{Field: "options.format", Rule: "must be json (Ward writes no other format)"}
		}
	}
	return nil
}

func openFileDevice(options map[string]string) (audit.Device, error) {
	if err := checkOptions(options, deviceOptions["file"]...); err != nil {
		return nil, err
	}
	path := options["file_path"]
	if path == "" {
		path = options["path"] // Vault's older name
	}
	if path == "" {
		return nil, &engine.InputError{Field: "options.file_path", Rule: "is required (a file path, \"stdout\" or \"discard\")"}
	}
	mode := uint64(0o600)
	if m := options["mode"]; m != "" {
		var err error
		if mode, err = strconv.ParseUint(m, 8, 32); err != nil {
			return nil, &engine.InputError{Field: "options.mode", Rule: "must be an octal file mode such as \"0600\""}
		}
	}
	d, err := file.New(path, os.FileMode(mode))
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return d, nil
}

func openSocketDevice(options map[string]string) (audit.Device, error) {
	if err := checkOptions(options, deviceOptions["socket"]...); err != nil {
		return nil, err
	}
	address := options["address"]
	if address == "" {
		return nil, &engine.InputError{Field: "options.address", Rule: "is required (host:port, or a path for unix sockets)"}
	}
	network := options["socket_type"]
	if network == "" {
		network = "tcp"
	}
	switch network {
	case "tcp", "udp", "unix":
	default:
		return nil, &engine.InputError{Field: "options.socket_type", Rule: "must be tcp, udp or unix"}
	}
	timeout := 2 * time.Second
	if t := options["write_timeout"]; t != "" {
		d, err := engine.ParseDuration(t)
		if err != nil || d == 0 {
			return nil, &engine.InputError{Field: "options.write_timeout", Rule: "must be a positive duration such as \"2s\""}
		}
		timeout = d
	}
	d, err := socket.New(network, address, timeout)
	if err != nil {
		return nil, err // it names the network and the address
	}
	return d, nil
}

// declaredAudit turns the configuration's audit blocks into core entries.
func declaredAudit(blocks []config.Audit) []core.AuditEntry {
	out := make([]core.AuditEntry, 0, len(blocks))
	for _, a := range blocks {
		out = append(out, core.AuditEntry{Path: a.Path, Type: a.Type, Description: a.Description, Options: a.Options})
	}
	return out
}
