package models

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// compiler holds the state of one compileDomain call: the env whose rights
// and context apply, and a counter that gives every subquery its own alias
// (a correlated reference must never be captured by an inner table of the
// same name).
type compiler struct {
	env   *Env
	d     Dialect
	n     int
	nargs int
	// inactive is set below a many2one hop or name search: Odoo runs those
	// sub-searches with active_test=False, and the context carries down.
	inactive bool
}

func (c *compiler) alias() string {
	c.n++
	return "_d" + strconv.Itoa(c.n)
}

// count tracks bound parameters: past the database's limit the query would
// fail with an internal error rather than a message the client can act on.
func (c *compiler) count(n int) error {
	c.nargs += n
	if c.nargs > maxDomainArgs {
		return ValueErrorf("This domain has too many values (at most %d)", maxDomainArgs)
	}
	return nil
}

func col(alias, name string) string { return quote(alias) + "." + quote(name) }

func invalidField(m *Model, name string, lf *leaf) error {
	return ValueErrorf("Invalid field %s.%s in leaf %s", m.Name, name, lf.text())
}

func invalidLeaf(lf *leaf) error { return ValueErrorf("Invalid leaf %s", lf.text()) }

// leaf compiles one leaf on m. hops counts relational hops, related-field
// rewrites and sub-searches taken so far, which bounds the recursion.
func (c *compiler) leaf(m *Model, alias string, lf *leaf, hops int) (string, []any, error) {
	if lf.isConst {
		if lf.constTrue {
			return "1=1", nil, nil
		}
		return "1=0", nil, nil
	}
	if hops > maxPathHops {
		return "", nil, ValueErrorf("Too many relational hops in leaf %s (at most %d)", lf.text(), maxPathHops)
	}
	head, rest, dotted := strings.Cut(lf.path, ".")
	f := m.Field(head)
	if f == nil || f.Secret {
		// A secret (a password hash) must not be probed by searching on it.
		return "", nil, invalidField(m, head, lf)
	}
	if err := c.checkGroups(m, f); err != nil {
		return "", nil, err
	}
	if f.NotStored {
		switch {
		case head == "display_name":
			rf, err := recField(m)
			if err != nil {
				return "", nil, err
			}
			f = rf
		case f.Related != "":
			// A related field searches through the path it mirrors.
			sub := *lf
			sub.path = f.Related
			if dotted {
				sub.path += "." + rest
			}
			return c.leaf(m, alias, &sub, hops+1)
		default:
			return "", nil, invalidField(m, head, lf)
		}
	}
	if dotted {
		return c.hop(m, alias, f, rest, lf, hops)
	}
	if lf.op == "=?" {
		if py.IsFalse(lf.val) {
			return "1=1", nil, nil
		}
		sub := *lf
		sub.op = "="
		normalizeLeaf(&sub)
		lf = &sub
	}
	if lf.op == "child_of" || lf.op == "parent_of" {
		return c.hierarchyLeaf(m, alias, f, lf, hops)
	}
	switch f.Type {
	case One2many, Many2many:
		return c.x2manyLeaf(m, alias, f, lf, hops)
	case Many2one:
		if names, ok := stringValues(lf.val); ok {
			return c.m2oNameLeaf(alias, f, lf, names, hops)
		}
	}
	return c.columnLeaf(col(alias, f.Name), f, lf)
}

// checkGroups refuses a field restricted to groups the user lacks, as
// reading it would.
func (c *compiler) checkGroups(m *Model, f *Field) error {
	if len(f.Groups) == 0 || c.env.IsSuperuser() || c.env.hasAnyGroup(f.Groups) {
		return nil
	}
	return AccessErrorf("You do not have enough rights to access the fields \"%s\" on %s (%s). Please contact your system administrator.\n\n(Operation: read)", f.Name, m.Description, m.Name)
}

// recField is the stored field a name search compares: the model's rec
// name, or "name" when the rec name is not stored.
func recField(m *Model) (*Field, error) {
	for _, name := range []string{m.RecName, "name"} {
		if f := m.Field(name); f != nil && f.Stored() && !f.Secret {
			return f, nil
		}
	}
	return nil, ValueErrorf("Model %s cannot be searched by name", m.Name)
}

// columnLeaf compiles a leaf on one stored column, following the table of
// Odoo's semantics, NULLs included.
func (c *compiler) columnLeaf(colSQL string, f *Field, lf *leaf) (string, []any, error) {
	op, val := lf.op, wholeDayValue(f, lf.op, lf.val)
	if sql, args, ok := fractionLeaf(colSQL, f, op, val); ok {
		return sql, args, nil
	}
	if sql, ok := beyondLeaf(colSQL, f, op, val); ok {
		return sql, nil, nil
	}
	switch op {
	case "=", "!=":
		return c.equalityLeaf(colSQL, f, lf, val)
	case "<", ">", "<=", ">=":
		return c.comparisonLeaf(colSQL, f, lf, val)
	case "like", "ilike", "not like", "not ilike":
		return c.likeLeaf(colSQL, f, lf, val)
	case "=like", "=ilike":
		return c.exactLikeLeaf(colSQL, f, lf, val)
	case "in", "not in":
		return c.inLeaf(colSQL, f, lf)
	}
	return "", nil, invalidLeaf(lf)
}

// wholeDayValue rewrites a bare date compared with a datetime column into
// the datetime that makes the comparison cover the whole day; any other
// value is returned as is.
func wholeDayValue(f *Field, op string, val any) any {
	s, ok := val.(string)
	if !ok || f.Type != Datetime || utf8.RuneCountInString(s) != 10 {
		return val
	}
	if op == ">" || op == "<=" {
		return s + " 23:59:59"
	}
	return s + " 00:00:00"
}

// fractionLeaf compiles an equality or comparison of an integer column
// with a fraction; ok is false when the leaf is not one.
func fractionLeaf(colSQL string, f *Field, op string, val any) (sql string, args []any, ok bool) {
	x, isFrac := fraction(f, val)
	if !isFrac {
		return "", nil, false
	}
	// No integer equals 2.5; n > 2.5 and n >= 2.5 mean n > 2, and
	// n < 2.5 and n <= 2.5 mean n <= 2.
	switch op {
	case "=":
		return "1=0", nil, true
	case "!=":
		return "1=1", nil, true
	case ">", ">=":
		return colSQL + " > ?", []any{int64(math.Floor(x))}, true
	case "<", "<=":
		return colSQL + " <= ?", []any{int64(math.Floor(x))}, true
	}
	return "", nil, false
}

// beyondLeaf compiles an equality or comparison of an integer or
// many2one column with an integer beyond what the column holds (3e9 for
// an int4 integer field, 1e300 for an id): no row equals it, and every
// row (but NULL) is on the same side of it. Binding it would fail (the
// drivers refuse to encode it for the column), and toDB refuses it as a
// value to store. ok is false when the leaf is not one.
func beyondLeaf(colSQL string, f *Field, op string, val any) (sql string, ok bool) {
	side := beyond(f, val)
	if side == 0 {
		return "", false
	}
	switch op {
	case "=":
		return "1=0", true
	case "!=":
		return "1=1", true // != a truthy value matches NULL too
	case ">", ">=":
		if side > 0 {
			return "1=0", true
		}
		return colSQL + " IS NOT NULL", true
	case "<", "<=":
		if side < 0 {
			return "1=0", true
		}
		return colSQL + " IS NOT NULL", true
	}
	return "", false
}

// equalityLeaf compiles = and !=. False tests NULL (and, on a boolean
// column, false too); != with a truthy value also matches NULL rows, as
// SQL's != alone would not.
func (c *compiler) equalityLeaf(colSQL string, f *Field, lf *leaf, val any) (string, []any, error) {
	if py.IsFalse(val) {
		sql, args := nullEqualityLeaf(colSQL, f, lf.op == "=")
		return sql, args, nil
	}
	p, err := c.value(f, val, lf)
	if err != nil {
		return "", nil, err
	}
	if lf.op == "=" {
		return colSQL + " = ?", []any{p}, nil
	}
	if py.Truthy(val) {
		return "(" + colSQL + " != ? OR " + colSQL + " IS NULL)", []any{p}, nil
	}
	return colSQL + " != ?", []any{p}, nil
}

// nullEqualityLeaf compiles "= False" (eq) or "!= False" (not eq): a NULL
// test, which on a boolean column also takes false for NULL.
func nullEqualityLeaf(colSQL string, f *Field, eq bool) (string, []any) {
	switch {
	case eq && f.Type == Boolean:
		return "(" + colSQL + " IS NULL OR " + colSQL + " = ?)", []any{false}
	case eq:
		return colSQL + " IS NULL", nil
	case f.Type == Boolean:
		return "(" + colSQL + " IS NOT NULL AND " + colSQL + " != ?)", []any{false}
	}
	return colSQL + " IS NOT NULL", nil
}

// comparisonLeaf compiles <, >, <= and >=, which never match NULL.
func (c *compiler) comparisonLeaf(colSQL string, f *Field, lf *leaf, val any) (string, []any, error) {
	p, err := c.value(f, val, lf)
	if err != nil {
		return "", nil, err
	}
	return colSQL + " " + lf.op + " ?", []any{p}, nil
}

// likeLeaf compiles like, ilike and their negations: a substring match.
func (c *compiler) likeLeaf(colSQL string, f *Field, lf *leaf, val any) (string, []any, error) {
	text, ok := likeText(val)
	if !ok {
		return "", nil, invalidLeaf(lf)
	}
	neg := strings.HasPrefix(lf.op, "not ")
	sql := c.d.likeOp(c.likeExpr(colSQL, f), strings.HasSuffix(lf.op, "ilike"), neg)
	if neg || !py.Truthy(val) {
		// An empty pattern matches every row, NULLs too; a negated
		// pattern matches the NULLs it cannot test.
		sql = "(" + sql + " OR " + colSQL + " IS NULL)"
	}
	return sql, []any{"%" + text + "%"}, nil
}

// exactLikeLeaf compiles =like and =ilike: the value is the whole
// pattern, and False binds NULL (which matches nothing).
func (c *compiler) exactLikeLeaf(colSQL string, f *Field, lf *leaf, val any) (string, []any, error) {
	var p any
	if !py.IsFalse(val) {
		text, ok := likeText(val)
		if !ok {
			return "", nil, invalidLeaf(lf)
		}
		p = text
	}
	return c.d.likeOp(c.likeExpr(colSQL, f), lf.op == "=ilike", false), []any{p}, nil
}

// likeExpr casts non-text columns to text, as Odoo's "::text" does.
func (c *compiler) likeExpr(colSQL string, f *Field) string {
	switch f.Type {
	case Char, Text, Selection:
		return colSQL
	}
	return c.d.textCast(colSQL)
}

// inLeaf compiles 'in' and 'not in': False items become an IS NULL test,
// an empty list is FALSE for 'in' and TRUE for 'not in', and 'not in'
// matches NULL rows unless False is in the list.
func (c *compiler) inLeaf(colSQL string, f *Field, lf *leaf) (string, []any, error) {
	list, ok := py.List(lf.val)
	if !ok {
		// Odoo refuses a scalar here; taking it as a one-item list is kinder.
		list = []any{lf.val}
	}
	var params []any
	checkNull := false
	if f.Type == Boolean {
		// Odoo keeps [it for it in (True, False) if it in right]: Python's
		// equality makes 1 True and 0 False.
		hasTrue, hasFalse := false, false
		for _, x := range list {
			if n, ok := py.IntLike(x); ok && n == 1 {
				hasTrue = true
			} else if x == nil || ok && n == 0 {
				hasFalse = true
			}
		}
		if hasTrue {
			params = append(params, true)
		}
		if hasFalse {
			params = append(params, false)
		}
		checkNull = hasFalse
	} else {
		for _, x := range list {
			if py.IsFalse(x) {
				checkNull = true
				continue
			}
			if _, frac := fraction(f, x); frac {
				continue // no integer equals it
			}
			if beyond(f, x) != 0 {
				continue // no row holds it
			}
			p, err := c.value(f, x, lf)
			if err != nil {
				return "", nil, err
			}
			params = append(params, p)
		}
	}
	in := lf.op == "in"
	if len(params) == 0 {
		switch {
		case in && checkNull:
			return colSQL + " IS NULL", nil, nil
		case in:
			return "1=0", nil, nil
		case checkNull:
			return colSQL + " IS NOT NULL", nil, nil
		}
		return "1=1", nil, nil
	}
	sqlOp := " IN ("
	if !in {
		sqlOp = " NOT IN ("
	}
	set, args := c.placeholders(params)
	sql := colSQL + sqlOp + set + ")"
	switch {
	case in && checkNull, !in && !checkNull:
		sql = "(" + sql + " OR " + colSQL + " IS NULL)"
	case !in && checkNull:
		sql = "(" + sql + " AND " + colSQL + " IS NOT NULL)"
	}
	return sql, args, nil
}

// placeholders renders "?, ?, ?" for params. Long lists of integers (ids)
// are written as literals: they are int64 values formatted here, never
// client text, and they would otherwise exceed the databases' parameter
// limits.
func (c *compiler) placeholders(params []any) (string, []any) {
	if len(params) > maxInlineIDs {
		ints := make([]string, 0, len(params))
		for _, p := range params {
			n, ok := p.(int64)
			if !ok {
				ints = nil
				break
			}
			ints = append(ints, strconv.FormatInt(n, 10))
		}
		if ints != nil {
			return strings.Join(ints, ", "), nil
		}
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(params)), ", "), params
}
