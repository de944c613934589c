package config

import (
	"fmt"
	"os"
	"time"
)

// Storage, listener and seal types Ward understands.
const (
	StorageBolt  = "bolt"  // embedded bbolt file; the default for one node
	StorageInmem = "inmem" // memory only; dev mode and tests
	StorageRaft  = "raft"  // replicated; HA clusters
	ListenerTCP  = "tcp"
	SealShamir   = "shamir"
)

// Defaults, as in Vault.
const (
	DefaultAddress            = "127.0.0.1:8200"
	DefaultMaxRequestSize     = 32 << 20 // bytes
	DefaultMaxRequestDuration = 90 * time.Second
	DefaultTLSMinVersion      = "tls12"
	DefaultLeaseTTL           = 768 * time.Hour
	DefaultMaxLeaseTTL        = 768 * time.Hour
	DefaultLogLevel           = "info"
	DefaultLogFormat          = "standard"
)

// Config is a Ward server configuration.
//
// The zero value is not valid; start from Default, Dev, Parse or Load.
// String enums (LogLevel, LogFormat, Storage.Type, Listener.Type,
// Listener.TLSMinVersion, Seal.Type) are lower case after Parse, and
// "warning" is stored as "warn".
type Config struct {
	Storage   Storage
	Listeners []Listener
	Audit     []Audit // audit devices declared in the file
	Seal      *Seal   // the seal in use; nil means Shamir, the default
	OldSeal   *Seal   // a disabled seal block: the seal to migrate away from

	APIAddr      string // URL clients are told to use, e.g. "https://ward.example.com:8200"
	ClusterAddr  string // URL other cluster nodes use to reach this one (HA)
	ClusterName  string
	DisableMlock bool
	UI           bool

	LogLevel  string // trace, debug, info, warn or error
	LogFormat string // standard or json

	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration

	// Source is the file name the configuration was parsed from, used to
	// position errors; empty for configurations built in code.
	Source string
}

// Storage is the storage block: `storage "<type>" { ... }`.
type Storage struct {
	Type      string      // bolt, inmem or raft
	Path      string      // bolt: database file's directory; raft: data directory
	NodeID    string      // raft only; empty lets the server choose
	RetryJoin []RetryJoin // raft only: nodes to try joining at start
	Line      int         // line of the block in Source; 0 if unknown
}

// RetryJoin is one `retry_join { ... }` block of raft storage.
type RetryJoin struct {
	LeaderAPIAddr string // API URL of a node that may be the leader
	Line          int
}

// Listener is one `listener "tcp" { ... }` block.
type Listener struct {
	Type           string // tcp
	Address        string // host:port to bind
	ClusterAddress string // host:port for cluster traffic (HA)
	TLSDisable     bool
	TLSCertFile    string
	TLSKeyFile     string
	// TLSClientCAFile is the CA that signs every cluster node's
	// certificate; raft traffic on cluster_address is mutual TLS with it.
	TLSClientCAFile    string
	TLSMinVersion      string        // tls12 or tls13
	MaxRequestSize     int64         // bytes; always > 0 in a valid config
	MaxRequestDuration time.Duration // always > 0 in a valid config
	Line               int
}

// Audit is one `audit "<type>" { ... }` block: an audit device the server
// enables at unseal, as if by sys/audit/<path>.
type Audit struct {
	Type        string // file or socket
	Path        string // device path, default "<type>/"
	Description string
	Options     map[string]string // the device's options (file_path, address, ...)
	Line        int
}

// Default returns the defaults every parsed configuration starts from. It
// has no storage and no listener, so it does not Validate by itself.
func Default() *Config {
	return &Config{
		LogLevel:        DefaultLogLevel,
		LogFormat:       DefaultLogFormat,
		DefaultLeaseTTL: DefaultLeaseTTL,
		MaxLeaseTTL:     DefaultMaxLeaseTTL,
	}
}

// DefaultListener returns a TCP listener with Vault's defaults: address
// 127.0.0.1:8200, TLS on (so certificate files are still needed), TLS 1.2 or
// later, 32 MiB request bodies and 90 s requests.
func DefaultListener() Listener {
	return Listener{
		Type:               ListenerTCP,
		Address:            DefaultAddress,
		TLSMinVersion:      DefaultTLSMinVersion,
		MaxRequestSize:     DefaultMaxRequestSize,
		MaxRequestDuration: DefaultMaxRequestDuration,
	}
}

// Dev returns the dev-mode configuration: in-memory storage, one plain-HTTP
// listener on listenAddr (DefaultAddress when empty), mlock off, UI on.
func Dev(listenAddr string) *Config {
	if listenAddr == "" {
		listenAddr = DefaultAddress
	}
	l := DefaultListener()
	l.Address = listenAddr
	l.TLSDisable = true

	c := Default()
	c.Storage = Storage{Type: StorageInmem}
	c.Listeners = []Listener{l}
	c.DisableMlock = true
	c.UI = true
	return c
}

// Load reads and parses the configuration file at path; see Parse.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes a configuration in HCL or, when src starts with "{", JSON.
// filename is used only in error messages and Config.Source.
//
// Parse is strict: unknown keys, wrong value types and out-of-range values
// are errors. It does not check that the configuration is complete (a
// storage block, a listener, TLS files); call Validate for that once any
// command-line overrides are applied. On error the Config is nil and the
// error is an *Error, or several joined with errors.Join, in source order.
func Parse(filename string, src []byte) (*Config, error) {
	root, err := parseSyntax(filename, src)
	if err != nil {
		return nil, err
	}
	c := Default()
	c.Source = filename
	d := &errorList{file: filename}
	d.decodeConfig(root, c)
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}
