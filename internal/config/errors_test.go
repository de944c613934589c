package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// parseErrorTests are inputs Parse rejects, with the exact message. They
// also seed FuzzParse.
var parseErrorTests = []struct {
	name, src, want string
}{
	{"unknown listener field",
		"storage \"inmem\" {}\n\nlistener \"tcp\" {\n  adress = \"127.0.0.1:8200\"\n}\n",
		`ward.hcl:4: listener "tcp": unknown field "adress"`},
	{"bad log level",
		"storage \"inmem\" {}\n\nlog_level = \"verbose\"\n",
		`ward.hcl:3: log_level: must be one of trace, debug, info, warn, error`},
	{"unknown top-level block",
		"storage \"inmem\" {}\ntelemetry {\n  statsd_address = \"x\"\n}\n",
		`ward.hcl:2: unknown field "telemetry"`},
	{"unknown top-level field",
		"plugin_directory = \"/x\"",
		`ward.hcl:1: unknown field "plugin_directory"`},
	{"unknown storage type",
		"\nstorage \"s3\" {\n  bucket = \"b\"\n}",
		`ward.hcl:2: storage "s3": unsupported type; supported types are "bolt", "inmem" and "raft"`},
	{"two storage blocks",
		"storage \"bolt\" { path = \"/x\" }\nstorage \"inmem\" {}",
		`ward.hcl:2: storage "inmem": only one storage block is allowed (the first is on line 1)`},
	{"unknown listener type",
		"listener \"unix\" {\n  address = \"/run/ward.sock\"\n}",
		`ward.hcl:1: listener "unix": unsupported type; supported types are "tcp"`},
	{"unknown seal type",
		"seal \"awskms\" {\n  region = \"x\"\n}",
		`ward.hcl:1: seal "awskms": unsupported type; supported types are "shamir" and "transit"`},
	{"two seal blocks",
		"seal \"shamir\" {}\nseal \"shamir\" {}",
		`ward.hcl:2: seal "shamir": only one enabled seal block is allowed (the first is on line 1); to migrate, mark the old seal disabled = true`},
	{"two disabled seals",
		"seal \"transit\" {\n disabled = true\n}\nseal \"transit\" {\n disabled = \"true\"\n}",
		`ward.hcl:4: seal "transit": only one disabled seal block is allowed (the first is on line 1); to migrate, mark the old seal disabled = true`},
	{"transit address",
		"seal \"transit\" {\n  address = \"vault:8200\"\n}",
		`ward.hcl:2: seal "transit": address: must be an http or https URL, such as "https://ward.example.com:8200"`},
	{"transit skip verify",
		"seal \"transit\" {\n  tls_skip_verify = \"maybe\"\n}",
		`ward.hcl:2: seal "transit": tls_skip_verify: must be true or false`},
	{"seal field",
		"seal \"shamir\" {\n  key_name = \"k\"\n}",
		`ward.hcl:2: seal "shamir": unknown field "key_name"`},
	{"inmem takes no path",
		"storage \"inmem\" {\n  path = \"/x\"\n}",
		`ward.hcl:2: storage "inmem": unknown field "path"`},
	{"bolt takes no node_id",
		"storage \"bolt\" {\n  path = \"/x\"\n  node_id = \"n\"\n}",
		`ward.hcl:3: storage "bolt": unknown field "node_id"`},
	{"storage without type",
		"storage {\n  path = \"/x\"\n}",
		`ward.hcl:2: storage: must be a block with a type, such as storage "<type>" { ... }`},
	{"empty storage without type",
		"storage {}",
		`ward.hcl:1: storage: must be a block with a type, such as storage "<type>" { ... }`},
	{"storage as a value",
		"storage = \"bolt\"",
		`ward.hcl:1: storage: must be a block with a type, such as storage "<type>" { ... }`},
	{"hcl label without block",
		"listener \"tcp\" = \"x\"",
		`ward.hcl:1: syntax error: nested object expected: LBRACE got: ASSIGN`},
	{"tls min version",
		"listener \"tcp\" {\n  tls_min_version = \"tls10\"\n}",
		`ward.hcl:2: listener "tcp": tls_min_version: must be one of tls12, tls13`},
	{"negative request size",
		"listener \"tcp\" {\n  max_request_size = -1\n}",
		`ward.hcl:2: listener "tcp": max_request_size: must not be negative`},
	{"fractional request size",
		"listener \"tcp\" {\n  max_request_size = 1.5\n}",
		`ward.hcl:2: listener "tcp": max_request_size: must be an integer`},
	{"request size overflows",
		"listener \"tcp\" {\n  max_request_size = 99999999999999999999\n}",
		`ward.hcl:2: listener "tcp": max_request_size: must be an integer`},
	{"bad request duration",
		"listener \"tcp\" {\n\n  max_request_duration = \"soon\"\n}",
		`ward.hcl:3: listener "tcp": max_request_duration: must be a duration such as "90s" or "1h30m", or a number of seconds`},
	{"negative ttl",
		"default_lease_ttl = \"-1h\"",
		`ward.hcl:1: default_lease_ttl: must not be negative`},
	{"ttl overflows",
		"max_lease_ttl = 9999999999999",
		`ward.hcl:1: max_lease_ttl: is too large`},
	{"bad bool string",
		"listener \"tcp\" { tls_disable = \"yes\" }",
		`ward.hcl:1: listener "tcp": tls_disable: must be true or false`},
	{"bad bool number",
		"ui = 2",
		`ward.hcl:1: ui: must be true or false`},
	{"api_addr without scheme",
		"api_addr = \"ward.example.com:8200\"",
		`ward.hcl:1: api_addr: must be an http or https URL, such as "https://ward.example.com:8200"`},
	{"cluster_addr not a string",
		"cluster_addr = 8201",
		`ward.hcl:1: cluster_addr: must be a string`},
	{"address without port",
		"listener \"tcp\" {\n  address = \"localhost\"\n}",
		`ward.hcl:2: listener "tcp": address: must be host:port, such as "127.0.0.1:8200"`},
	{"address port out of range",
		"listener \"tcp\" {\n  address = \"127.0.0.1:99999\"\n}",
		`ward.hcl:2: listener "tcp": address: must be host:port, such as "127.0.0.1:8200"`},
	{"address as a block",
		"listener \"tcp\" {\n  address {}\n}",
		`ward.hcl:2: listener "tcp": address: must be a string`},
	{"repeated top-level field",
		"api_addr = \"http://a:1\"\n\napi_addr = \"http://b:1\"",
		`ward.hcl:3: api_addr: set twice (first on line 1)`},
	{"repeated listener field, any case",
		"listener \"tcp\" {\n  address = \":1\"\n  Address = \":2\"\n}",
		`ward.hcl:3: listener "tcp": address: set twice (first on line 2)`},
	{"label on a field",
		"cluster_name \"x\" { }",
		`ward.hcl:1: cluster_name: must be a value, not a block`},
	{"log format",
		"log_format = \"text\"",
		`ward.hcl:1: log_format: must be one of standard, json`},
	{"cluster_name not a string",
		"cluster_name = [\"a\"]",
		`ward.hcl:1: cluster_name: must be a string`},
	{"retry_join unknown field",
		"storage \"raft\" {\n  path = \"/r\"\n  retry_join {\n    leader_addr = \"http://a:8200\"\n  }\n}",
		`ward.hcl:4: storage "raft": retry_join: unknown field "leader_addr"`},
	{"retry_join as a value",
		"storage \"raft\" {\n  path = \"/r\"\n  retry_join = \"http://a:8200\"\n}",
		`ward.hcl:3: storage "raft": retry_join: must be a block { ... }`},
	{"retry_join bad url",
		"storage \"raft\" {\n  path = \"/r\"\n  retry_join {\n    leader_api_addr = \"a:8200\"\n  }\n}",
		`ward.hcl:4: storage "raft": retry_join: leader_api_addr: must be an http or https URL, such as "https://ward.example.com:8200"`},
	{"several errors, in source order",
		"log_level = \"loud\"\nlistener \"tcp\" {\n  adress = \"x\"\n}\nui = \"maybe\"",
		"ward.hcl:1: log_level: must be one of trace, debug, info, warn, error\n" +
			"ward.hcl:3: listener \"tcp\": unknown field \"adress\"\n" +
			"ward.hcl:5: ui: must be true or false"},
	{"hcl syntax error",
		"storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \n}\n",
		`ward.hcl:4: syntax error: Unknown token: 4:1 RBRACE }`},
	{"hcl unterminated block",
		"storage \"inmem\" {\n",
		`ward.hcl:2: syntax error: object expected closing RBRACE got: EOF`},

	{"json unknown field",
		"{\n  \"storage\": {\"inmem\": {}},\n  \"listener\": {\n    \"tcp\": {\n      \"adress\": \"x\"\n    }\n  }\n}",
		`ward.hcl:5: listener "tcp": unknown field "adress"`},
	{"json bad log level",
		"{\n\"log_level\": \"verbose\"\n}",
		`ward.hcl:2: log_level: must be one of trace, debug, info, warn, error`},
	{"json repeated key",
		"{\n\"ui\": true,\n\"ui\": false\n}",
		`ward.hcl:3: ui: set twice (first on line 2)`},
	{"json storage without type",
		"{\"storage\": {\"path\": \"/x\"}}",
		`ward.hcl:1: storage: must be a block with a type, such as storage "<type>" { ... }`},
	{"json listener type as a value",
		"{\"listener\": {\n\"tcp\": \"x\"}}",
		`ward.hcl:2: listener: must be a block with a type, such as listener "<type>" { ... }`},
	{"json listener list of strings",
		"{\"listener\": [\"tcp\"]}",
		`ward.hcl:1: listener: must be a block with a type, such as listener "<type>" { ... }`},
	{"json syntax error",
		"{\n  \"ui\": true,\n  \"log_level\": \"info\",,\n}",
		`ward.hcl:3: syntax error: invalid character ',' looking for beginning of object key string`},
	{"json truncated",
		"{\n  \"ui\": true,\n",
		`ward.hcl:3: syntax error: unexpected end of JSON input`},
	{"json trailing data",
		"{\"ui\": true}\n{\"ui\": false}",
		`ward.hcl:2: syntax error: unexpected data after the top-level object`},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("ward.hcl", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error\n got %s\nwant %s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "ward.hcl" {
				t.Errorf("error %#v is not a *Error for ward.hcl", err)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		edit func(c *Config) // applied after Parse, before Validate
		want string
	}{
		{"bolt without path",
			"# Ward\n\nlistener \"tcp\" {\n  tls_disable = true\n}\n\nstorage \"bolt\" {\n}\n", nil,
			`ward.hcl:7: storage "bolt": path is required`},
		{"raft without path",
			"storage \"raft\" {}\nlistener \"tcp\" { tls_disable = true }", nil,
			`ward.hcl:1: storage "raft": path is required`},
		{"retry_join without leader",
			"storage \"raft\" {\n  path = \"/r\"\n  retry_join {}\n}\nlistener \"tcp\" { tls_disable = true }", nil,
			`ward.hcl:3: storage "raft": retry_join: leader_api_addr is required`},
		{"no storage",
			"listener \"tcp\" { tls_disable = true }", nil,
			`ward.hcl: a storage block is required, such as storage "bolt" { path = "/var/lib/ward" }`},
		{"no listener",
			"storage \"inmem\" {}", nil,
			`ward.hcl: at least one listener block is required, such as listener "tcp" { address = "127.0.0.1:8200" }`},
		{"tls files missing",
			"storage \"inmem\" {}\n\nlistener \"tcp\" {\n  address = \"0.0.0.0:8200\"\n}", nil,
			`ward.hcl:3: listener "tcp": tls_cert_file and tls_key_file are required unless tls_disable = true`},
		{"tls key missing",
			"storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\nlistener \"tcp\" {\n  tls_cert_file = \"c.pem\"\n}", nil,
			`ward.hcl:3: listener "tcp": tls_key_file is required unless tls_disable = true`},
		{"tls cert missing",
			"storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = \"0\"\n  tls_key_file = \"k.pem\"\n}", nil,
			`ward.hcl:2: listener "tcp": tls_cert_file is required unless tls_disable = true`},
		{"default ttl above max",
			"storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\ndefault_lease_ttl = \"2h\"\nmax_lease_ttl = \"1h\"", nil,
			`ward.hcl: default_lease_ttl (2h0m0s) must not be larger than max_lease_ttl (1h0m0s)`},
		{"several",
			"storage \"bolt\" {}\nlistener \"tcp\" {}", nil,
			"ward.hcl:1: storage \"bolt\": path is required\n" +
				"ward.hcl:2: listener \"tcp\": tls_cert_file and tls_key_file are required unless tls_disable = true"},

		// Configs edited in code, as the server does with flags.
		{"bad log level", "", func(c *Config) { c.LogLevel = "loud" },
			`config: log_level: must be one of trace, debug, info, warn, error`},
		{"bad log format", "", func(c *Config) { c.LogFormat = "" },
			`config: log_format: must be one of standard, json`},
		{"zero request size", "", func(c *Config) { c.Listeners[0].MaxRequestSize = 0 },
			`config: listener "tcp": max_request_size: must be positive`},
		{"zero request duration", "", func(c *Config) { c.Listeners[0].MaxRequestDuration = 0 },
			`config: listener "tcp": max_request_duration: must be positive`},
		{"tls version", "", func(c *Config) { c.Listeners[0].TLSMinVersion = "TLS13" },
			`config: listener "tcp": tls_min_version: must be one of tls12, tls13`},
		{"listener type", "", func(c *Config) { c.Listeners[0].Type = "udp" },
			`config: listener "udp": unsupported type; supported types are "tcp"`},
		{"listener address", "", func(c *Config) { c.Listeners[0].Address = "" },
			`config: listener "tcp": address is required`},
		{"cluster address", "", func(c *Config) { c.Listeners[0].ClusterAddress = "x" },
			`config: listener "tcp": cluster_address: must be host:port, such as "127.0.0.1:8200"`},
		{"storage type", "", func(c *Config) { c.Storage.Type = "consul" },
			`config: storage "consul": unsupported type; supported types are "bolt", "inmem" and "raft"`},
		{"inmem path", "", func(c *Config) { c.Storage.Path = "/x" },
			`config: storage "inmem": path applies only to bolt and raft storage`},
		{"raft fields on bolt", "", func(c *Config) {
			c.Storage = Storage{Type: StorageBolt, Path: "/x", NodeID: "n", RetryJoin: []RetryJoin{{LeaderAPIAddr: "http://a:1"}}}
		}, "config: storage \"bolt\": node_id applies only to raft storage\n" +
			"config: storage \"bolt\": retry_join applies only to raft storage"},
		{"seal type", "", func(c *Config) { c.Seal = &Seal{Type: "awskms"} },
			`config: seal "awskms": unsupported type; supported types are "shamir" and "transit"`},
		{"disabled shamir", "", func(c *Config) { c.OldSeal = &Seal{Type: "shamir", Disabled: true, Line: 3} },
			`config:3: seal "shamir": a Shamir seal cannot be disabled; to adopt auto-unseal, add the new seal block and unseal once with -migrate`},
		{"same transit key", "", func(c *Config) {
			t := TransitSeal{Address: "https://a:8200", KeyName: "k", MountPath: "transit/"}
			c.Seal = &Seal{Type: "transit", Transit: t, Line: 1}
			c.OldSeal = &Seal{Type: "transit", Disabled: true, Transit: t, Line: 5}
		}, `config:5: seal "transit": the disabled seal and the enabled one use the same key; remove the disabled block`},
		{"api addr", "", func(c *Config) { c.APIAddr = "/relative" },
			`config: api_addr: must be an http or https URL, such as "https://ward.example.com:8200"`},
		{"cluster addr", "", func(c *Config) { c.ClusterAddr = "ftp://x" },
			`config: cluster_addr: must be an http or https URL, such as "https://ward.example.com:8200"`},
		{"zero ttl", "", func(c *Config) { c.DefaultLeaseTTL = 0 },
			`config: default_lease_ttl: must be positive`},
		{"negative max ttl", "", func(c *Config) { c.MaxLeaseTTL = -time.Second },
			`config: max_lease_ttl: must be positive`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *Config
			if tt.src == "" {
				c = Dev("")
			} else {
				var err error
				if c, err = Parse("ward.hcl", []byte(tt.src)); err != nil {
					t.Fatalf("Parse: %v", err)
				}
			}
			if tt.edit != nil {
				tt.edit(c)
			}
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate succeeded: %+v", c)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// TestValidateLogLevelFromFlag: the server copies -log-level into the
// config unchanged, so Validate accepts the spellings the file accepts.
func TestValidateLogLevelFromFlag(t *testing.T) {
	for _, lvl := range []string{"WARNING", "Debug", "trace", "warn"} {
		c := Dev("")
		c.LogLevel = lvl
		if err := c.Validate(); err != nil {
			t.Errorf("log level %q: %v", lvl, err)
		}
	}
}

func TestValidateNil(t *testing.T) {
	var c *Config
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "no configuration") {
		t.Errorf("nil.Validate() = %v", err)
	}
}
