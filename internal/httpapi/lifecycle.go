package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
)

// serveLifecycle answers the bare endpoints that take no token: those
// that work while sealed, and generate-root, which the key shares
// authorise. It reports whether path was one of them.
func (h *Handler) serveLifecycle(w http.ResponseWriter, r *http.Request, path string) bool {
	switch path {
	case "sys/init":
		h.serveInit(w, r)
	case "sys/seal-status":
		if !allowMethods(w, r, http.MethodGet) {
			return true
		}
		st, err := h.core.SealStatus(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return true
		}
		writeJSON(w, http.StatusOK, st)
	case "sys/unseal":
		h.serveUnseal(w, r)
	case "sys/health":
		h.serveHealth(w, r)
	case "sys/generate-root/attempt":
		h.serveGenerateRootAttempt(w, r)
	case "sys/generate-root/update":
		h.serveGenerateRootUpdate(w, r)
	case "sys/leader":
		if !allowMethods(w, r, http.MethodGet) {
			return true
		}
		l, err := h.core.Leader(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return true
		}
		writeJSON(w, http.StatusOK, l)
	case "sys/storage/raft/join":
		h.serveRaftJoin(w, r)
	case "sys/storage/raft/bootstrap/challenge", "sys/storage/raft/bootstrap/answer":
		h.serveRaftBootstrap(w, r, path)
	default:
		return false
	}
	return true
}

func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	writeErrors(w, http.StatusMethodNotAllowed, "unsupported method "+r.Method)
	return false
}

func (h *Handler) serveInit(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		ok, err := h.core.Initialized(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return
		}
		writeJSON(w, http.StatusOK, api.InitStatus{Initialized: ok})
	case http.MethodPut, http.MethodPost:
		in, ok := decodeBare[api.InitRequest](h, w, r)
		if !ok {
			return
		}
		resp, err := h.core.Init(r.Context(), in)
		if err != nil {
			h.writeError(w, "", err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	default:
		allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodPost)
	}
}

func (h *Handler) serveUnseal(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	in, ok := decodeBare[api.UnsealRequest](h, w, r)
	if !ok {
		return
	}
	var st *api.SealStatus
	var err error
	switch {
	case in.Reset:
		st, err = h.core.ResetUnseal(r.Context())
	case in.Key == "":
		err = engine.BadRequest("'key' must be specified in request body as JSON, or 'reset' set to true")
	case in.Migrate:
		st, err = h.core.MigrateUnseal(r.Context(), in.Key)
	default:
		st, err = h.core.Unseal(r.Context(), in.Key)
	}
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// healthCodes are the query parameters that choose sys/health's status.
var healthCodes = []string{
	"activecode", "standbycode", "drsecondarycode", "performancestandbycode",
	"sealedcode", "uninitcode", "haunhealthycode", "removedcode",
}

func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	q := r.URL.Query()
	codes := map[string]int{
		"activecode": http.StatusOK, "sealedcode": http.StatusServiceUnavailable,
		"uninitcode": http.StatusNotImplemented, "standbycode": http.StatusTooManyRequests,
	}
	for _, name := range healthCodes {
		v := q.Get(name)
		if v == "" {
			continue
		}
		code, err := strconv.Atoi(v)
		if err != nil || code < 100 || code > 599 {
			writeErrors(w, http.StatusBadRequest, "invalid "+name+": must be an HTTP status code")
			return
		}
		codes[name] = code
	}
	for _, name := range []string{"standbyok", "perfstandbyok"} {
		if v := q.Get(name); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				writeErrors(w, http.StatusBadRequest, "invalid "+name+": must be a boolean")
				return
			}
		}
	}

	st, err := h.core.SealStatus(r.Context())
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	body := api.Health{
		Initialized:                st.Initialized,
		Sealed:                     st.Sealed,
		ReplicationPerformanceMode: "disabled",
		ReplicationDRMode:          "disabled",
		ServerTimeUTC:              time.Now().Unix(),
		Version:                    api.Version,
		ClusterName:                st.ClusterName,
		ClusterID:                  st.ClusterID,
	}
	body.Standby = h.core.Standby()
	status := codes["activecode"]
	switch {
	case !st.Initialized:
		status = codes["uninitcode"]
	case st.Sealed:
		status = codes["sealedcode"]
	case body.Standby && !truthy(q.Get("standbyok")):
		status = codes["standbycode"]
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// truthy reads an optional boolean query flag (already validated).
func truthy(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}

// decodeBare reads and decodes the JSON body of a bare endpoint into a T,
// answering the error itself; ok is false when it did.
func decodeBare[T any](h *Handler, w http.ResponseWriter, r *http.Request) (in T, ok bool) {
	data, err := h.readBody(r)
	if err == nil {
		in, _, err = engine.Decode[T](data)
	}
	if err != nil {
		h.writeError(w, "", err)
		return in, false
	}
	return in, true
}
