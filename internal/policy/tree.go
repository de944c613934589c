package policy

import (
	"fmt"

	"github.com/hashicorp/hcl/hcl/ast"
)

// The HCL v1 AST is awkward to validate directly: a block may be spread over
// several keys (`path "a" { … }` is one item with keys [path, "a"]), and the
// JSON parser flattens objects of objects the same way. tree.go converts it
// into a plain tree of objects, lists and literals in which every object key
// is one field, so the decoder in block.go sees one shape for HCL and JSON.

type kind uint8

const (
	kindObject kind = iota
	kindList
	kindLiteral
)

// node is one value in the converted tree.
type node struct {
	kind   kind
	line   int     // 0 when unknown (the JSON parser keeps no positions)
	fields []field // kindObject, in source order; keys may repeat
	elems  []*node // kindList
	lit    any     // kindLiteral: string, int64, float64 or bool
}

// field is one key of an object.
type field struct {
	key  string
	line int
	val  *node
}

// convert turns an HCL AST node into a tree node. Literal tokens are decoded
// with the hcl library's Token.Value, which panics on malformed tokens; the
// caller recovers.
func convert(n ast.Node) (*node, error) {
	switch v := n.(type) {
	case *ast.ObjectList:
		return convertItems(v.Items, 0)
	case *ast.ObjectType:
		line := v.Lbrace.Line
		if v.List == nil {
			return &node{kind: kindObject, line: line}, nil
		}
		return convertItems(v.List.Items, line)
	case *ast.ListType:
		out := &node{kind: kindList, line: v.Lbrack.Line}
		for _, e := range v.List {
			c, err := convert(e)
			if err != nil {
				return nil, err
			}
			out.elems = append(out.elems, c)
		}
		return out, nil
	case *ast.LiteralType:
		return &node{kind: kindLiteral, line: v.Token.Pos.Line, lit: v.Token.Value()}, nil
	case nil:
		return nil, fmt.Errorf("missing value")
	}
	return nil, fmt.Errorf("unsupported syntax %T", n)
}

func convertItems(items []*ast.ObjectItem, line int) (*node, error) {
	out := &node{kind: kindObject, line: line}
	for _, it := range items {
		if len(it.Keys) == 0 {
			return nil, fmt.Errorf("line %d: value without a key", line)
		}
		val, err := convert(it.Val)
		if err != nil {
			return nil, err
		}
		// Keys [k1, k2, …, kn] = V is k1 { k2 { … kn = V } }.
		for i := len(it.Keys) - 1; i >= 1; i-- {
			k := it.Keys[i]
			val = &node{kind: kindObject, line: k.Token.Pos.Line, fields: []field{{
				key: keyString(k), line: k.Token.Pos.Line, val: val,
			}}}
		}
		k := it.Keys[0]
		out.fields = append(out.fields, field{key: keyString(k), line: k.Token.Pos.Line, val: val})
	}
	return out, nil
}

func keyString(k *ast.ObjectKey) string {
	if s, ok := k.Token.Value().(string); ok {
		return s
	}
	return k.Token.Text
}

// describe names a node's kind for error messages.
func (n *node) describe() string {
	switch n.kind {
	case kindObject:
		return "a block"
	case kindList:
		return "a list"
	}
	switch n.lit.(type) {
	case string:
		return "a string"
	case bool:
		return "a bool"
	}
	return "a number"
}
