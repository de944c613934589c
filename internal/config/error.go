package config

import (
	"errors"
	"fmt"
)

// Error is one problem in a configuration, positioned where it was found.
type Error struct {
	File string // Config.Source or the name given to Parse; may be empty
	Line int    // 1-based line in File; 0 when unknown
	Msg  string // names the field and the rule, e.g. `listener "tcp": unknown field "adress"`
}

// Error formats e as "file:line: msg", dropping the parts that are unknown.
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("config:%d: %s", e.Line, e.Msg)
	default:
		return "config: " + e.Msg
	}
}

// errorList collects positioned errors for one file.
type errorList struct {
	file string
	errs []error
}

func (l *errorList) errorf(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil, the single error, or all of them joined.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	default:
		return errors.Join(l.errs...)
	}
}
