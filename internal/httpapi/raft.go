package httpapi

import (
	"net/http"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/internal/engine"
)

// serveRaftJoin answers sys/storage/raft/join on the node that joins. It
// takes no token: the node has no data yet, and the join completes only
// once the node proves it holds the cluster's keys.
func (h *Handler) serveRaftJoin(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost, http.MethodPut) {
		return
	}
	in, ok := decodeBare[api.RaftJoinRequest](h, w, r)
	if !ok {
		return
	}
	if in.LeaderAPIAddr == "" {
		h.writeError(w, "", &engine.InputError{Field: "leader_api_addr", Rule: "required: the API address of a node of the cluster to join"})
		return
	}
	if err := h.core.JoinRaft(r.Context(), in.LeaderAPIAddr); err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, api.RaftJoinResponse{Joined: true})
}

// serveRaftBootstrap answers a joining node on the active node: the
// challenge, then the answer. Both take no token; the answer is the proof.
func (h *Handler) serveRaftBootstrap(w http.ResponseWriter, r *http.Request, path string) {
	if !allowMethods(w, r, http.MethodPost, http.MethodPut) {
		return
	}
	if path == "sys/storage/raft/bootstrap/challenge" {
		in, ok := decodeBare[api.RaftChallengeRequest](h, w, r)
		if !ok {
			return
		}
		ch, err := h.core.RaftChallenge(r.Context(), in.ServerID)
		if err != nil {
			h.writeError(w, "", err)
			return
		}
		writeJSON(w, http.StatusOK, ch)
		return
	}
	in, ok := decodeBare[api.RaftAnswerRequest](h, w, r)
	if !ok {
		return
	}
	if err := h.core.RaftAnswer(r.Context(), in); err != nil {
		h.writeError(w, "", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
