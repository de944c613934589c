package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/wardsec/ward/api"
)

// The response envelope is written by hand: encoding/json spends most of
// its time on a KV read reflecting over map[string]any and re-validating
// the stored JSON. appendSecret produces byte for byte what json.Marshal
// produces for the same *api.Secret (FuzzAppendSecret holds it to that),
// with one documented exception: a json.RawMessage value is written as
// it is, so it must be compact JSON as json.Marshal writes it. Ward's
// engines only put such messages in a response (KV v2 returns the stored
// secret that way, which json.Marshal produced).

// bodyPool recycles response buffers; one answer's buffer is reused for
// the next once written.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBody bounds the buffers kept: a rare large answer is not held.
const maxPooledBody = 64 << 10

// appendSecret appends s encoded as JSON.
func appendSecret(b []byte, s *api.Secret) ([]byte, error) {
	var err error
	b = append(b, `{"request_id":`...)
	b = appendString(b, s.RequestID)
	b = append(b, `,"lease_id":`...)
	b = appendString(b, s.LeaseID)
	b = append(b, `,"renewable":`...)
	b = strconv.AppendBool(b, s.Renewable)
	b = append(b, `,"lease_duration":`...)
	b = strconv.AppendInt(b, s.LeaseDuration, 10)
	b = append(b, `,"data":`...)
	if b, err = appendObject(b, s.Data); err != nil {
		return nil, err
	}
	b = append(b, `,"wrap_info":`...)
	if s.WrapInfo == nil {
		b = append(b, "null"...)
	} else if b, err = appendMarshal(b, s.WrapInfo); err != nil {
		return nil, err
	}
	b = append(b, `,"warnings":`...)
	b = appendStrings(b, s.Warnings)
	b = append(b, `,"auth":`...)
	if s.Auth == nil {
		b = append(b, "null"...)
	} else if b, err = appendMarshal(b, s.Auth); err != nil {
		return nil, err
	}
	if s.MountType != "" {
		b = append(b, `,"mount_type":`...)
		b = appendString(b, s.MountType)
	}
	return append(b, '}'), nil
}

// appendValue appends v as JSON: the types engines answer with are
// written directly, anything else through json.Marshal.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case json.RawMessage:
		if v == nil {
			return append(b, "null"...), nil
		}
		return append(b, v...), nil
	case map[string]any:
		return appendObject(b, v)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		return appendStrings(b, v), nil
	case map[string]string:
		return appendMap(b, v, func(b []byte, s string) ([]byte, error) { return appendString(b, s), nil })
	}
	return appendMarshal(b, v)
}

// appendObject appends m with its keys sorted, as json.Marshal does.
func appendObject(b []byte, m map[string]any) ([]byte, error) {
	return appendMap(b, m, appendValue)
}

// appendMap appends m as a JSON object with its keys sorted, each value
// written by appendV; a nil map is null.
func appendMap[V any](b []byte, m map[string]V, appendV func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var small [8]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, small[:0]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendV(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// sortedKeys appends m's keys to keys and sorts them; callers pass a
// small array on their stack, which suffices for most answers.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped the way encoding/json
// escapes it: HTML's <, > and & as \u escapes, invalid UTF-8 as U+FFFD,
// and U+2028 and U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
