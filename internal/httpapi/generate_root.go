package httpapi

import (
	"net/http"

	"github.com/wardsec/ward/api"
)

// The generate-root endpoints are bare like sys/seal-status and take no
// token: the key shares authorise them, as in Vault. They need an
// unsealed server.

// serveGenerateRootAttempt answers sys/generate-root/attempt: GET reads
// the attempt, PUT and POST start one, DELETE cancels it (204).
func (h *Handler) serveGenerateRootAttempt(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		st, err := h.core.GenerateRootStatus(r.Context())
		h.writeGenerateRoot(w, st, err)
	case http.MethodPut, http.MethodPost:
		in, ok := decodeBare[api.GenerateRootInitRequest](h, w, r)
		if !ok {
			return
		}
		st, err := h.core.GenerateRootInit(r.Context(), in)
		h.writeGenerateRoot(w, st, err)
	case http.MethodDelete:
		if err := h.core.GenerateRootCancel(r.Context()); err != nil {
			h.writeError(w, "", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	}
}

// serveGenerateRootUpdate answers PUT|POST sys/generate-root/update
// {key, nonce}: one key share towards the attempt.
func (h *Handler) serveGenerateRootUpdate(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	in, ok := decodeBare[api.GenerateRootUpdateRequest](h, w, r)
	if !ok {
		return
	}
	if in.Key == "" {
		writeErrors(w, http.StatusBadRequest, "'key' must be specified in request body as JSON")
		return
	}
	st, err := h.core.GenerateRootUpdate(r.Context(), in.Key, in.Nonce)
	h.writeGenerateRoot(w, st, err)
}

func (h *Handler) writeGenerateRoot(w http.ResponseWriter, st *api.GenerateRootStatus, err error) {
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
