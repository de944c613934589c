package server

import (
	"os"
	"strconv"
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

func openFileDevice(options map[string]string) (audit.Device, error) {
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
