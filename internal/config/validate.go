package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Validate reports whether c is complete and consistent: exactly one
// supported storage block with its required fields, at least one listener,
// TLS certificate and key files on every listener that does not set
// tls_disable, positive sizes and durations, default_lease_ttl no larger
// than max_lease_ttl, and enums in their canonical lower-case form (except
// LogLevel, which may be in any case and may be "warning", as the
// -log-level flag is).
//
// Errors are positioned at the block's line when it is known (Storage.Line,
// Listener.Line) and at the file otherwise; several are joined with
// errors.Join. Validate does not touch the file system: it does not check
// that TLS files or storage paths exist.
func (c *Config) Validate() error {
	if c == nil {
		return &Error{Msg: "validate: no configuration"}
	}
	l := &errorList{file: c.Source}
	c.Storage.validate(l)
	if len(c.Listeners) == 0 {
		l.errorf(0, `at least one listener block is required, such as listener "tcp" { address = %q }`, DefaultAddress)
	}
	for i := range c.Listeners {
		c.Listeners[i].validate(l)
	}
	c.validateSeals(l)

	check := func(name string, err error) {
		if err != nil {
			l.errorf(0, "%s: %v", name, err)
		}
	}
	if c.APIAddr != "" {
		check("api_addr", checkURL(c.APIAddr))
	}
	if c.ClusterAddr != "" {
		check("cluster_addr", checkURL(c.ClusterAddr))
	}
	if _, err := normalLogLevel(c.LogLevel); err != nil {
		check("log_level", err)
	}
	check("log_format", checkCanonical(c.LogFormat, logFormats, errLogFormat))
	check("default_lease_ttl", checkPositive(int64(c.DefaultLeaseTTL)))
	check("max_lease_ttl", checkPositive(int64(c.MaxLeaseTTL)))
	if c.MaxLeaseTTL > 0 && c.DefaultLeaseTTL > c.MaxLeaseTTL {
		l.errorf(0, "default_lease_ttl (%v) must not be larger than max_lease_ttl (%v)", c.DefaultLeaseTTL, c.MaxLeaseTTL)
	}
	return l.err()
}

func (s *Storage) validate(l *errorList) {
	what := fmt.Sprintf("storage %q", s.Type)
	switch s.Type {
	case "":
		l.errorf(0, `a storage block is required, such as storage "bolt" { path = "/var/lib/ward" }`)
		return
	case StorageBolt, StorageRaft:
		if s.Path == "" {
			l.errorf(s.Line, "%s: path is required", what)
		}
	case StorageInmem:
		if s.Path != "" {
			l.errorf(s.Line, "%s: path applies only to bolt and raft storage", what)
		}
	default:
		l.errorf(s.Line, "%s: %v", what, errStorageType)
		return
	}
	if s.Type != StorageRaft {
		if s.NodeID != "" {
			l.errorf(s.Line, "%s: node_id applies only to raft storage", what)
		}
		if len(s.RetryJoin) > 0 {
			l.errorf(s.Line, "%s: retry_join applies only to raft storage", what)
		}
	}
	for _, rj := range s.RetryJoin {
		line := rj.Line
		if line == 0 {
			line = s.Line
		}
		if rj.LeaderAPIAddr == "" {
			l.errorf(line, "%s: retry_join: leader_api_addr is required", what)
		} else if err := checkURL(rj.LeaderAPIAddr); err != nil {
			l.errorf(line, "%s: retry_join: leader_api_addr: %v", what, err)
		}
	}
}

func (ln *Listener) validate(l *errorList) {
	what := fmt.Sprintf("listener %q", ln.Type)
	if ln.Type != ListenerTCP {
		l.errorf(ln.Line, "%s: %v", what, errListenerType)
		return
	}
	check := func(name string, err error) {
		if err != nil {
			l.errorf(ln.Line, "%s: %s: %v", what, name, err)
		}
	}
	if ln.Address == "" {
		l.errorf(ln.Line, "%s: address is required", what)
	} else {
		check("address", checkHostPort(ln.Address))
	}
	if ln.ClusterAddress != "" {
		check("cluster_address", checkHostPort(ln.ClusterAddress))
	}
	if !ln.TLSDisable {
		switch {
		case ln.TLSCertFile == "" && ln.TLSKeyFile == "":
			l.errorf(ln.Line, "%s: tls_cert_file and tls_key_file are required unless tls_disable = true", what)
		case ln.TLSCertFile == "":
			l.errorf(ln.Line, "%s: tls_cert_file is required unless tls_disable = true", what)
		case ln.TLSKeyFile == "":
			l.errorf(ln.Line, "%s: tls_key_file is required unless tls_disable = true", what)
		}
	}
	check("tls_min_version", checkCanonical(ln.TLSMinVersion, tlsVersions, errTLSVersion))
	check("max_request_size", checkPositive(ln.MaxRequestSize))
	check("max_request_duration", checkPositive(int64(ln.MaxRequestDuration)))
}

// The rules below are shared by the decoder, which positions their errors
// at the offending line, and Validate.

var (
	logLevels   = []string{"trace", "debug", "info", "warn", "error"}
	logFormats  = []string{"standard", "json"}
	tlsVersions = []string{"tls12", "tls13"}

	errLogLevel     = errors.New("must be one of trace, debug, info, warn, error")
	errLogFormat    = errors.New("must be one of standard, json")
	errTLSVersion   = errors.New("must be one of tls12, tls13")
	errStorageType  = errors.New(`unsupported type; supported types are "bolt", "inmem" and "raft"`)
	errListenerType = errors.New(`unsupported type; supported types are "tcp"`)
	errHostPort     = fmt.Errorf("must be host:port, such as %q", DefaultAddress)
	errURL          = errors.New(`must be an http or https URL, such as "https://ward.example.com:8200"`)
	errNotPositive  = errors.New("must be positive")
)

// canonical returns s trimmed and lower-cased if that is one of allowed,
// else bad.
func canonical(s string, allowed []string, bad error) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(allowed, s) {
		return "", bad
	}
	return s, nil
}

// normalLogLevel returns a log level in canonical form. Unlike the other
// enums it is accepted in any case by Validate too, because the server sets
// it from a command-line flag.
func normalLogLevel(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "warning" {
		s = "warn"
	}
	return canonical(s, logLevels, errLogLevel)
}

// checkCanonical accepts only s already in canonical form.
func checkCanonical(s string, allowed []string, bad error) error {
	if !slices.Contains(allowed, s) {
		return bad
	}
	return nil
}

func checkPositive(n int64) error {
	if n <= 0 {
		return errNotPositive
	}
	return nil
}

// checkHostPort accepts "host:port" and ":port" with a numeric port.
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errHostPort
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		return errHostPort
	}
	return nil
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errURL
	}
	return nil
}
