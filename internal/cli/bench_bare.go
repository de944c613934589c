package cli

import (
	"context"
	"fmt"
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

// bareServer is a plain Go net/http server on loopback answering every
// request with bareBody: the yardstick for what a Go HTTP server can do
// on this machine under the same load.
type bareServer struct {
	srv  *http.Server
	addr string // "http://127.0.0.1:port"
	done chan struct{}
}

// startBareServer starts a bare server on a free loopback port.
func startBareServer() (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start bare server: %w", err)
	}
	contentType := []string{"application/json"}
	b := &bareServer{
		srv: &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = contentType
				_, _ = w.Write(bareBody)
			}),
			ReadHeaderTimeout: 10 * time.Second,
		},
		addr: "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(b.done)
		// Serve fails only when closed; a broken listener shows up as
		// errors in the load.
		_ = b.srv.Serve(ln)
	}()
	return b, nil
}

// close stops the server and waits for it.
func (b *bareServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
	<-b.done
}
