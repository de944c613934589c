package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tcp returns a default TCP listener at line with TLS off.
func tcp(line int, addr string) Listener {
	l := DefaultListener()
	l.Line = line
	l.Address = addr
	l.TLSDisable = true
	return l
}

func TestLoadTestdata(t *testing.T) {
	tests := []struct {
		file string
		want Config
	}{
		{"bolt.hcl", Config{
			Storage: Storage{Type: "bolt", Path: "/var/lib/ward", Line: 2},
			Listeners: []Listener{{
				Type: "tcp", Address: "0.0.0.0:8200",
				TLSCertFile: "/etc/ward/tls/server.crt", TLSKeyFile: "/etc/ward/tls/server.key",
				TLSMinVersion: "tls13", MaxRequestSize: 32 << 20, MaxRequestDuration: 90 * time.Second, Line: 6,
			}},
			APIAddr: "https://ward.example.com:8200", UI: true,
			LogLevel: "warn", LogFormat: "json", ClusterName: "ward-prod",
			DefaultLeaseTTL: time.Hour, MaxLeaseTTL: 720 * time.Hour,
		}},
		{"raft.hcl", Config{
			Storage: Storage{Type: "raft", Path: "/var/lib/ward/raft", NodeID: "node-1", Line: 1, RetryJoin: []RetryJoin{
				{LeaderAPIAddr: "https://ward-1.internal:8200", Line: 5},
				{LeaderAPIAddr: "https://ward-2.internal:8200", Line: 8},
				{LeaderAPIAddr: "https://ward-3.internal:8200", Line: 11},
			}},
			Listeners: []Listener{
				{
					Type: "tcp", Address: "0.0.0.0:8200", ClusterAddress: "0.0.0.0:8201",
					TLSCertFile: "/etc/ward/tls/node.crt", TLSKeyFile: "/etc/ward/tls/node.key",
					TLSMinVersion: "tls12", MaxRequestSize: 32 << 20, MaxRequestDuration: 90 * time.Second, Line: 16,
				},
				{
					Type: "tcp", Address: "127.0.0.1:8300", TLSDisable: true,
					TLSMinVersion: "tls12", MaxRequestSize: 1 << 20, MaxRequestDuration: 30 * time.Second, Line: 23,
				},
			},
			Seal:    &Seal{Type: "shamir", Line: 30},
			APIAddr: "https://ward-1.internal:8200", ClusterAddr: "https://ward-1.internal:8201",
			LogLevel: "info", LogFormat: "standard",
			DefaultLeaseTTL: time.Hour, MaxLeaseTTL: 7 * 24 * time.Hour,
		}},
		{"local.hcl", Config{
			Storage:      Storage{Type: "inmem", Line: 2},
			Listeners:    []Listener{tcp(4, "127.0.0.1:8200")},
			DisableMlock: true, UI: true,
			LogLevel: "info", LogFormat: "standard",
			DefaultLeaseTTL: 768 * time.Hour, MaxLeaseTTL: 768 * time.Hour,
		}},
		{"bolt.json", Config{
			Storage: Storage{Type: "bolt", Path: "/var/lib/ward", Line: 3},
			Listeners: []Listener{{
				Type: "tcp", Address: "0.0.0.0:8200",
				TLSCertFile: "/etc/ward/tls/server.crt", TLSKeyFile: "/etc/ward/tls/server.key",
				TLSMinVersion: "tls12", MaxRequestSize: 32 << 20, MaxRequestDuration: 90 * time.Second, Line: 8,
			}},
			APIAddr: "https://ward.example.com:8200", UI: true,
			LogLevel: "debug", LogFormat: "standard",
			DefaultLeaseTTL: 768 * time.Hour, MaxLeaseTTL: 768 * time.Hour,
		}},
		{"raft.json", Config{
			Storage: Storage{Type: "raft", Path: "/var/lib/ward/raft", NodeID: "node-2", Line: 3, RetryJoin: []RetryJoin{
				{LeaderAPIAddr: "https://ward-1.internal:8200", Line: 7},
				{LeaderAPIAddr: "https://ward-3.internal:8200", Line: 8},
			}},
			Listeners:   []Listener{tcp(13, "0.0.0.0:8200"), tcp(14, "127.0.0.1:8300")},
			Seal:        &Seal{Type: "shamir", Line: 16},
			ClusterAddr: "https://ward-2.internal:8201", DisableMlock: true,
			LogLevel: "info", LogFormat: "standard",
			// Only max_lease_ttl is set, so the default follows it down.
			DefaultLeaseTTL: 48 * time.Hour, MaxLeaseTTL: 48 * time.Hour,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			got, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.want.Source = path
			if !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("Load(%s)\n got %+v\nwant %+v", path, got, &tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestParseForms checks the spellings Vault accepts for the same setting.
func TestParseForms(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// check inspects the parsed config and returns what was wrong.
		check func(c *Config) string
	}{
		{"nested listener block", `listener { tcp { address = ":8200" } }`, func(c *Config) string {
			if len(c.Listeners) != 1 || c.Listeners[0].Address != ":8200" || c.Listeners[0].Line != 1 {
				return "want one listener at :8200"
			}
			return ""
		}},
		{"unquoted labels and any-case keys", "Storage bolt {\n  PATH = \"/d\"\n}\nLISTENER \"TCP\" {}\nLog_Level = \"DEBUG\"", func(c *Config) string {
			if c.Storage.Type != "bolt" || c.Storage.Path != "/d" || len(c.Listeners) != 1 || c.Listeners[0].Type != "tcp" || c.LogLevel != "debug" {
				return "keys and labels should match case-insensitively and be stored lower case"
			}
			return ""
		}},
		{"bool spellings", `listener "tcp" { tls_disable = "1" }` + "\n" + `disable_mlock = "true"` + "\n" + `ui = 1`, func(c *Config) string {
			if !c.Listeners[0].TLSDisable || !c.DisableMlock || !c.UI {
				return "\"1\", \"true\" and 1 should all be true"
			}
			return ""
		}},
		{"false spellings", `listener "tcp" { tls_disable = "false" }` + "\n" + `ui = 0`, func(c *Config) string {
			if c.Listeners[0].TLSDisable || c.UI {
				return "\"false\" and 0 should be false"
			}
			return ""
		}},
		{"durations", `default_lease_ttl = "1h30m"` + "\n" + `max_lease_ttl = "2d"` + "\n" + `listener "tcp" { max_request_duration = "90s" }`, func(c *Config) string {
			if c.DefaultLeaseTTL != 90*time.Minute || c.MaxLeaseTTL != 48*time.Hour || c.Listeners[0].MaxRequestDuration != 90*time.Second {
				return "want 1h30m, 48h, 90s"
			}
			return ""
		}},
		{"duration as seconds", `default_lease_ttl = 5400` + "\n" + `max_lease_ttl = "7200"`, func(c *Config) string {
			if c.DefaultLeaseTTL != 90*time.Minute || c.MaxLeaseTTL != 2*time.Hour {
				return "want 1h30m and 2h"
			}
			return ""
		}},
		{"zero means default", `listener "tcp" {` + "\n" + `max_request_size = 0` + "\n" + `max_request_duration = 0 }` + "\n" + `max_lease_ttl = "0s"`, func(c *Config) string {
			l := c.Listeners[0]
			if l.MaxRequestSize != DefaultMaxRequestSize || l.MaxRequestDuration != DefaultMaxRequestDuration || c.MaxLeaseTTL != DefaultMaxLeaseTTL {
				return "0 should select the defaults"
			}
			return ""
		}},
		{"size as string", `listener "tcp" { max_request_size = "1024" }`, func(c *Config) string {
			if c.Listeners[0].MaxRequestSize != 1024 {
				return "want 1024"
			}
			return ""
		}},
		{"explicit default_lease_ttl is kept", `default_lease_ttl = "2h"` + "\n" + `max_lease_ttl = "1h"`, func(c *Config) string {
			if c.DefaultLeaseTTL != 2*time.Hour {
				return "an explicit default_lease_ttl must not be lowered (Validate reports it)"
			}
			return ""
		}},
		{"empty file", "# nothing\n", func(c *Config) string {
			want := Default()
			want.Source = "ward.hcl"
			if !reflect.DeepEqual(c, want) {
				return "want Default()"
			}
			return ""
		}},
		{"json storage with only retry_join", `{"storage": {"raft": {"retry_join": {"leader_api_addr": "http://a:8200"}}}}`, func(c *Config) string {
			if c.Storage.Type != "raft" || len(c.Storage.RetryJoin) != 1 || c.Storage.RetryJoin[0].LeaderAPIAddr != "http://a:8200" {
				return "want raft with one retry_join"
			}
			return ""
		}},
		{"json scalars", "{\n\"listener\": {\"tcp\": {\"max_request_size\": 1.048576e6, \"tls_disable\": 1}},\n\"cluster_name\": null\n}", func(c *Config) string {
			if c.Listeners[0].MaxRequestSize != 1<<20 || !c.Listeners[0].TLSDisable || c.ClusterName != "" || c.Listeners[0].Line != 2 {
				return "want 1 MiB, TLS off, empty cluster_name, listener on line 2"
			}
			return ""
		}},
		{"json array of listener objects", `{"listener": [{"tcp": {"address": ":1"}}, {"tcp": {"address": ":2"}}]}`, func(c *Config) string {
			if len(c.Listeners) != 2 || c.Listeners[1].Address != ":2" {
				return "want two listeners"
			}
			return ""
		}},
		{"heredoc string", "cluster_name = <<EOT\nprod\nEOT\n", func(c *Config) string {
			if c.ClusterName != "prod\n" {
				return "want heredoc text"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("ward.hcl", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if msg := tt.check(c); msg != "" {
				t.Errorf("%s; got %+v", msg, c)
			}
		})
	}
}

func TestDev(t *testing.T) {
	c := Dev("")
	if err := c.Validate(); err != nil {
		t.Fatalf("Dev config does not validate: %v", err)
	}
	if c.Storage.Type != StorageInmem || len(c.Listeners) != 1 || !c.Listeners[0].TLSDisable ||
		c.Listeners[0].Address != DefaultAddress || !c.DisableMlock {
		t.Errorf("Dev(\"\") = %+v", c)
	}
	if got := Dev("127.0.0.1:0").Listeners[0].Address; got != "127.0.0.1:0" {
		t.Errorf("Dev listen address = %q", got)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.LogLevel != "info" || c.LogFormat != "standard" || c.DefaultLeaseTTL != 768*time.Hour || c.MaxLeaseTTL != 768*time.Hour {
		t.Errorf("Default() = %+v", c)
	}
	l := DefaultListener()
	if l.MaxRequestSize != 32<<20 || l.TLSMinVersion != "tls12" || l.MaxRequestDuration != 90*time.Second || l.TLSDisable {
		t.Errorf("DefaultListener() = %+v", l)
	}
	// Default has neither storage nor listener.
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "storage block is required") || !strings.Contains(err.Error(), "listener block is required") {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ward.hcl")
	if err := os.WriteFile(path, []byte("storage \"inmem\" {}\nlistener \"tcp\" {\n  adress = \"x\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:3: listener "tcp": unknown field "adress"`
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s", err, want)
	}

	if err := os.WriteFile(path, []byte("storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Source != path || c.Validate() != nil {
		t.Errorf("Load = %+v, Validate = %v", c, c.Validate())
	}

	_, err = Load(filepath.Join(dir, "missing.hcl"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "load config: ") {
		t.Errorf("Load(missing) = %v, want a wrapped fs.ErrNotExist", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  error
	}{
		{"90s", 90 * time.Second, nil},
		{"1h30m", 90 * time.Minute, nil},
		{"3600", time.Hour, nil},
		{" 60 ", time.Minute, nil},
		{"7d", 7 * 24 * time.Hour, nil},
		{"-5s", -5 * time.Second, nil}, // the caller rejects negatives
		{"", 0, errNotDuration},
		{"5 minutes", 0, errNotDuration},
		{"1.5d", 0, errNotDuration},
		{"99999999999999", 0, errTooLarge},
		{"9999999999d", 0, errTooLarge},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "ward.hcl", Line: 3, Msg: "m"}, "ward.hcl:3: m"},
		{Error{File: "ward.hcl", Msg: "m"}, "ward.hcl: m"},
		{Error{Line: 3, Msg: "m"}, "config:3: m"},
		{Error{Msg: "m"}, "config: m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}
