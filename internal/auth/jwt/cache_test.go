package jwt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wardsec/ward/internal/auth/jwt/jwttest"
)

// slowJWKS serves one RSA key; while held, requests wait until released.
type slowJWKS struct {
	srv     *httptest.Server
	fetches atomic.Int32
	held    atomic.Bool
	entered chan struct{} // gets a value when a held request arrives
	release chan struct{} // closed to let held requests answer
	once    sync.Once
}

func newSlowJWKS(t *testing.T) *slowJWKS {
	s := &slowJWKS{entered: make(chan struct{}, 16), release: make(chan struct{})}
	key := jwttest.RSAKeys()[0]
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.held.Load() {
			s.entered <- struct{}{}
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(func() {
		s.letGo()
		s.srv.Close()
	})
	return s
}

func (s *slowJWKS) letGo() { s.once.Do(func() { close(s.release) }) }

func (s *slowJWKS) keys(c *clock) *remoteKeys {
	url := s.srv.URL
	return newRemoteKeys(s.srv.Client(), c.Now, func(context.Context) (string, error) { return url, nil })
}

func signedRS256(t *testing.T) *jose.JSONWebSignature {
	t.Helper()
	tok := jwttest.SignWith(jwttest.RSAKeys()[0], jose.RS256, "rsa-1", map[string]any{"sub": "x"})
	sig, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// While a slow provider is being asked for a fresh key set, logins whose
// key is cached go ahead with the cached set instead of waiting.
func TestRemoteKeysSlowFetchDoesNotBlock(t *testing.T) {
	s := newSlowJWKS(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := s.keys(c)
	sig := signedRS256(t)
	ctx := context.Background()
	if _, err := r.verify(ctx, sig); err != nil {
		t.Fatalf("first verify: %v", err)
	}

	c.Advance(jwksMaxAge) // stale: the next login fetches again
	s.held.Store(true)
	first := make(chan error, 1)
	go func() {
		_, err := r.verify(ctx, sig)
		first <- err
	}()
	select {
	case <-s.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the stale key set was not fetched again")
	}

	others := make(chan error, 4)
	for range cap(others) {
		go func() {
			_, err := r.verify(ctx, sig)
			others <- err
		}()
	}
	for range cap(others) {
		select {
		case err := <-others:
			if err != nil {
				t.Errorf("verify during a slow fetch: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("verify waited for a slow provider although a key set was cached")
		}
	}
	if n := s.fetches.Load(); n != 2 {
		t.Errorf("%d fetches; want 2 (one at a time)", n)
	}
	s.letGo()
	if err := <-first; err != nil {
		t.Errorf("the verify that fetched: %v", err)
	}
}

// Callers with nothing cached share one fetch, and one caller giving up
// does not fail it for the others.
func TestRemoteKeysColdCallersShareOneFetch(t *testing.T) {
	s := newSlowJWKS(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := s.keys(c)
	sig := signedRS256(t)
	s.held.Store(true)

	impatient, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := r.verify(impatient, sig)
		gaveUp <- err
	}()
	<-s.entered
	results := make(chan error, 4)
	for range cap(results) {
		go func() {
			_, err := r.verify(context.Background(), sig)
			results <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the fetch
	cancel()
	s.letGo()
	for range cap(results) {
		if err := <-results; err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	<-gaveUp
	if n := s.fetches.Load(); n != 1 {
		t.Errorf("%d fetches; want 1", n)
	}
}
