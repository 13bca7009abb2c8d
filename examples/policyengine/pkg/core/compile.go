// Package core compiles policy rules into evaluable programs and decides
// requests against a compiled PolicyDomain.
package core

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"example.com/policyengine/pkg/policydomain"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
}

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := rune(src[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")"})
			i++
		case c == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{tString, src[i+1 : i+1+j]})
			i += j + 2
		case unicode.IsDigit(c):
			j := i
			for j < len(src) && (unicode.IsDigit(rune(src[j])) || src[j] == '.') {
				j++
			}
			toks = append(toks, token{tNumber, src[i:j]})
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(src) && (unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j])) || src[j] == '_' || src[j] == '.') {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j]})
			i = j
		default:
			for _, op := range []string{"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!"} {
				if strings.HasPrefix(src[i:], op) {
					toks = append(toks, token{tOp, op})
					i += len(op)
					goto next
				}
			}
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		next:
		}
	}
	return append(toks, token{tEOF, ""}), nil
}

// Value is an attribute value: a string, or a number when Num is set.
type Value struct {
	Str   string
	Num   float64
	IsNum bool
}

// Request holds the attributes a decision is made on, keyed by path
// (for example "subject.role").
type Request map[string]Value

// Program is a compiled rule.
type Program struct {
	Source string
	root   node
}

type node interface{ eval(r Request) bool }

type operand struct {
	attr string
	lit  Value
}

func (o operand) value(r Request) Value {
	if o.attr != "" {
		return r[o.attr]
	}
	return o.lit
}

type cmpNode struct {
	op   string
	l, r operand
}

func (n *cmpNode) eval(r Request) bool {
	a, b := n.l.value(r), n.r.value(r)
	if a.IsNum && b.IsNum {
		switch n.op {
		case "==":
			return a.Num == b.Num
		case "!=":
			return a.Num != b.Num
		case "<":
			return a.Num < b.Num
		case ">":
			return a.Num > b.Num
		case "<=":
			return a.Num <= b.Num
		case ">=":
			return a.Num >= b.Num
		}
	}
	switch n.op {
	case "==":
		return a.Str == b.Str
	case "!=":
		return a.Str != b.Str
	case "<":
		return a.Str < b.Str
	case ">":
		return a.Str > b.Str
	case "<=":
		return a.Str <= b.Str
	default:
		return a.Str >= b.Str
	}
}

type andNode struct{ kids []node }

func (n *andNode) eval(r Request) bool {
	for _, k := range n.kids {
		if !k.eval(r) {
			return false
		}
	}
	return true
}

type orNode struct{ kids []node }

func (n *orNode) eval(r Request) bool {
	for _, k := range n.kids {
		if k.eval(r) {
			return true
		}
	}
	return false
}

type notNode struct{ kid node }

func (n *notNode) eval(r Request) bool { return !n.kid.eval(r) }

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *parser) or() (node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for p.peek().kind == tOp && p.peek().text == "||" {
		p.next()
		k, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &orNode{kids}, nil
}

func (p *parser) and() (node, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for p.peek().kind == tOp && p.peek().text == "&&" {
		p.next()
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &andNode{kids}, nil
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	if t.kind == tOp && t.text == "!" {
		p.next()
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{k}, nil
	}
	if t.kind == tLParen {
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, fmt.Errorf("expected )")
		}
		return n, nil
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.kind != tOp || op.text == "&&" || op.text == "||" || op.text == "!" {
		return nil, fmt.Errorf("expected comparison after %q", t.text)
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	return &cmpNode{op.text, l, r}, nil
}

func (p *parser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		return operand{attr: t.text}, nil
	case tString:
		return operand{lit: Value{Str: t.text}}, nil
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return operand{}, err
		}
		return operand{lit: Value{Str: t.text, Num: f, IsNum: true}}, nil
	}
	return operand{}, fmt.Errorf("expected operand, got %q", t.text)
}

// CompileRule compiles one rule expression.
func CompileRule(src string) (*Program, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, fmt.Errorf("trailing input %q", p.peek().text)
	}
	return &Program{Source: src, root: root}, nil
}

// Compiled is a PolicyDomain whose rules are compiled.
type Compiled struct {
	Domain *policydomain.Domain
	allow  []*Program
	deny   []*Program
}

// Compile compiles every policy of a domain.
func Compile(d *policydomain.Domain) (*Compiled, error) {
	c := &Compiled{Domain: d}
	for _, pol := range d.Policies {
		prog, err := CompileRule(pol.Rule)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", pol.Name, err)
		}
		if pol.Effect == "deny" {
			c.deny = append(c.deny, prog)
		} else {
			c.allow = append(c.allow, prog)
		}
	}
	return c, nil
}
