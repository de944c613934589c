package config

import (
	"bytes"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
)

// parseSyntax parses src as HCL, or as JSON when its first non-space
// character is "{" (the rule HCL itself uses), and returns the top-level list
// of items. Syntax errors come back as an *Error with the line.
func parseSyntax(filename string, src []byte) (root *ast.ObjectList, err error) {
	syntaxErr := func(line int, msg string) error {
		return &Error{File: filename, Line: line, Msg: "syntax error: " + msg}
	}
	if startsWithBrace(src) {
		list, err := parseJSON(src)
		var e *Error
		if errors.As(err, &e) {
			return nil, syntaxErr(e.Line, e.Msg)
		}
		return list, err
	}

	// The HCL parsers are third-party code; a panic on odd input is a
	// syntax error, not a crash of the server.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, syntaxErr(0, fmt.Sprint("unparsable input: ", r))
		}
	}()
	// Ward reports repeated keys itself, with both lines, in HCL and JSON.
	file, err := hclparser.ParseDontErrorOnDuplicateKeys(src)
	if err != nil {
		var pe *hclparser.PosError
		if errors.As(err, &pe) {
			return nil, syntaxErr(pe.Pos.Line, pe.Err.Error())
		}
		return nil, syntaxErr(0, err.Error())
	}
	list, ok := file.Node.(*ast.ObjectList)
	if !ok || list == nil {
		return nil, syntaxErr(0, "the file is not a list of settings")
	}
	return list, nil
}

func startsWithBrace(src []byte) bool {
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if !unicode.IsSpace(r) {
			return r == '{'
		}
		src = src[n:]
	}
	return false
}

// lineAt returns the 1-based line of byte offset off in src.
func lineAt(src []byte, off int64) int {
	off = min(max(off, 0), int64(len(src)))
	return bytes.Count(src[:off], []byte("\n")) + 1
}
