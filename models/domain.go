package models

import (
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// Domains are compiled in the steps of Odoo 16's expression.py, so that the
// same domain selects the same rows here as there:
//
//  1. normalize: prefix operators are counted and implicit '&' prepended;
//  2. each leaf is checked (operator spelled exactly, path a string);
//  3. distribute_not pushes '!' down onto the leaves by inverting their
//     operator, which is not the same as SQL NOT: ['!', (f, '=', 5)] becomes
//     (f, '!=', 5), which matches NULL rows;
//  4. normalize_leaf applies Odoo's leniencies ('=' with a list is 'in'...);
//  5. the prefix list becomes a tree, and the tree becomes SQL. Only declared
//     identifiers reach the SQL text (through quote); every value is an arg.

// Limits that keep a hostile domain from exhausting the server or the
// database's parser (SQLite refuses expressions deeper than 1000).
const (
	maxDomainItems = 10000 // items of one domain list
	maxPathHops    = 8     // relational hops, related fields and sub-searches in one leaf
	maxTreeDepth   = 100   // nesting of '&'/'|' after flattening
	maxDomainArgs  = 30000 // bound parameters (SQLite allows 32766)
	maxInlineIDs   = 1000  // longer integer lists are written as literals
)

// The operators of a leaf, as Odoo 16's TERM_OPERATORS, plus '<>'.
var termOperators = map[string]bool{
	"=": true, "!=": true, "<=": true, "<": true, ">": true, ">=": true, "=?": true,
	"=like": true, "=ilike": true, "like": true, "not like": true, "ilike": true,
	"not ilike": true, "in": true, "not in": true, "child_of": true, "parent_of": true,
	"<>": true,
}

// termNegation is Odoo's TERM_OPERATORS_NEGATION: the operators a '!' can
// be pushed into. The others keep an explicit NOT.
var termNegation = map[string]string{
	"<": ">=", ">": "<=", "<=": ">", ">=": "<",
	"=": "!=", "!=": "=",
	"in": "not in", "not in": "in",
	"like": "not like", "not like": "like",
	"ilike": "not ilike", "not ilike": "ilike",
}

// isNegative reports whether op is one of Odoo's NEGATIVE_TERM_OPERATORS.
func isNegative(op string) bool {
	return op == "!=" || op == "not like" || op == "not ilike" || op == "not in"
}

// leaf is one checked domain term. A constant leaf is TRUE_LEAF (1, '=', 1)
// or FALSE_LEAF (0, '=', 1).
type leaf struct {
	path      string
	op        string
	val       any
	raw       any // as the client sent it, for messages
	isConst   bool
	constTrue bool
}

// token is an operator ('&', '|', '!') or a leaf.
type token struct {
	op byte
	lf *leaf
}

// node is the boolean tree a domain compiles from.
type node struct {
	op   byte // '&', '|', '!', or 0 for a leaf
	kids []*node
	lf   *leaf
}

// compileDomain turns an Odoo domain (decoded RPC value) into a
// parameterised SQL boolean expression over table alias, with ?
// placeholders and the args in order. An empty domain yields "1=1". alias
// "" means the model's table name.
func compileDomain(env *Env, m *Model, alias string, domain any) (string, []any, error) {
	c := &compiler{env: env, d: env.Dialect()}
	if alias == "" {
		alias = m.Table
	}
	return c.domain(m, alias, domain, 0)
}

// domainMentions reports whether any leaf's path is field or starts with
// "field." (used for the implicit active filter). Malformed items are
// skipped: the compiler reports them.
func domainMentions(domain any, field string) bool {
	items, _ := domain.([]any)
	for _, it := range items {
		lf, ok := it.([]any)
		if !ok || len(lf) == 0 {
			continue
		}
		p, ok := lf[0].(string)
		if ok && (p == field || strings.HasPrefix(p, field+".")) {
			return true
		}
	}
	return false
}

// domain compiles a whole domain on m; hops counts the relational hops
// already taken by the leaf this domain is a sub-search of.
func (c *compiler) domain(m *Model, alias string, domain any, hops int) (string, []any, error) {
	toks, err := parseDomain(domain)
	if err != nil {
		return "", nil, err
	}
	if len(toks) == 0 {
		return "1=1", nil, nil
	}
	tree, err := buildTree(toks, domain)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	var args []any
	if err := c.render(&b, &args, tree, m, alias, hops, 0); err != nil {
		return "", nil, err
	}
	return b.String(), args, nil
}

// parseDomain runs steps 1 to 4 and returns the prefix token list.
func parseDomain(domain any) ([]token, error) {
	if py.IsFalse(domain) {
		return nil, nil
	}
	items, ok := domain.([]any)
	if !ok {
		return nil, ValueErrorf("This domain is syntactically not correct: %s", py.ReprShort(domain))
	}
	if len(items) > maxDomainItems {
		return nil, ValueErrorf("This domain is too large: %d items (at most %d)", len(items), maxDomainItems)
	}
	if len(items) == 0 {
		return nil, nil
	}
	// normalize_domain: count the expressions still expected; an item
	// arriving when none is expected gets an '&' in front of everything.
	ands := 0
	expected := 1
	for _, it := range items {
		if expected == 0 {
			ands++
			expected = 1
		}
		switch it {
		case "&", "|":
			expected++
		case "!":
		default:
			expected--
		}
	}
	if expected != 0 {
		return nil, ValueErrorf("This domain is syntactically not correct: %s", py.ReprShort(domain))
	}
	toks := make([]token, 0, ands+len(items))
	for range ands {
		toks = append(toks, token{op: '&'})
	}
	for _, it := range items {
		if s, ok := it.(string); ok && (s == "&" || s == "|" || s == "!") {
			toks = append(toks, token{op: s[0]})
			continue
		}
		lf, err := checkLeaf(it)
		if err != nil {
			return nil, err
		}
		toks = append(toks, token{lf: lf})
	}
	toks = distributeNot(toks)
	for _, t := range toks {
		if t.lf != nil {
			normalizeLeaf(t.lf)
		}
	}
	return toks, nil
}

// checkLeaf is Odoo's is_leaf/check_leaf: a 3-item list whose operator is
// spelled exactly (case-sensitively) and whose left side is a non-empty
// string, or one of the two constant leaves.
func checkLeaf(it any) (*leaf, error) {
	l, ok := it.([]any)
	if !ok || len(l) != 3 {
		return nil, ValueErrorf("Invalid leaf %s", itemText(it))
	}
	op, ok := l[1].(string)
	if !ok || !termOperators[op] {
		return nil, ValueErrorf("Invalid leaf %s", itemText(it))
	}
	if p, ok := l[0].(string); ok && p != "" {
		if op == "<>" {
			op = "!="
		}
		return &leaf{path: p, op: op, val: l[2], raw: it}, nil
	}
	// TRUE_LEAF and FALSE_LEAF compare equal in Python with True/1/1.0.
	left, okL := py.IntLike(l[0])
	right, okR := py.IntLike(l[2])
	if okL && okR && op == "=" && right == 1 && (left == 0 || left == 1) {
		return &leaf{isConst: true, constTrue: left == 1, raw: it, op: op}, nil
	}
	return nil, ValueErrorf("Invalid leaf %s", itemText(it))
}

// itemText quotes a domain item the way Odoo's check_leaf does, str() of
// it after normalize_domain turned lists into tuples: ('name', '~', 'x')
// for a leaf, name for a stray string.
func itemText(it any) string {
	if l, ok := it.([]any); ok {
		return py.ReprShort(py.Tuple(l))
	}
	if s, ok := it.(string); ok && len(s) <= 500 {
		return s
	}
	return py.ReprShort(it)
}

// text quotes the leaf as Odoo's messages show it: the tuple
// normalize_leaf made of it (operator '<>' as '!=', 'in' a boolean as '=',
// '=' a list as 'in'), at the point of the path being compiled.
func (lf *leaf) text() string {
	if lf.isConst {
		return itemText(lf.raw)
	}
	return py.ReprShort(py.Tuple{lf.path, lf.op, lf.val})
}

// distributeNot is Odoo's distribute_not: every '!' is pushed down to the
// leaves, flipping '&'/'|' on the way, and folded into the leaf's operator
// where it has a negation.
func distributeNot(toks []token) []token {
	out := make([]token, 0, len(toks))
	stack := []bool{false}
	for _, t := range toks {
		// A normalized domain never empties the stack early; the guard
		// only keeps a bug from becoming a panic (buildTree reports it).
		negate := false
		if n := len(stack); n > 0 {
			negate = stack[n-1]
			stack = stack[:n-1]
		}
		switch {
		case t.lf != nil:
			if !negate {
				out = append(out, t)
			} else if t.lf.isConst {
				c := *t.lf
				c.constTrue = !c.constTrue
				out = append(out, token{lf: &c})
			} else if inv, ok := termNegation[t.lf.op]; ok {
				c := *t.lf
				c.op = inv
				out = append(out, token{lf: &c})
			} else {
				out = append(out, token{op: '!'}, t)
			}
		case t.op == '!':
			stack = append(stack, !negate)
		default:
			op := t.op
			if negate {
				op = map[byte]byte{'&': '|', '|': '&'}[op]
			}
			out = append(out, token{op: op})
			stack = append(stack, negate, negate)
		}
	}
	return out
}

// normalizeLeaf is Odoo's normalize_leaf: ('f', 'in', True) means '=',
// ('f', '=', [..]) means 'in'.
func normalizeLeaf(lf *leaf) {
	if lf.isConst {
		return
	}
	if _, ok := lf.val.(bool); ok && (lf.op == "in" || lf.op == "not in") {
		lf.op = map[string]string{"in": "=", "not in": "!="}[lf.op]
	}
	if _, ok := py.List(lf.val); ok && (lf.op == "=" || lf.op == "!=") {
		lf.op = map[string]string{"=": "in", "!=": "not in"}[lf.op]
	}
}

// buildTree reads the prefix tokens from the right with a stack, as
// Odoo's parse does. The tree is binary; render flattens it.
func buildTree(toks []token, domain any) (*node, error) {
	var stack []*node
	pop := func() *node {
		if len(stack) == 0 {
			return nil
		}
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return n
	}
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		if t.lf != nil {
			stack = append(stack, &node{lf: t.lf})
			continue
		}
		a := pop()
		if a == nil {
			return nil, ValueErrorf("This domain is syntactically not correct: %s", py.ReprShort(domain))
		}
		if t.op == '!' {
			stack = append(stack, &node{op: '!', kids: []*node{a}})
			continue
		}
		b := pop()
		if b == nil {
			return nil, ValueErrorf("This domain is syntactically not correct: %s", py.ReprShort(domain))
		}
		stack = append(stack, &node{op: t.op, kids: []*node{a, b}})
	}
	if len(stack) != 1 {
		return nil, ValueErrorf("This domain is syntactically not correct: %s", py.ReprShort(domain))
	}
	return stack[0], nil
}

// render writes the SQL of n. Long '&'/'|' lists are split into balanced
// halves: SQLite parses "a AND b AND c" as a left-deep tree and refuses
// expressions more than 1000 deep.
func (c *compiler) render(b *strings.Builder, args *[]any, n *node, m *Model, alias string, hops, depth int) error {
	if depth > maxTreeDepth {
		return ValueErrorf("This domain is nested too deeply (at most %d levels)", maxTreeDepth)
	}
	switch n.op {
	case 0:
		sql, a, err := c.leaf(m, alias, n.lf, hops)
		if err != nil {
			return err
		}
		if err := c.count(len(a)); err != nil {
			return err
		}
		b.WriteString(sql)
		*args = append(*args, a...)
		return nil
	case '!':
		b.WriteString("NOT (")
		if err := c.render(b, args, n.kids[0], m, alias, hops, depth+1); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	}
	return c.renderList(b, args, n.op, flatten(n), m, alias, hops, depth)
}

// flatten lists the operands of a run of the same binary operator, left to
// right ("&", A, "&", B, C gives A, B, C), so that long implicit
// conjunctions neither nest nor count against the depth limit. It walks
// with its own stack: a 10,000-item chain must not recurse that deep.
func flatten(n *node) []*node {
	var out []*node
	stack := []*node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.op != n.op {
			out = append(out, x)
			continue
		}
		for i := len(x.kids) - 1; i >= 0; i-- {
			stack = append(stack, x.kids[i])
		}
	}
	return out
}

func (c *compiler) renderList(b *strings.Builder, args *[]any, op byte, kids []*node, m *Model, alias string, hops, depth int) error {
	const fanout = 16
	sep := " AND "
	if op == '|' {
		sep = " OR "
	}
	b.WriteString("(")
	if len(kids) > fanout {
		half := len(kids) / 2
		if err := c.renderList(b, args, op, kids[:half], m, alias, hops, depth); err != nil {
			return err
		}
		b.WriteString(sep)
		if err := c.renderList(b, args, op, kids[half:], m, alias, hops, depth); err != nil {
			return err
		}
	} else {
		for i, k := range kids {
			if i > 0 {
				b.WriteString(sep)
			}
			if err := c.render(b, args, k, m, alias, hops, depth+1); err != nil {
				return err
			}
		}
	}
	b.WriteString(")")
	return nil
}
