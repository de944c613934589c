package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// jsonParser turns a JSON document into the HCL syntax tree the decoder
// reads. HCL's own JSON parser drops every position and reshapes nested
// objects; this one keeps each key's line and the document's shape:
// objects become ObjectTypes, arrays ListTypes, and null an empty string,
// as HCL does.
type jsonParser struct {
	src  []byte
	dec  *json.Decoder
	off  int64 // offset line was computed at
	line int
}

// parseJSON parses src, which starts with "{", into the top-level item list.
// Syntax errors are *Error values without the file name, which the caller
// adds.
func parseJSON(src []byte) (*ast.ObjectList, error) {
	p := &jsonParser{src: src, dec: json.NewDecoder(bytes.NewReader(src)), line: 1}
	p.dec.UseNumber()
	if _, err := p.dec.Token(); err != nil { // the opening "{"
		return nil, p.syntaxErr(err)
	}
	list, err := p.object()
	if err != nil {
		return nil, p.syntaxErr(err)
	}
	if _, err := p.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the top-level object")
		}
		return nil, p.syntaxErr(err)
	}
	return list, nil
}

func (p *jsonParser) syntaxErr(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &Error{Line: lineAt(p.src, se.Offset), Msg: se.Error()}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Line: lineAt(p.src, int64(len(p.src))), Msg: "unexpected end of JSON input"}
	}
	return &Error{Line: p.pos().Line, Msg: err.Error()}
}

// pos returns the position just after the most recently read token.
// Offsets only grow, so the line is counted incrementally.
func (p *jsonParser) pos() token.Pos {
	off := min(p.dec.InputOffset(), int64(len(p.src)))
	if off > p.off {
		p.line += bytes.Count(p.src[p.off:off], []byte("\n"))
		p.off = off
	}
	return token.Pos{Offset: int(off), Line: p.line}
}

// object reads members up to and including the closing "}".
func (p *jsonParser) object() (*ast.ObjectList, error) {
	list := &ast.ObjectList{}
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim('}') {
			return list, nil
		}
		key, ok := tok.(string)
		if !ok { // the decoder guarantees a string here; stay safe anyway
			return nil, errors.New("object key must be a string")
		}
		keyTok := token.Token{Type: token.STRING, Text: strconv.Quote(key), JSON: true, Pos: p.pos()}
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		list.Add(&ast.ObjectItem{Keys: []*ast.ObjectKey{{Token: keyTok}}, Val: val})
	}
}

// value reads one value of any kind.
func (p *jsonParser) value() (ast.Node, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	pos := p.pos()
	lit := func(typ token.Type, text string) ast.Node {
		return &ast.LiteralType{Token: token.Token{Type: typ, Text: text, JSON: typ == token.STRING, Pos: pos}}
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			list, err := p.object()
			if err != nil {
				return nil, err
			}
			return &ast.ObjectType{Lbrace: pos, List: list}, nil
		case '[':
			return p.array(pos)
		}
	case string:
		return lit(token.STRING, strconv.Quote(t)), nil
	case json.Number:
		if _, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return lit(token.NUMBER, string(t)), nil
		}
		return lit(token.FLOAT, string(t)), nil
	case bool:
		return lit(token.BOOL, strconv.FormatBool(t)), nil
	case nil:
		return lit(token.STRING, `""`), nil
	}
	return nil, errors.New("unexpected token")
}

// array reads elements up to and including the closing "]".
func (p *jsonParser) array(lbrack token.Pos) (*ast.ListType, error) {
	l := &ast.ListType{Lbrack: lbrack}
	for p.dec.More() {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		l.Add(v)
	}
	if _, err := p.dec.Token(); err != nil { // the closing "]"
		return nil, err
	}
	return l, nil
}
