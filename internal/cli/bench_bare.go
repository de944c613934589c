package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// bareBodySize is the size of the bare server's answer: about what Ward
// sends for a small KV v2 read.
const bareBodySize = 300

// bareBody is the bare server's fixed answer: a KV v2 read envelope
// padded to bareBodySize bytes.
var bareBody = func() []byte {
	const head = `{"request_id":"00000000-0000-0000-0000-000000000000","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"value":"`
	const tail = `"},"metadata":{"destroyed":false,"version":1}},"wrap_info":null,"warnings":null,"auth":null}`
	return []byte(head + strings.Repeat("x", bareBodySize-len(head)-len(tail)) + tail)
}()

// bareChildArg, as the only argument of `ward bench`, turns the process
// into the bare server (see serveBare). ward bench starts its own binary
// that way; neither `ward -h` nor `ward bench -h` lists it. It is an
// argument checked before flag parsing rather than a command or an
// environment variable so that it stays inside this command's files
// (the command table has no notion of a hidden command), shows in ps as
// what it is, and cannot be inherited by accident.
const bareChildArg = "-internal-bare-server"

// serveBare is the bare server's child process: a plain Go net/http
// server on a free loopback port answering every request with bareBody,
// the yardstick for what a Go HTTP server in its own process can do on
// this machine under the same load. It writes its base URL
// ("http://127.0.0.1:port") as one line to stdout, then serves until
// stdin reaches its end (or fails), and returns the exit code. The parent
// holds the only write end of stdin, so the server stops when the parent
// closes it or dies, however it dies.
func serveBare(stdin io.Reader, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "bare server: listen: %v\n", err)
		return exitError
	}
	contentType := []string{"application/json"}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = contentType
			_, _ = w.Write(bareBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "http://%s\n", ln.Addr()); err != nil {
		_ = srv.Close()
		fmt.Fprintf(stderr, "bare server: report address: %v\n", err)
		return exitError
	}
	stdinDone := make(chan struct{})
	go func() {
		// Nothing is ever written: only the end of stdin matters.
		_, _ = io.Copy(io.Discard, stdin)
		close(stdinDone)
	}()
	select {
	case <-stdinDone:
	case err := <-served:
		fmt.Fprintf(stderr, "bare server: serve: %v\n", err)
		return exitError
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	return exitOK
}
