package router

import (
	"fmt"
	"testing"
)

func TestLongestPrefix(t *testing.T) {
	r := New[string]()
	for _, p := range []string{"secret/", "secret/team/", "auth/token/", "sys/"} {
		r.Mount(p, p)
	}
	tests := map[string]string{
		"secret/data/x":      "secret/",
		"secret":             "secret/",
		"secret/":            "secret/",
		"secret/team/a":      "secret/team/",
		"secret/team":        "secret/team/",
		"secret/teams/a":     "secret/",
		"auth/token/lookup":  "auth/token/",
		"sys/mounts/secret/": "sys/",
		"nothing/here":       "",
		"secretx/a":          "",
		"auth/tokenx/lookup": "",
	}
	for path, want := range tests {
		v, mount, ok := r.Match(path)
		if (want == "") == ok || v != want || mount != want {
			t.Errorf("Match(%q) = %q, %q, %v; want %q", path, v, mount, ok, want)
		}
	}
	r.Unmount("secret/team/")
	if _, mount, _ := r.Match("secret/team/a"); mount != "secret/" {
		t.Errorf("after unmount, got %q", mount)
	}
}

func BenchmarkMatch10000Mounts(b *testing.B) {
	r := New[int]()
	for i := 0; i < 10000; i++ {
		r.Mount(fmt.Sprintf("team-%d/app/", i), i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := r.Match("team-5000/app/data/service/db/password"); !ok {
			b.Fatal("no match")
		}
	}
}
