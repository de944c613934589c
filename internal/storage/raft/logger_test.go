package raft

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLoggerLevelsAndAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if l.IsDebug() || l.IsTrace() || !l.IsInfo() || !l.IsError() {
		t.Errorf("Is* do not follow the handler's Info level")
	}
	if got := l.GetLevel(); got != hclog.Info {
		t.Errorf("GetLevel() = %v, want Info", got)
	}
	l.Trace("trace line")
	l.Debug("debug line")
	l.Named("net").With("peer", "n2").Warn("warn line", "error", "boom")
	l.Error("error line")
	l.Log(hclog.Off, "off line")
	out := buf.String()
	for _, absent := range []string{"trace line", "debug line", "off line"} {
		if strings.Contains(out, absent) {
			t.Errorf("%q logged at the Info level:\n%s", absent, out)
		}
	}
	for _, want := range []string{
		`level=WARN msg="warn line" logger=net peer=n2 error=boom`,
		`level=ERROR msg="error line"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	named := l.Named("a").Named("b").With("k", "v")
	if named.Name() != "a.b" || len(named.ImpliedArgs()) != 2 {
		t.Errorf("Named/With: name %q, args %v", named.Name(), named.ImpliedArgs())
	}
	if got := named.ResetNamed("c").Name(); got != "c" {
		t.Errorf("ResetNamed name = %q", got)
	}
	buf.Reset()
	l.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}).Print("from std")
	if !strings.Contains(buf.String(), `level=WARN msg="from std"`) {
		t.Errorf("StandardLogger output = %q", buf.String())
	}
}

func TestLoggerFormatsHclogFormat(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	l.Info("snapshot network transfer progress", "percent-complete", hclog.Fmt("%0.2f%%", 42.5))
	if !strings.Contains(buf.String(), `percent-complete=42.50%`) {
		t.Fatalf("log line = %q", buf.String())
	}
}
