//go:build scale

package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Summaries, tables and the growth check of TestScale.

// scaleSummary is the medians of the cold restarts at one count.
type scaleSummary struct {
	N                                          int
	StartMS, UnsealMS, ReadMS, ServeMS, ListMS float64
	ReadBytes, RssFile, MinorFaults            int64
}

func summarize(n int, runs []scaleRun) scaleSummary {
	var cold []scaleRun
	for _, r := range runs {
		if r.Cold {
			cold = append(cold, r)
		}
	}
	mf := func(f func(scaleRun) float64) float64 {
		v := make([]float64, len(cold))
		for i, r := range cold {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	mi := func(f func(scaleRun) int64) int64 {
		return int64(mf(func(r scaleRun) float64 { return float64(f(r)) }))
	}
	return scaleSummary{
		N:           n,
		StartMS:     mf(func(r scaleRun) float64 { return r.StartMS }),
		UnsealMS:    mf(func(r scaleRun) float64 { return r.UnsealMS }),
		ReadMS:      mf(func(r scaleRun) float64 { return r.ReadMS }),
		ServeMS:     mf(func(r scaleRun) float64 { return r.ServeMS }),
		ListMS:      mf(func(r scaleRun) float64 { return r.ListMS }),
		ReadBytes:   mi(func(r scaleRun) int64 { return r.ReadBytes }),
		RssFile:     mi(func(r scaleRun) int64 { return r.RssFile }),
		MinorFaults: mi(func(r scaleRun) int64 { return r.MinorFaults }),
	}
}

// scaleTable formats the runs of one count as a Markdown table.
func scaleTable(runs []scaleRun) string {
	var b strings.Builder
	b.WriteString("| cache | start→API ms | unseal ms | 1st read ms | start→read ms | 1st LIST ten/ ms | warm LIST ms | VmLck MiB | VmRSS MiB | RssAnon MiB | RssFile MiB | Anonymous MiB | disk read KiB | minor faults |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	mib := func(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
	for _, r := range runs {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.2f | %.1f | %.2f | %.3f | %s | %s | %s | %s | %s | %d | %d |\n",
			cacheName(r.Cold), r.StartMS, r.UnsealMS, r.ReadMS, r.ServeMS, r.ListMS, r.ListWarmMS,
			mib(r.VmLck), mib(r.VmRSS), mib(r.RssAnon), mib(r.RssFile), mib(r.Anonymous), r.ReadBytes>>10, r.MinorFaults)
	}
	return b.String()
}

// scaleCheckGrowth fails if cold startup at the largest count does work
// that grows with the count: the disk read, the bolt pages touched, or the
// time from unseal to the first read. The B+tree gets a level deeper, so
// a little growth is allowed; loading every entry would be ten-fold
// between 100,000 and 1,000,000.
func scaleCheckGrowth(t *testing.T, s []scaleSummary) {
	if len(s) < 2 {
		return
	}
	lo, hi := s[0], s[len(s)-1]
	t.Logf("cold-start medians, N=%d → N=%d (%.0f×): unseal+read %.1f → %.1f ms; disk read %d → %d KiB; RssFile %.1f → %.1f MiB; minor faults %d → %d; first LIST ten/ %.2f → %.2f ms",
		lo.N, hi.N, float64(hi.N)/float64(lo.N),
		lo.UnsealMS+lo.ReadMS, hi.UnsealMS+hi.ReadMS,
		lo.ReadBytes>>10, hi.ReadBytes>>10,
		float64(lo.RssFile)/(1<<20), float64(hi.RssFile)/(1<<20),
		lo.MinorFaults, hi.MinorFaults, lo.ListMS, hi.ListMS)
	const slackBytes = 4 << 20
	if hi.ReadBytes > 2*lo.ReadBytes+slackBytes {
		t.Errorf("cold start read %d bytes from disk at N=%d, %d at N=%d: startup reads more as the store grows", hi.ReadBytes, hi.N, lo.ReadBytes, lo.N)
	}
	if hi.RssFile > 2*lo.RssFile+slackBytes {
		t.Errorf("the server had %d bytes of files resident at N=%d, %d at N=%d: startup touches more of the store as it grows", hi.RssFile, hi.N, lo.RssFile, lo.N)
	}
	if a, b := lo.UnsealMS+lo.ReadMS, hi.UnsealMS+hi.ReadMS; b > 3*a+100 {
		t.Errorf("unseal plus first read took %.1f ms at N=%d, %.1f ms at N=%d", b, hi.N, a, lo.N)
	}
	if hi.ListMS > 3*lo.ListMS+50 {
		t.Errorf("the first LIST of ten/ took %.2f ms at N=%d, %.2f ms at N=%d", hi.ListMS, hi.N, lo.ListMS, lo.N)
	}
}
