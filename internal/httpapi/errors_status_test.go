package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/engine"
	"github.com/wardsec/ward/internal/storage"
)

// A lost raft leadership and a missing active node are 503s a client may
// retry, never 500s; their messages say so and nothing more.
func TestStatusForHAErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{fmt.Errorf("kv: read: raft: get %q: %w", "logical/x", storage.ErrNotLeader), http.StatusServiceUnavailable, "lost the cluster leadership"},
		{engine.Errorf(engine.ErrUnavailable, "no active node in the cluster yet; retry shortly"), http.StatusServiceUnavailable, "no active node"},
		{errors.New("disk on fire"), http.StatusInternalServerError, ""},
	} {
		code, msg := statusFor(tc.err)
		if code != tc.code || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "logical/x") {
			t.Errorf("statusFor(%v) = %d %q, want %d containing %q", tc.err, code, msg, tc.code, tc.msg)
		}
	}
}
