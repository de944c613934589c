package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wardsec/ward/client"
)

func init() {
	register(&command{
		name:     "bench",
		synopsis: "Measure a Vault-API server's throughput and latency",
		usage:    benchUsage(),
		run:      runBench,
	})
}

func benchUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: ward bench [flags]

  Puts load on the server at -address and prints, per scenario,
  operations per second, p50/p90/p99/max latency and failed operations.
  Only the public API is used, so the server may be Ward, Vault or
  OpenBao. Each scenario runs -warmup (not counted), then -duration, with
  -concurrency requests in flight.

  First, ward bench creates what the scenarios need, each named after a
  random bench-XXXXXXXX: a KV v2 mount holding -keys secrets of
  -value-size bytes, a transit mount and key, an approle auth method, and
  a policy with a token holding it; the load runs as that token, as a
  service would. All of it is removed when the run ends, also on Ctrl-C.
  The token used for that (-token, else WARD_TOKEN, VAULT_TOKEN or the
  one saved by ward login) must be allowed to mount engines, enable auth
  methods and write policies: use a root token on a test server.

  Scenarios (-scenario: one, a comma list, or "all" for every one but bare):
`)
	for _, s := range benchScenarios {
		fmt.Fprintf(&b, "    %-16s %s\n", s.name, s.summary)
	}
	b.WriteString(`
  bare needs no server: ward bench starts a plain Go net/http server on
  loopback as a separate process (its own binary again, stopped when the
  run ends) and loads it exactly like kv2-read. A separate process, not
  the tool's own, because the server it is compared with is one: each
  request then crosses between two Go runtimes sharing the CPU, which
  costs a server in the tool's own process nothing.
  -compare-bare runs bare first and then prints each scenario's ratio to
  it, so the comparison is made on the same machine, at the same moment.
  The tool and a local server share the CPU: compare servers one at a
  time, under the same flags.

  Exit status 1 when any operation failed or the cleanup left something
  behind.

Examples:
  $ ward bench -scenario=kv2-read,transit-encrypt
  $ ward bench -compare-bare -scenario=all -duration=30s
  $ ward bench -bare -concurrency=64
  $ ward bench -address=http://127.0.0.1:8200 -token=root -format=json`)
	return b.String()
}

// Bounds of the load flags.
const (
	benchMaxConcurrency = 1024
	benchMaxDuration    = 10 * time.Minute
	benchMaxWarmup      = time.Minute
	benchMaxValueSize   = 1 << 20
	benchMaxKeys        = 100_000
)

// benchOptions are the validated flags.
type benchOptions struct {
	load      benchLoad
	valueSize int
	keys      int
	scenarios []benchScenario // server scenarios, in the order given
	bare      bool            // run the bare server first
	token     string          // from -token; else the usual sources
}

func (c *cmd) benchFlags(args []string) (*benchOptions, bool) {
	conc := c.fs.Int("concurrency", 32, fmt.Sprintf("requests in flight (1 to %d)", benchMaxConcurrency))
	dur := c.fs.String("duration", "10s", "how long each scenario is measured (at most 10m)")
	warm := c.fs.String("warmup", "1s", "how long each scenario runs before measuring (at most 1m)")
	size := c.fs.Int("value-size", 100, "bytes in each secret, plaintext and wrapped value")
	keys := c.fs.Int("keys", 1000, fmt.Sprintf("how many KV secrets to write and read (at most %d)", benchMaxKeys))
	scen := c.fs.String("scenario", "kv2-read", `scenarios to run: a comma list, or "all"`)
	bare := c.fs.Bool("bare", false, "load only the bare server, run in a process of its own (same as -scenario=bare)")
	compare := c.fs.Bool("compare-bare", false, "run bare first and print each scenario's ratio to it")
	tok := c.fs.String("token", "", "token for setup (default WARD_TOKEN, VAULT_TOKEN, then ~/.ward-token); visible to other local users, prefer the environment")
	if !c.parse(args, 0, 0) {
		return nil, false
	}
	o := &benchOptions{valueSize: *size, keys: *keys, token: *tok, bare: *compare}
	o.load.concurrency = *conc
	var err error
	if o.load.duration, err = parseDuration(*dur); err != nil {
		return nil, c.usageError("-duration: %v", err)
	}
	if o.load.warmup, err = parseDuration(*warm); err != nil {
		return nil, c.usageError("-warmup: %v", err)
	}
	switch {
	case *conc < 1 || *conc > benchMaxConcurrency:
		return nil, c.usageError("-concurrency must be between 1 and %d", benchMaxConcurrency)
	case o.load.duration <= 0 || o.load.duration > benchMaxDuration:
		return nil, c.usageError("-duration must be more than 0 and at most %s", benchMaxDuration)
	case o.load.warmup > benchMaxWarmup:
		return nil, c.usageError("-warmup must be at most %s", benchMaxWarmup)
	case *size < 1 || *size > benchMaxValueSize:
		return nil, c.usageError("-value-size must be between 1 and %d bytes", benchMaxValueSize)
	case *keys < 1 || *keys > benchMaxKeys:
		return nil, c.usageError("-keys must be between 1 and %d", benchMaxKeys)
	case c.flagWrapTTL != "":
		return nil, c.usageError("-wrap-ttl does not apply to ward bench (wrap-unwrap wraps on its own)")
	case *bare && c.isSet("scenario"):
		return nil, c.usageError("give -bare or -scenario, not both")
	case *bare:
		o.bare = true
		return o, true
	}
	names := strings.Split(*scen, ",")
	if strings.TrimSpace(*scen) == "all" {
		names = nil
		for _, s := range benchScenarios[1:] {
			names = append(names, s.name)
		}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		s, ok := findScenario(n)
		if !ok {
			return nil, c.usageError("unknown scenario %q: use %s or all", n, benchScenarioNames())
		}
		if n == "bare" {
			o.bare = true
		} else if !slices.ContainsFunc(o.scenarios, func(x benchScenario) bool { return x.name == n }) {
			o.scenarios = append(o.scenarios, s)
		}
	}
	return o, true
}

func benchScenarioNames() string {
	names := make([]string, len(benchScenarios))
	for i, s := range benchScenarios {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func runBench(c *cmd, args []string) int {
	if len(args) == 1 && args[0] == bareChildArg {
		// The bare server's child: its parent decides when it ends, by
		// closing its stdin, so a Ctrl-C sent to the whole terminal
		// process group must not end it mid-load.
		signal.Ignore(os.Interrupt)
		return serveBare(c.stdin, c.stdout, c.stderr)
	}
	o, ok := c.benchFlags(args)
	if !ok {
		return c.code
	}
	// Ctrl-C stops the load and cleans up; a second one kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)

	rep := &benchReport{
		Concurrency:     o.load.concurrency,
		DurationSeconds: o.load.duration.Seconds(),
		WarmupSeconds:   o.load.warmup.Seconds(),
		ValueSize:       o.valueSize,
		Keys:            o.keys,
		Results:         []benchResult{},
	}
	if o.bare {
		if err := c.benchBare(ctx, o, rep); err != nil {
			return c.fail(err)
		}
	}
	var setup *benchSetup
	if len(o.scenarios) > 0 && ctx.Err() == nil {
		var err error
		setup, err = c.benchServer(ctx, o, rep)
		if err != nil {
			code := c.fail(err)
			c.benchCleanup(setup)
			return code
		}
	}
	// The results come before the cleanup, which can take a while.
	rep.Interrupted = ctx.Err() != nil
	rep.setRatios()
	if code := c.printBench(rep); code != exitOK {
		c.benchCleanup(setup)
		return code
	}
	cleanedUp := c.benchCleanup(setup)
	switch {
	case rep.Interrupted:
		return c.failf("bench: interrupted; the results above are of the scenarios that ran")
	case !cleanedUp:
		return exitError
	case rep.errorCount() > 0:
		return c.fail(withHints(fmt.Errorf("bench: %d operations failed", rep.errorCount()),
			"the first distinct messages of each scenario are listed above"))
	}
	return exitOK
}

// benchCleanup removes what setup created (nil: nothing), printing what
// could not be removed, and reports whether everything was.
func (c *cmd) benchCleanup(setup *benchSetup) bool {
	if setup == nil {
		return true
	}
	fmt.Fprintf(c.stderr, "bench: cleaning up %s\n", setup.id)
	failures := setup.cleanup()
	for _, f := range failures {
		c.fail(f)
	}
	return len(failures) == 0
}

// benchBare runs the bare scenario against a bare server in a child
// process, and stops that process before returning.
func (c *cmd) benchBare(ctx context.Context, o *benchOptions, rep *benchReport) (err error) {
	srv, err := startBareServer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while starting: runBench reports it
		}
		return err
	}
	defer func() {
		if cerr := srv.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(c.stderr, "bench: bare server: pid %d on %s\n", srv.pid(), srv.addr)
	rep.BareAddress = srv.addr
	tr := benchTransport(o.load.concurrency, nil)
	defer tr.CloseIdleConnections()
	env := &benchEnv{target: newBenchTarget(tr, srv.base, "bare")}
	env.addKV(ctx, "bench-bare", o.keys, "")
	s, _ := findScenario("bare")
	c.benchProgress(s.name, o.load)
	stats := runLoad(ctx, o.load, func(w int) benchOp { return s.newOp(env, w) })
	if ctx.Err() == nil {
		rep.Results = append(rep.Results, newBenchResult(s.name, stats))
	}
	return nil
}

// benchServer sets up the server and runs the chosen scenarios against it,
// putting the results into rep. It returns the setup to clean up (nil when
// nothing was created) and the error that stopped the run, if any.
func (c *cmd) benchServer(ctx context.Context, o *benchOptions, rep *benchReport) (*benchSetup, error) {
	rep.Address = c.address
	tok := o.token
	if tok == "" {
		var err error
		if tok, err = resolveToken(); err != nil {
			return nil, err
		}
	}
	if tok == "" {
		return nil, withHints(errors.New("bench: no token"),
			"ward bench needs a token that may mount engines and write policies: set WARD_TOKEN, give -token, or run `ward login`")
	}
	tlsCfg, err := c.benchTLS()
	if err != nil {
		return nil, err
	}
	tr := benchTransport(o.load.concurrency, tlsCfg)
	defer tr.CloseIdleConnections()
	base, err := url.Parse(strings.TrimSuffix(c.address, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bench: address %q is not an http(s) URL", c.address)
	}
	cl, err := client.New(&client.Config{
		Address:    c.address,
		Token:      tok,
		HTTPClient: &http.Client{Transport: tr, Timeout: cleanupTimeout},
	})
	if err != nil {
		return nil, err
	}
	setup, err := newBenchSetup(cl, c.stderr)
	if err != nil {
		return nil, err
	}
	var needs benchNeeds
	for _, s := range o.scenarios {
		needs |= s.needs
	}
	perScenario := o.load.warmup + o.load.duration
	fmt.Fprintf(c.stderr, "bench: setting up %s on %s\n", setup.id, c.address)
	env := &benchEnv{target: newBenchTarget(tr, base, "")}
	prepErr := setup.prepare(ctx, benchPrep{
		needs:       needs,
		keys:        o.keys,
		value:       benchValue(o.valueSize),
		concurrency: o.load.concurrency,
		tokenTTL:    time.Duration(len(o.scenarios))*perScenario + 15*time.Minute,
	}, env)
	if prepErr == nil {
		for _, s := range o.scenarios {
			if ctx.Err() != nil {
				break
			}
			if s.needs&needAppRole != 0 && setup.noAppRole != "" {
				rep.Results = append(rep.Results, benchResult{Scenario: s.name, ErrorMessages: []string{}, Skipped: setup.noAppRole})
				continue
			}
			c.benchProgress(s.name, o.load)
			stats := runLoad(ctx, o.load, func(w int) benchOp { return s.newOp(env, w) })
			if ctx.Err() == nil {
				rep.Results = append(rep.Results, newBenchResult(s.name, stats))
			}
		}
	}
	if prepErr != nil && ctx.Err() == nil {
		if client.StatusCode(prepErr) == http.StatusForbidden {
			prepErr = withHints(prepErr, "ward bench needs a token that may mount engines, enable auth methods and write policies (a root token on a test server)")
		}
		return setup, prepErr
	}
	return setup, nil
}

func (c *cmd) benchProgress(name string, l benchLoad) {
	fmt.Fprintf(c.stderr, "bench: %s: %d concurrent, %s + %s warmup\n", name, l.concurrency, l.duration, l.warmup)
}

// benchTransport returns a transport kept for the load: a connection per
// worker kept alive between requests, no proxy, no compression, HTTP/1.1
// (as Vault's clients use it).
func benchTransport(conns int, tlsCfg *tls.Config) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 8,
		MaxIdleConnsPerHost: conns + 8,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsCfg,
		DisableCompression:  true,
	}
}

// benchTLS builds the TLS settings from the global flags and environment,
// as the other commands' client does.
func (c *cmd) benchTLS() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.flagSkipVerify}
	if ca := firstNonEmpty(c.flagCACert, env("CACERT")); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("bench: read CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bench: CA file %s holds no PEM certificate", ca)
		}
		cfg.RootCAs = pool
	}
	cert, key := env("CLIENT_CERT"), env("CLIENT_KEY")
	if (cert == "") != (key == "") {
		return nil, errors.New("bench: a client certificate needs both WARD_CLIENT_CERT and WARD_CLIENT_KEY")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("bench: load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
