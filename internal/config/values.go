package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// Value errors never name the field; the decoder adds it and the line.
var (
	errNotString   = errors.New("must be a string")
	errNotBool     = errors.New("must be true or false")
	errNotInt      = errors.New("must be an integer")
	errNotDuration = errors.New(`must be a duration such as "90s" or "1h30m", or a number of seconds`)
	errNegative    = errors.New("must not be negative")
	errTooLarge    = errors.New("is too large")
)

// literal returns the Go value of a literal node (string, bool, int64 or
// float64), or false if n is not a literal. token.Value panics on some
// malformed literals (an integer that overflows, say); that is "no value".
func literal(n ast.Node) (v any, ok bool) {
	lit, isLit := n.(*ast.LiteralType)
	if !isLit {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return lit.Token.Value(), true
}

// keyText returns the text of an object key: an identifier or a quoted string.
func keyText(k *ast.ObjectKey) (s string, ok bool) {
	if k == nil {
		return "", false
	}
	if k.Token.Type == token.IDENT {
		return k.Token.Text, true
	}
	v, ok := literal(&ast.LiteralType{Token: k.Token})
	s, isString := v.(string)
	return s, ok && isString
}

func stringValue(n ast.Node) (string, error) {
	v, _ := literal(n)
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", errNotString
}

// boolValue accepts true/false, the strings strconv.ParseBool accepts
// ("true", "1", "false", "0", ...) and the numbers 0 and 1, as Vault does.
func boolValue(n ast.Node) (bool, error) {
	v, _ := literal(n)
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b, nil
		}
	case int64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	}
	return false, errNotBool
}

// intValue accepts an integer, a float with no fractional part (JSON
// encoders write those) or a decimal string.
func intValue(n ast.Node) (int64, error) {
	v, _ := literal(n)
	switch v := v.(type) {
	case int64:
		return v, nil
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt64 && v < math.MaxInt64 {
			return int64(v), nil
		}
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, errNotInt
}

// durationValue accepts a number of seconds or a string parseDuration
// accepts. Negative durations are errors.
func durationValue(n ast.Node) (time.Duration, error) {
	v, _ := literal(n)
	var d time.Duration
	var err error
	switch v := v.(type) {
	case int64:
		d, err = scale(v, time.Second)
	case string:
		d, err = parseDuration(v)
	default:
		err = errNotDuration
	}
	if err == nil && d < 0 {
		err = errNegative
	}
	return d, err
}

// parseDuration parses "90s", "1h30m" (time.ParseDuration), a plain number
// of seconds ("3600") or whole days ("7d"), the forms Vault accepts.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return scale(n, time.Second)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseInt(days, 10, 64); err == nil {
			return scale(n, 24*time.Hour)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errNotDuration
	}
	return d, nil
}

// scale returns n units, or errTooLarge if that does not fit a Duration.
func scale(n int64, unit time.Duration) (time.Duration, error) {
	if n > int64(math.MaxInt64/unit) || n < int64(math.MinInt64/unit) {
		return 0, errTooLarge
	}
	return time.Duration(n) * unit, nil
}
