package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Decode turns request data into a T, a struct whose fields carry `json`
// tags. It accepts the weak typing Vault's clients rely on:
//
//   - bool from true/false, "true"/"false"/"1"/"0"/"t"/"f", or 0/1
//   - integers from JSON numbers or numeric strings
//   - time.Duration from integer seconds, "3600", or "1h30m"/"90s"
//   - []string from a JSON array or a comma-separated string
//   - map[string]string from an object (non-string values are stringified)
//     or a JSON object in a string
//   - strings from strings, numbers and bools
//
// A pointer field is left nil when its key is absent, so handlers can tell
// "not sent" from a zero value. Keys with no field are ignored and reported
// in the returned warnings, as Vault does; a value of the wrong type is an
// *InputError naming the field.
func Decode[T any](data map[string]any) (T, []string, error) {
	var out T
	v := reflect.ValueOf(&out).Elem()
	if v.Kind() != reflect.Struct {
		panic("engine.Decode: T must be a struct")
	}
	unknown, err := decodeStruct(v, data, "")
	if err != nil {
		var zero T
		return zero, nil, err
	}
	var warnings []string
	if len(unknown) > 0 {
		sort.Strings(unknown)
		warnings = []string{fmt.Sprintf("Endpoint ignored these unrecognized parameters: [%s]", strings.Join(unknown, " "))}
	}
	return out, warnings, nil
}

func decodeStruct(v reflect.Value, data map[string]any, prefix string) ([]string, error) {
	known := map[string]bool{}
	if err := decodeFields(v, data, prefix, known); err != nil {
		return nil, err
	}
	var unknown []string
	for k := range data {
		if !known[k] {
			unknown = append(unknown, prefix+k)
		}
	}
	return unknown, nil
}

// decodeFields fills v's fields from data and records the keys it used.
// An embedded struct without a json name contributes its fields as if
// they were v's own, as encoding/json does.
func decodeFields(v reflect.Value, data map[string]any, prefix string, known map[string]bool) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := decodeFields(v.Field(i), data, prefix, known); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		known[name] = true
		raw, ok := data[name]
		if !ok || raw == nil {
			continue
		}
		if err := decodeValue(v.Field(i), raw, prefix+name); err != nil {
			return err
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func decodeValue(dst reflect.Value, raw any, field string) error {
	if dst.Kind() == reflect.Pointer {
		elem := reflect.New(dst.Type().Elem())
		if err := decodeValue(elem.Elem(), raw, field); err != nil {
			return err
		}
		dst.Set(elem)
		return nil
	}
	if dst.Type() == durationType {
		d, err := ParseDuration(raw)
		if err != nil {
			return &InputError{Field: field, Rule: err.Error()}
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := scalarString(raw)
		if !ok {
			return &InputError{Field: field, Rule: "expected a string"}
		}
		dst.SetString(s)
	case reflect.Bool:
		b, err := parseBool(raw)
		if err != nil {
			return &InputError{Field: field, Rule: err.Error()}
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := parseInt(raw)
		if err != nil {
			return &InputError{Field: field, Rule: err.Error()}
		}
		if dst.OverflowInt(n) {
			return &InputError{Field: field, Rule: "number out of range"}
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := parseInt(raw)
		if err != nil {
			return &InputError{Field: field, Rule: err.Error()}
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return &InputError{Field: field, Rule: "number out of range"}
		}
		dst.SetUint(uint64(n))
	case reflect.Slice:
		return decodeSlice(dst, raw, field)
	case reflect.Map:
		return decodeMap(dst, raw, field)
	case reflect.Interface:
		dst.Set(reflect.ValueOf(raw))
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return &InputError{Field: field, Rule: "expected an object"}
		}
		if _, err := decodeStruct(dst, m, field+"."); err != nil {
			return err
		}
	default:
		panic("engine.Decode: unsupported field type " + dst.Type().String())
	}
	return nil
}

func decodeSlice(dst reflect.Value, raw any, field string) error {
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	case string:
		for _, part := range strings.Split(x, ",") {
			if part = strings.TrimSpace(part); part != "" {
				items = append(items, part)
			}
		}
	default:
		if dst.Type().Elem().Kind() == reflect.String {
			if s, ok := scalarString(raw); ok {
				items = []any{s}
				break
			}
		}
		if n, err := parseInt(raw); err == nil && dst.Type().Elem().Kind() != reflect.String {
			items = []any{n}
			break
		}
		return &InputError{Field: field, Rule: "expected a list"}
	}
	out := reflect.MakeSlice(dst.Type(), len(items), len(items))
	for i, item := range items {
		if err := decodeValue(out.Index(i), item, fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return err
		}
	}
	dst.Set(out)
	return nil
}

func decodeMap(dst reflect.Value, raw any, field string) error {
	if dst.Type().Key().Kind() != reflect.String {
		panic("engine.Decode: map keys must be strings")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		// Only string maps (metadata) take key=value pairs; other objects
		// must be objects or JSON object strings.
		pairsOK := dst.Type().Elem().Kind() == reflect.String
		var err error
		if m, err = mapFromText(raw, pairsOK); err != nil {
			return &InputError{Field: field, Rule: err.Error()}
		}
	}
	out := reflect.MakeMapWithSize(dst.Type(), len(m))
	for k, v := range m {
		elem := reflect.New(dst.Type().Elem()).Elem()
		if err := decodeValue(elem, v, field+"."+k); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), elem)
	}
	dst.Set(out)
	return nil
}

// mapFromText reads an object sent as text: a JSON object string, or
// "key=value" pairs, one per string (the CLI's metadata=k=v form; a list
// holds several), as Vault's key-value pair fields accept.
func mapFromText(raw any, pairsOK bool) (map[string]any, error) {
	var pairs []string
	switch x := raw.(type) {
	case string:
		t := strings.TrimSpace(x)
		if t == "" {
			return map[string]any{}, nil
		}
		if strings.HasPrefix(t, "{") || !pairsOK {
			var m map[string]any
			if err := json.Unmarshal([]byte(t), &m); err != nil {
				return nil, fmt.Errorf("expected an object, a JSON object string or key=value pairs")
			}
			return m, nil
		}
		pairs = []string{x}
	case []any:
		if !pairsOK {
			return nil, fmt.Errorf("expected an object")
		}
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("expected an object or key=value pairs")
			}
			pairs = append(pairs, s)
		}
	case []string:
		if !pairsOK {
			return nil, fmt.Errorf("expected an object")
		}
		pairs = x
	default:
		return nil, fmt.Errorf("expected an object")
	}
	m := make(map[string]any, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("expected key=value pairs")
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// scalarString renders strings, numbers and bools as strings.
func scalarString(raw any) (string, bool) {
	switch x := raw.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

func parseBool(raw any) (bool, error) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("expected a boolean (true or false)")
		}
		return b, nil
	}
	n, err := parseInt(raw)
	if err != nil || (n != 0 && n != 1) {
		return false, fmt.Errorf("expected a boolean")
	}
	return n == 1, nil
}

func parseInt(raw any) (int64, error) {
	switch x := raw.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("expected an integer")
		}
		return int64(x), nil
	case json.Number:
		return parseIntString(x.String())
	case string:
		return parseIntString(strings.TrimSpace(x))
	}
	return 0, fmt.Errorf("expected an integer")
}

func parseIntString(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	f, ferr := strconv.ParseFloat(s, 64)
	if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("expected an integer")
	}
	return int64(f), nil
}

// ParseDuration reads a duration the way Vault does: integer seconds (as a
// number or a string) or a Go duration string ("1h30m", "90s"). Negative
// durations are refused.
func ParseDuration(raw any) (time.Duration, error) {
	var d time.Duration
	switch x := raw.(type) {
	case time.Duration:
		d = x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
				return 0, fmt.Errorf("duration too large")
			}
			d = time.Duration(n) * time.Second
			break
		}
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("expected a duration such as \"90s\", \"1h30m\" or seconds")
		}
	default:
		n, err := parseInt(raw)
		if err != nil {
			return 0, fmt.Errorf("expected a duration such as \"90s\", \"1h30m\" or seconds")
		}
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration too large")
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative")
	}
	return d, nil
}

// StringSlice is a helper for handlers that echo lists: it returns a
// non-nil, sorted, de-duplicated copy.
func StringSlice(in []string) []string {
	out := slices.Clone(in)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
