package cli

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// benchReport is the output of a run; -format=json prints it as is.
type benchReport struct {
	Address         string        `json:"address,omitempty"`      // the server, when a server scenario ran
	BareAddress     string        `json:"bare_address,omitempty"` // the bare server (a child process), when it ran
	Concurrency     int           `json:"concurrency"`
	DurationSeconds float64       `json:"duration_seconds"`
	WarmupSeconds   float64       `json:"warmup_seconds"`
	ValueSize       int           `json:"value_size"`
	Keys            int           `json:"keys"`
	Results         []benchResult `json:"results"`
	Interrupted     bool          `json:"interrupted,omitempty"`
}

// benchResult is one scenario's figures.
type benchResult struct {
	Scenario  string  `json:"scenario"`
	Ops       uint64  `json:"ops"`
	Seconds   float64 `json:"seconds"` // the measured window
	OpsPerSec float64 `json:"ops_per_sec"`
	// LatencyMS holds p50, p90, p99 and max in milliseconds, of the
	// successful operations.
	LatencyMS     benchLatency `json:"latency_ms"`
	Errors        uint64       `json:"errors"`
	ErrorMessages []string     `json:"error_messages"`
	// RatioToBare is OpsPerSec over the bare server's, when bare ran.
	RatioToBare *float64 `json:"ratio_to_bare,omitempty"`
	// Skipped says why the scenario did not run.
	Skipped string `json:"skipped,omitempty"`
}

type benchLatency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// newBenchResult turns a run's statistics into figures.
func newBenchResult(name string, s *benchStats) benchResult {
	r := benchResult{Scenario: name, Ops: s.ops, Errors: s.errors, ErrorMessages: s.msgs}
	if r.ErrorMessages == nil {
		r.ErrorMessages = []string{}
	}
	r.Seconds = round(s.last.Seconds(), 3)
	if s.last > 0 {
		r.OpsPerSec = round(float64(s.ops)/s.last.Seconds(), 1)
	}
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	r.LatencyMS = benchLatency{
		P50: ms(s.hist.quantile(0.50)),
		P90: ms(s.hist.quantile(0.90)),
		P99: ms(s.hist.quantile(0.99)),
		Max: ms(s.hist.maxValue()),
	}
	return r
}

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

// setRatios fills RatioToBare in every result when bare ran.
func (r *benchReport) setRatios() {
	var bare float64
	for _, res := range r.Results {
		if res.Scenario == "bare" {
			bare = res.OpsPerSec
		}
	}
	if bare == 0 {
		return
	}
	for i := range r.Results {
		res := &r.Results[i]
		if res.Scenario != "bare" && res.Skipped == "" {
			ratio := round(res.OpsPerSec/bare, 3)
			res.RatioToBare = &ratio
		}
	}
}

// errorCount returns the failed operations of all scenarios.
func (r *benchReport) errorCount() uint64 {
	var n uint64
	for _, res := range r.Results {
		n += res.Errors
	}
	return n
}

// printBench prints the report as JSON or as a table followed by the
// skipped scenarios and the error messages.
func (c *cmd) printBench(r *benchReport) int {
	if c.format == "json" {
		return c.printJSON(r)
	}
	w := c.stdout
	if r.Address != "" {
		fmt.Fprintf(w, "Server:  %s\n", r.Address)
	}
	if r.BareAddress != "" {
		fmt.Fprintf(w, "Bare:    %s (separate process, Go net/http, fixed %d-byte JSON answer)\n", r.BareAddress, bareBodySize)
	}
	fmt.Fprintf(w, "Load:    %d concurrent, %s per scenario after %s warmup; %d keys of %d bytes\n\n",
		r.Concurrency, secs(r.DurationSeconds), secs(r.WarmupSeconds), r.Keys, r.ValueSize)
	header := []string{"Scenario", "Ops/s", "p50 ms", "p90 ms", "p99 ms", "Max ms", "Errors"}
	withRatio := false
	for _, res := range r.Results {
		withRatio = withRatio || res.RatioToBare != nil
	}
	if withRatio {
		header = append(header, "vs bare")
	}
	var rows [][]string
	for _, res := range r.Results {
		if res.Skipped != "" {
			continue
		}
		l := res.LatencyMS
		row := []string{res.Scenario, strconv.FormatFloat(res.OpsPerSec, 'f', 0, 64),
			ms3(l.P50), ms3(l.P90), ms3(l.P99), ms3(l.Max), strconv.FormatUint(res.Errors, 10)}
		if withRatio {
			ratio := "-"
			if res.RatioToBare != nil {
				ratio = strconv.FormatFloat(*res.RatioToBare, 'f', 2, 64)
			}
			row = append(row, ratio)
		}
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		columns(w, header, rows)
	} else {
		fmt.Fprintln(w, "No scenario ran to its end.")
	}
	for _, res := range r.Results {
		if res.Skipped != "" {
			fmt.Fprintf(w, "\n%s: skipped: %s\n", res.Scenario, res.Skipped)
		}
	}
	for _, res := range r.Results {
		if res.Errors == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %d failed operations; first distinct messages:\n", res.Scenario, res.Errors)
		for _, m := range res.ErrorMessages {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
	return exitOK
}

func ms3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).String()
}
