package api

import "encoding/json"

// RaftJoinRequest is the body of POST /v1/sys/storage/raft/join, sent to
// the node that should join an existing cluster.
type RaftJoinRequest struct {
	LeaderAPIAddr string `json:"leader_api_addr"`
	// Retry keeps trying in the background until the join succeeds.
	Retry bool `json:"retry,omitempty"`
}

// RaftJoinResponse is its answer.
type RaftJoinResponse struct {
	Joined bool `json:"joined"`
}

// RaftChallengeRequest is what a joining node sends to the active node
// (POST sys/storage/raft/bootstrap/challenge).
type RaftChallengeRequest struct {
	ServerID string `json:"server_id"`
}

// RaftChallenge is the active node's answer: what the joiner needs to
// prove it holds the cluster's keys. Every field is either public or
// encrypted: the seal config, the wrapped root key and the encrypted
// keyring as they rest in storage, and a random answer encrypted by the
// barrier. Only a node that can open the root key (with the unseal shares
// or the auto-unseal seal) can read the answer.
type RaftChallenge struct {
	SealConfig json.RawMessage `json:"seal_config"`
	RootKey    json.RawMessage `json:"root_key"`
	Keyring    []byte          `json:"keyring"`
	Challenge  []byte          `json:"challenge"`
}

// RaftAnswerRequest completes a join (POST
// sys/storage/raft/bootstrap/answer): the decrypted answer and the
// joiner's raft address.
type RaftAnswerRequest struct {
	ServerID    string `json:"server_id"`
	Answer      string `json:"answer"` // base64
	ClusterAddr string `json:"cluster_addr"`
}

// RaftConfiguration is the data of GET sys/storage/raft/configuration.
type RaftConfiguration struct {
	Config struct {
		Index   uint64       `json:"index"`
		Servers []RaftServer `json:"servers"`
	} `json:"config"`
}

// RaftServer is one member in RaftConfiguration.
type RaftServer struct {
	NodeID          string `json:"node_id"`
	Address         string `json:"address"`
	Leader          bool   `json:"leader"`
	Voter           bool   `json:"voter"`
	ProtocolVersion string `json:"protocol_version"`
}
