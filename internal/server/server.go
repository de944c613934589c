package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/auth/approle"
	"github.com/wardsec/ward/internal/auth/cert"
	"github.com/wardsec/ward/internal/auth/jwt"
	"github.com/wardsec/ward/internal/auth/kubernetes"
	"github.com/wardsec/ward/internal/auth/userpass"
	"github.com/wardsec/ward/internal/config"
	"github.com/wardsec/ward/internal/core"
	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/engine/cubbyhole"
	"github.com/wardsec/ward/internal/engine/kv"
	"github.com/wardsec/ward/internal/engine/transit"
	"github.com/wardsec/ward/internal/httpapi"
	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/bolt"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/sys"
)

// Server is a running Ward server.
type Server struct {
	Core *core.Core

	log      *slog.Logger
	level    *slog.LevelVar
	closer   io.Closer // storage, if it holds a file
	servers  []*http.Server
	certs    []*certReloader
	addrs    []net.Addr
	serveErr chan error
	wg       sync.WaitGroup
	// stopBackground ends auto-unseal and seal token renewal; background
	// counts them.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
}

// engines is the catalog of secret engines by mount type.
func engines() map[string]engine.Factory {
	return map[string]engine.Factory{
		"kv":        kv.Factory,
		"cubbyhole": cubbyhole.Factory,
		"transit":   transit.Factory,
	}
}

// credentials is the catalog of auth methods by mount type.
func credentials() map[string]engine.Factory {
	return map[string]engine.Factory{
		"approle":    approle.Factory,
		"cert":       cert.Factory,
		"jwt":        jwt.Factory,
		"kubernetes": kubernetes.Factory,
		"oidc":       jwt.Factory,
		"userpass":   userpass.Factory,
	}
}

// New opens storage and builds core for cfg. It does not listen yet.
func New(cfg *config.Config, logOut io.Writer) (*Server, error) {
	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.LogLevel))
	log := newLogger(cfg.LogFormat, level, logOut)

	if err := forbidCoreDumps(); err != nil {
		log.Warn("server: could not disable core dumps", "error", err)
	}
	if !cfg.DisableMlock {
		if err := lockMemory(); err != nil {
			return nil, fmt.Errorf("lock memory: %w (set disable_mlock = true in the configuration if this system cannot lock memory)", err)
		}
	}

	sl, err := newSeals(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	physical, closer, certs, err := openStorage(cfg, log)
	if err != nil {
		return nil, err
	}
	var apiAddr, clusterAddr string
	if cfg.Storage.Type == config.StorageRaft {
		_, advertise, api, _ := clusterAddrs(cfg)
		apiAddr, clusterAddr = api, "http://"+advertise
	}
	c, err := core.New(core.Options{
		Physical:        physical,
		StorageType:     cfg.Storage.Type,
		Logger:          log,
		Engines:         engines(),
		Credentials:     credentials(),
		System:          func(c *core.Core) engine.Backend { return sys.New(c) },
		DefaultLeaseTTL: cfg.DefaultLeaseTTL,
		MaxLeaseTTL:     cfg.MaxLeaseTTL,
		ClusterName:     cfg.ClusterName,
		AuditTypes:      auditTypes(),
		AuditDevices:    declaredAudit(cfg.Audit),
		Seal:            sl.current,
		OldSeal:         sl.old,
		APIAddr:         apiAddr,
		ClusterAddr:     clusterAddr,
		JoinClient:      &http.Client{Transport: forwardTransport(cfg), Timeout: 10 * time.Second},
	})
	if err == nil {
		err = c.CheckSeal(context.Background())
	}
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	s := &Server{Core: c, log: log, level: level, closer: closer, certs: certs, serveErr: make(chan error, len(cfg.Listeners))}
	s.startBackground(sl, cfg.Storage.RetryJoin)
	return s, nil
}

// startBackground unseals with an auto-unseal seal (retrying until its
// key source answers) and keeps the transit seal tokens renewed.
func (s *Server) startBackground(sl seals, joins []config.RetryJoin) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBackground = cancel
	s.background.Add(3 + len(sl.renew))
	go func() {
		defer s.background.Done()
		s.Core.RunAutoUnseal(ctx)
	}()
	go func() {
		defer s.background.Done()
		s.Core.RunHA(ctx)
	}()
	go func() {
		defer s.background.Done()
		retryJoin(ctx, s.Core, joins, s.log)
	}()
	for _, t := range sl.renew {
		go func() {
			defer s.background.Done()
			t.KeepTokenAlive(ctx, s.log)
		}()
	}
}

// openStorage opens the configured storage. It also returns the
// certificates the storage serves (raft's), for SIGHUP to reload.
func openStorage(cfg *config.Config, log *slog.Logger) (storage.Backend, io.Closer, []*certReloader, error) {
	s := cfg.Storage
	switch s.Type {
	case config.StorageRaft:
		b, cert, err := openRaft(cfg, log)
		if err != nil {
			return nil, nil, nil, err
		}
		var certs []*certReloader
		if cert != nil {
			certs = append(certs, cert)
		}
		return b, b, certs, nil
	case config.StorageInmem:
		return inmem.New(), nil, nil, nil
	case config.StorageBolt:
		b, err := bolt.Open(s.Path, nil)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open bolt storage: %w", err)
		}
		return b, b, nil, nil
	}
	return nil, nil, nil, fmt.Errorf("storage %q is not supported by this build yet", s.Type)
}

// Listen binds every listener and starts serving the API.
func (s *Server) Listen(cfg *config.Config) error {
	for _, l := range cfg.Listeners {
		h := httpapi.New(s.Core, httpapi.Options{
			MaxRequestSize:     l.MaxRequestSize,
			MaxRequestDuration: l.MaxRequestDuration,
			Logger:             s.log,
			ForwardTransport:   forwardTransport(cfg),
		})
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			// A body trickled in slowly must not hold a connection and
			// its buffer longer than a request may take.
			ReadTimeout:  l.MaxRequestDuration,
			WriteTimeout: l.MaxRequestDuration + 10*time.Second,
			IdleTimeout:  5 * time.Minute,
			ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
		ln, err := net.Listen("tcp", l.Address)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", l.Address, err)
		}
		if !l.TLSDisable {
			cr, err := newCertReloader(l.TLSCertFile, l.TLSKeyFile)
			if err != nil {
				ln.Close()
				return err
			}
			s.certs = append(s.certs, cr)
			min := uint16(tls.VersionTLS12)
			if l.TLSMinVersion == "tls13" {
				min = tls.VersionTLS13
			}
			// Client certificates are asked for, never required: the cert
			// auth method verifies them; everyone else ignores them.
			srv.TLSConfig = &tls.Config{MinVersion: min, GetCertificate: cr.get, ClientAuth: tls.RequestClientCert}
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		s.servers = append(s.servers, srv)
		s.addrs = append(s.addrs, ln.Addr())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.serveErr <- err
			}
		}()
		s.log.Info("server: listening", "address", ln.Addr().String(), "tls", !l.TLSDisable)
	}
	return nil
}

// Addrs are the bound listener addresses, in configuration order.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Errors delivers a listener's fatal error.
func (s *Server) Errors() <-chan error { return s.serveErr }

// Reload applies what is safe to change at run time: the log level and
// the TLS certificates.
func (s *Server) Reload(cfg *config.Config) error {
	for _, cr := range s.certs {
		if err := cr.reload(); err != nil {
			return err
		}
	}
	s.level.Set(parseLevel(cfg.LogLevel))
	if err := s.Core.ReopenAudit(); err != nil {
		return fmt.Errorf("reopen audit devices: %w", err)
	}
	s.log.Info("server: reloaded configuration", "log_level", cfg.LogLevel)
	return nil
}

// Shutdown stops accepting requests, lets those in flight finish (up to
// ctx), seals the core and closes storage.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	s.stopBackground()
	s.background.Wait()
	// An active node hands leadership over before it goes, so the
	// cluster need not wait for an election timeout.
	if !s.Core.Standby() && s.Core.HAEnabled() {
		if err := s.Core.StepDown(ctx); err != nil {
			s.log.Warn("server: step down before shutdown", "error", err)
		}
	}
	s.Core.Seal()
	if s.closer != nil {
		if err := s.closer.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func newLogger(format string, level *slog.LevelVar, out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
