package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
)

// jsonContentType is the exact Content-Type hvac requires, shared by
// every answer (net/http only reads it).
var jsonContentType = []string{"application/json"}

// errEncoding is the answer when a response cannot be encoded.
const errEncoding = `{"errors":["internal error: could not encode the response"]}`

// writeJSON writes v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(errEncoding)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeSecret writes the envelope s, encoded into a pooled buffer.
func writeSecret(w http.ResponseWriter, status int, s *api.Secret) {
	bp := bodyPool.Get().(*[]byte)
	body, err := appendSecret((*bp)[:0], s)
	if err != nil {
		status, body = http.StatusInternalServerError, append((*bp)[:0], errEncoding...)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if cap(body) <= maxPooledBody {
		*bp = body
		bodyPool.Put(bp)
	}
}

// writeErrors writes {"errors": [...]}; no messages is an empty list.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, api.ErrorBody{Errors: msgs})
}

func (h *Handler) writeError(w http.ResponseWriter, requestID string, err error) {
	status, msg := statusFor(err)
	if status == http.StatusInternalServerError {
		h.log.Error("httpapi: request failed", "request_id", requestID, "error", err)
		msg = "internal error"
		if requestID != "" {
			msg += "; the server log has the details under request_id " + requestID
		}
	}
	if status == http.StatusNotFound && msg == "" {
		writeErrors(w, status)
		return
	}
	writeErrors(w, status, msg)
}

func (h *Handler) writeResponse(w http.ResponseWriter, req *engine.Request, path string, resp *engine.Response) {
	if resp == nil {
		switch req.Operation {
		case engine.OpRead, engine.OpList, engine.OpHelp:
			writeErrors(w, http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	if resp.Raw != nil {
		if resp.Raw.ContentType != "" {
			w.Header().Set("Content-Type", resp.Raw.ContentType)
		}
		status := resp.Raw.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if status != http.StatusNoContent {
			_, _ = w.Write(resp.Raw.Body)
		}
		return
	}
	if req.Operation == engine.OpList && resp.WrapInfo == nil && emptyList(resp) {
		writeErrors(w, http.StatusNotFound)
		return
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	secret := resp.Secret(req.ID)
	if resp.WrapInfo != nil {
		// A wrapped answer carries nothing but the wrapping token.
		secret = &api.Secret{RequestID: req.ID, WrapInfo: resp.WrapInfo}
	}
	if injectsToTop(path) && secret.Data != nil {
		writeJSON(w, status, injected(secret))
		return
	}
	writeSecret(w, status, secret)
}

// emptyList reports a list answer with no keys and nothing else to say,
// which Vault answers with 404.
func emptyList(resp *engine.Response) bool {
	if len(resp.Warnings) > 0 {
		return false
	}
	if len(resp.Data) == 0 {
		return true
	}
	if len(resp.Data) > 1 {
		return false
	}
	switch keys := resp.Data["keys"].(type) {
	case []string:
		return len(keys) == 0
	case []any:
		return len(keys) == 0
	case nil:
		_, has := resp.Data["keys"]
		return has
	}
	return false
}

// Legacy sys routes whose data keys are also copied to the top level of
// the answer, because older clients read them there.
var injectExact = map[string]bool{
	"sys/audit": true, "sys/auth": true, "sys/config/cors": true, "sys/capabilities": true,
	"sys/capabilities-accessor": true, "sys/capabilities-self": true, "sys/ha-status": true,
	"sys/key-status": true, "sys/mounts": true, "sys/policy": true, "sys/rekey/backup": true,
	"sys/rekey/recovery-key-backup": true, "sys/remount": true, "sys/rotate": true,
	"sys/wrapping/wrap": true, "sys/config/auditing/request-headers": true,
}

var injectPrefixes = []string{
	"sys/audit/", "sys/audit-hash/", "sys/auth/", "sys/mounts/", "sys/policy/",
	"sys/config/auditing/request-headers/",
}

func injectsToTop(path string) bool {
	p := strings.TrimSuffix(path, "/")
	if injectExact[p] {
		return true
	}
	for _, prefix := range injectPrefixes {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// injected returns the envelope as a map with data's keys also at the top.
func injected(s *api.Secret) map[string]any {
	out := make(map[string]any, len(s.Data)+9)
	for k, v := range s.Data {
		out[k] = v
	}
	out["request_id"] = s.RequestID
	out["lease_id"] = s.LeaseID
	out["renewable"] = s.Renewable
	out["lease_duration"] = s.LeaseDuration
	out["data"] = s.Data
	out["wrap_info"] = s.WrapInfo
	out["warnings"] = s.Warnings
	out["auth"] = s.Auth
	if s.MountType != "" {
		out["mount_type"] = s.MountType
	}
	return out
}
