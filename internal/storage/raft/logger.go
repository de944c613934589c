package raft

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hcLogger adapts an slog.Logger to the hclog.Logger interface that
// hashicorp/raft, its transport and its snapshot store log through. Levels
// map trace and debug to slog Debug, info to Info, warn to Warn and error
// to Error; the slog handler decides what is shown, so SetLevel is ignored.
// Raft logs node ids, addresses, indexes and errors — never stored values.
type hcLogger struct {
	base *slog.Logger // without name or implied args
	l    *slog.Logger // base with name and args applied
	name string
	args []any
}

func newHCLogger(l *slog.Logger) *hcLogger {
	return &hcLogger{base: l, l: l}
}

func (h *hcLogger) derive(name string, args []any) *hcLogger {
	l := h.base
	if name != "" {
		l = l.With("logger", name)
	}
	if len(args) > 0 {
		l = l.With(args...)
	}
	return &hcLogger{base: h.base, l: l, name: name, args: args}
}

func slogLevel(level hclog.Level) slog.Level {
	switch {
	case level <= hclog.Debug: // NoLevel, Trace, Debug
		return slog.LevelDebug
	case level == hclog.Info:
		return slog.LevelInfo
	case level == hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	h.l.Log(context.Background(), slogLevel(level), msg, formatArgs(args)...)
}

// formatArgs renders hclog.Format values ({format, args...}), which raft
// uses for progress lines, as the strings they stand for.
func formatArgs(args []any) []any {
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if format, ok := f[0].(string); ok {
				args[i] = fmt.Sprintf(format, f[1:]...)
			}
		}
	}
	return args
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) enabled(level hclog.Level) bool {
	return h.l.Enabled(context.Background(), slogLevel(level))
}

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []any { return h.args }

func (h *hcLogger) With(args ...any) hclog.Logger {
	return h.derive(h.name, append(append([]any(nil), h.args...), args...))
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.derive(name, h.args)
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger { return h.derive(name, h.args) }

// SetLevel is a no-op: the slog handler owns the level.
func (h *hcLogger) SetLevel(hclog.Level) {}

func (h *hcLogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			if l == hclog.Debug {
				return hclog.Trace
			}
			return l
		}
	}
	return hclog.Off
}

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	level := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = slogLevel(opts.ForceLevel)
	}
	return slog.NewLogLogger(h.l.Handler(), level)
}

func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return h.StandardLogger(opts).Writer()
}

var _ hclog.Logger = (*hcLogger)(nil)
