package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sync"
	"time"
)

// HMACPrefix starts every HMAC'd value in an audit line, as in Vault.
const HMACPrefix = "hmac-sha256:"

// hasher computes one device's HMACs. It is safe for concurrent use: each
// call takes a keyed HMAC state from a pool (Reset restores the keyed
// state without rehashing the key).
type hasher struct {
	pool sync.Pool // of *macState
}

type macState struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

func newHasher(key []byte) *hasher {
	k := bytes.Clone(key)
	return &hasher{pool: sync.Pool{New: func() any { return &macState{mac: hmac.New(sha256.New, k)} }}}
}

// sum returns "hmac-sha256:<hex>" of s, whatever s is (sys/audit-hash).
func (h *hasher) sum(s string) string {
	st := h.pool.Get().(*macState)
	st.mac.Reset()
	st.in = append(st.in[:0], s...)
	st.mac.Write(st.in)
	mac := st.mac.Sum(st.sum[:0])
	var out [len(HMACPrefix) + 2*sha256.Size]byte
	copy(out[:], HMACPrefix)
	hex.Encode(out[len(HMACPrefix):], mac)
	if cap(st.in) <= 64<<10 {
		h.pool.Put(st)
	}
	return string(out[:])
}

// str HMACs a value written to the log; an empty string stays empty.
func (h *hasher) str(s string) string {
	if s == "" {
		return ""
	}
	return h.sum(s)
}

// entry returns a copy of in with every secret HMAC'd. It never modifies
// in or anything it points to: structs that change are copied, maps and
// slices holding strings are rebuilt.
func (h *hasher) entry(in *Entry, o Options) (*Entry, error) {
	out := *in
	out.Auth = h.auth(in.Auth, o)
	if in.Request != nil {
		r := *in.Request
		r.ClientToken = h.str(r.ClientToken)
		if o.HMACAccessor {
			r.ClientTokenAccessor = h.str(r.ClientTokenAccessor)
		}
		var err error
		if r.Data, err = h.data(r.Data); err != nil {
			return nil, fmt.Errorf("hash request data: %w", err)
		}
		out.Request = &r
	}
	if in.Response != nil {
		r := *in.Response
		r.Auth = h.auth(r.Auth, o)
		var err error
		if r.Data, err = h.data(r.Data); err != nil {
			return nil, fmt.Errorf("hash response data: %w", err)
		}
		if r.WrapInfo != nil {
			w := *r.WrapInfo
			w.Token = h.str(w.Token)
			if o.HMACAccessor {
				w.Accessor = h.str(w.Accessor)
				w.WrappedAccessor = h.str(w.WrappedAccessor)
			}
			r.WrapInfo = &w
		}
		out.Response = &r
	}
	return &out, nil
}

func (h *hasher) auth(in *Auth, o Options) *Auth {
	if in == nil {
		return nil
	}
	a := *in
	a.ClientToken = h.str(a.ClientToken)
	if o.HMACAccessor {
		a.Accessor = h.str(a.Accessor)
	}
	return &a
}

func (h *hasher) data(in map[string]any) (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		hv, err := h.value(v)
		if err != nil {
			return nil, err
		}
		out[k] = hv
	}
	return out, nil
}

// value returns v with every string inside it HMAC'd. The common shapes of
// engine data are walked directly; anything else (structs, named types,
// pointers, []byte) goes through its JSON form first, so that no string
// reaches the log in the clear whatever its Go type.
func (h *hasher) value(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, json.Number, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, time.Duration:
		return v, nil
	case string:
		return h.str(x), nil
	case map[string]any:
		return h.data(x)
	case []any:
		if x == nil {
			return x, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			hv, err := h.value(e)
			if err != nil {
				return nil, err
			}
			out[i] = hv
		}
		return out, nil
	case []string:
		if x == nil {
			return x, nil
		}
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = h.str(s)
		}
		return out, nil
	case map[string]string:
		if x == nil {
			return x, nil
		}
		out := make(map[string]string, len(x))
		for k, s := range x {
			out[k] = h.str(s)
		}
		return out, nil
	case []map[string]any:
		if x == nil {
			return x, nil
		}
		out := make([]any, len(x))
		for i, m := range x {
			hm, err := h.data(m)
			if err != nil {
				return nil, err
			}
			out[i] = hm
		}
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return h.value(generic)
}
