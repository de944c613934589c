package token

import (
	"testing"
	"time"
)

func BenchmarkLookup(b *testing.B) {
	f := newFixture(b, Options{})
	tok, _ := f.create(b, CreateParams{Policies: []string{"default", "dev"}, TTL: time.Hour, Meta: map[string]string{"team": "x"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.Lookup(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	f := newFixture(b, Options{})
	_, root := f.root(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.s.Create(ctx, CreateParams{Parent: root.ID, Policies: []string{"default", "dev"}, TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
}
