package models

import (
	"fmt"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// m2mColumns names the columns of a many2many relation table, as Odoo
// does: "<model table>_id" for the field's own model and "<comodel
// table>_id" for the other side, or "id1"/"id2" when both sides are the
// same table. The comodel's table is derived from its name, since a Field
// knows no registry; both sides of a relation therefore agree on the names.
func m2mColumns(f *Field) (own, other string) {
	own = f.model.Table + "_id"
	other = tableName(f.Relation) + "_id"
	if own == other || f.Relation == f.model.Name {
		return "id1", "id2"
	}
	return own, other
}

func (c *compiler) comodel(f *Field) (*Model, error) {
	co := c.env.Registry().Model(f.Relation)
	if co == nil {
		return nil, Internal("domain", fmt.Errorf("%s.%s: unknown comodel %q", f.model.Name, f.Name, f.Relation))
	}
	return co, nil
}

// hop compiles a dotted leaf (f.rest, op, value) as a sub-search on f's
// comodel. Through a many2one inactive comodel rows count, as in Odoo;
// through an x2many the context's active_test applies.
func (c *compiler) hop(m *Model, alias string, f *Field, rest string, lf *leaf, hops int) (string, []any, error) {
	if !f.IsRelational() {
		return "", nil, ValueErrorf("Invalid field %s.%s in leaf %s", m.Name, lf.path, lf.text())
	}
	co, err := c.comodel(f)
	if err != nil {
		return "", nil, err
	}
	if f.Type == Many2one {
		defer c.withoutActive()()
	}
	a := c.alias()
	sub := *lf
	sub.path = rest
	cond, args, err := c.leaf(co, a, &sub, hops+1)
	if err != nil {
		return "", nil, err
	}
	mentions := rest == "active" || strings.HasPrefix(rest, "active.")
	where, args, err := c.subWhere(co, a, cond, args, f.Type != Many2one && !mentions, hops)
	if err != nil {
		return "", nil, err
	}
	switch f.Type {
	case Many2one:
		return col(alias, f.Name) + " IN (SELECT " + col(a, "id") + " FROM " + quote(co.Table) + " AS " + quote(a) + " WHERE " + where + ")", args, nil
	case One2many:
		inv := col(a, f.InverseName)
		return col(alias, "id") + " IN (SELECT " + inv + " FROM " + quote(co.Table) + " AS " + quote(a) + " WHERE " + where + " AND " + inv + " IS NOT NULL)", args, nil
	}
	set := "SELECT " + col(a, "id") + " FROM " + quote(co.Table) + " AS " + quote(a) + " WHERE " + where
	return c.x2manyHas(alias, f, co, set, true), args, nil
}

// withoutActive turns the active filter off until the returned function
// restores it.
func (c *compiler) withoutActive() func() {
	saved := c.inactive
	c.inactive = true
	return func() { c.inactive = saved }
}

// subWhere completes the condition of a sub-search on co the way Odoo's
// _search would: the user must be allowed to read co, the implicit active
// filter applies when activeTest (and the context's active_test) says so,
// and the user's record rules on co are added.
func (c *compiler) subWhere(co *Model, a, cond string, args []any, activeTest bool, hops int) (string, []any, error) {
	if err := c.env.checkAccess(co, OpRead); err != nil {
		return "", nil, err
	}
	parts := []string{cond}
	if activeTest && !c.inactive && co.HasActive() && c.env.ctxBool("active_test", true) {
		parts = append(parts, col(a, "active")+" = ?")
		args = append(args, true)
	}
	if rule := c.env.ruleDomain(co); rule != nil {
		// Rules are the server's own domains: compiled without the user's
		// restrictions, with this compiler's aliases and limits.
		sc := &compiler{env: c.env.Sudo(), d: c.d, n: c.n, nargs: c.nargs, inactive: c.inactive}
		rw, ra, err := sc.domain(co, a, rule, hops+1)
		if err != nil {
			return "", nil, err
		}
		c.n, c.nargs = sc.n, sc.nargs
		parts = append(parts, "("+rw+")")
		args = append(args, ra...)
	}
	return strings.Join(parts, " AND "), args, nil
}

// nameSearch returns a subquery of the ids of co whose name matches (op,
// names), as Odoo's _name_search on the rec name.
func (c *compiler) nameSearch(co *Model, op string, names any, activeTest bool, lf *leaf, hops int) (string, []any, error) {
	rf, err := recField(co)
	if err != nil {
		return "", nil, err
	}
	a := c.alias()
	sub := &leaf{path: rf.Name, op: op, val: names, raw: lf.raw}
	normalizeLeaf(sub)
	cond, args, err := c.leaf(co, a, sub, hops+1)
	if err != nil {
		return "", nil, err
	}
	where, args, err := c.subWhere(co, a, cond, args, activeTest && rf.Name != "active", hops)
	if err != nil {
		return "", nil, err
	}
	return "SELECT " + col(a, "id") + " FROM " + quote(co.Table) + " AS " + quote(a) + " WHERE " + where, args, nil
}

// m2oNameLeaf compiles (m2o, op, "name" or ["names"]): the comodel is
// searched by name with the same operator, inactive rows included, and for
// a negative operator records without a value match too (Odoo pushes
// '|', (m2o, 'in', ids), (m2o, '=', False)).
func (c *compiler) m2oNameLeaf(alias string, f *Field, lf *leaf, names any, hops int) (string, []any, error) {
	co, err := c.comodel(f)
	if err != nil {
		return "", nil, err
	}
	op := lf.op
	switch op {
	case "<", ">", "<=", ">=":
		op = "in"
	}
	if _, isList := names.([]any); !isList {
		if op == "in" {
			op = "="
		} else if op == "not in" {
			op = "!="
		}
	}
	defer c.withoutActive()()
	set, args, err := c.nameSearch(co, op, names, false, lf, hops)
	if err != nil {
		return "", nil, err
	}
	sql := col(alias, f.Name) + " IN (" + set + ")"
	if isNegative(op) {
		sql = "(" + sql + " OR " + col(alias, f.Name) + " IS NULL)"
	}
	return sql, args, nil
}

// x2manyLeaf compiles a leaf on a one2many or many2many field. As in Odoo
// only the operator's sign matters: (x2m, '=', False) is "no related row",
// (x2m, '!=', False) "at least one", ids or names "has any of those", and
// a negative operator "has none of those".
func (c *compiler) x2manyLeaf(m *Model, alias string, f *Field, lf *leaf, hops int) (string, []any, error) {
	co, err := c.comodel(f)
	if err != nil {
		return "", nil, err
	}
	neg := isNegative(lf.op)
	if py.IsFalse(lf.val) {
		return c.x2manyHas(alias, f, co, "", neg), nil, nil
	}
	if names, ok := stringValues(lf.val); ok {
		op := lf.op
		if neg {
			op = termNegation[op]
		}
		set, args, err := c.nameSearch(co, op, names, true, lf, hops)
		if err != nil {
			return "", nil, err
		}
		return c.x2manyHas(alias, f, co, set, !neg), args, nil
	}
	ids, err := idValues(lf)
	if err != nil {
		return "", nil, err
	}
	if len(ids) == 0 {
		if neg {
			return "1=1", nil, nil
		}
		return "1=0", nil, nil
	}
	set, args := c.placeholders(ids)
	return c.x2manyHas(alias, f, co, set, !neg), args, nil
}

// idValues reads the ids of an x2many leaf: an id or a list of ids, falsy
// items dropped as Odoo does.
func idValues(lf *leaf) ([]any, error) {
	list, ok := py.List(lf.val)
	if !ok {
		list = []any{lf.val}
	}
	ids := make([]any, 0, len(list))
	for _, x := range list {
		if !py.Truthy(x) {
			continue
		}
		n, ok := py.Int(x)
		if !ok {
			return nil, invalidLeaf(lf)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// x2manyHas renders "the record has a related row in set" (set is a
// subquery or a placeholder list; "" means any row), negated when !has.
func (c *compiler) x2manyHas(alias string, f *Field, co *Model, set string, has bool) string {
	r := c.alias()
	if f.Type == Many2many {
		own, other := m2mColumns(f)
		sql := "EXISTS (SELECT 1 FROM " + quote(f.RelTable) + " AS " + quote(r) + " WHERE " + col(r, own) + " = " + col(alias, "id")
		if set != "" {
			sql += " AND " + col(r, other) + " IN (" + set + ")"
		}
		sql += ")"
		if !has {
			sql = "NOT " + sql
		}
		return sql
	}
	inv := col(r, f.InverseName)
	in := " IN ("
	if !has {
		in = " NOT IN ("
	}
	sql := col(alias, "id") + in + "SELECT " + inv + " FROM " + quote(co.Table) + " AS " + quote(r) + " WHERE "
	if set != "" {
		sql += col(r, "id") + " IN (" + set + ") AND "
	}
	// NOT IN over a set holding NULL is never true: keep NULLs out.
	return sql + inv + " IS NOT NULL)"
}

// hierarchyLeaf compiles child_of and parent_of on the model's id, a
// many2one, or an x2many: the value (ids or names) is expanded through the
// target model's parent_id, when it has one, to its descendants or
// ancestors; without a parent field the operators mean 'in'.
func (c *compiler) hierarchyLeaf(m *Model, alias string, f *Field, lf *leaf, hops int) (string, []any, error) {
	target := m
	if f.Name != "id" {
		if !f.IsRelational() {
			return "", nil, invalidLeaf(lf)
		}
		co, err := c.comodel(f)
		if err != nil {
			return "", nil, err
		}
		target = co
	}
	set, args, err := c.hierarchySet(target, lf, hops)
	if err != nil {
		return "", nil, err
	}
	if set == "" {
		return "1=0", nil, nil
	}
	switch f.Type {
	case One2many, Many2many:
		return c.x2manyHas(alias, f, target, set, true), args, nil
	}
	return col(alias, f.Name) + " IN (" + set + ")", args, nil
}

// hierarchySet returns the SQL of the ids a child_of/parent_of leaf covers
// on target, or "" when it covers none. The walk is a recursive CTE, which
// SQLite and PostgreSQL both run; UNION (not UNION ALL) stops on cycles.
func (c *compiler) hierarchySet(target *Model, lf *leaf, hops int) (string, []any, error) {
	var seed string
	var args []any
	if names, ok := stringValues(lf.val); ok {
		// Odoo's to_ids: every name is looked up with ilike.
		list, isList := names.([]any)
		if !isList {
			list = []any{names}
		}
		rf, err := recField(target)
		if err != nil {
			return "", nil, err
		}
		a := c.alias()
		cond, ca, err := c.domain(target, a, anyNameDomain(rf.Name, list), hops+1)
		if err != nil {
			return "", nil, err
		}
		where, ca, err := c.subWhere(target, a, cond, ca, true, hops)
		if err != nil {
			return "", nil, err
		}
		seed, args = "SELECT "+col(a, "id")+" FROM "+quote(target.Table)+" AS "+quote(a)+" WHERE "+where, ca
	} else {
		var ids []any
		if !py.IsFalse(lf.val) {
			var err error
			if ids, err = idValues(lf); err != nil {
				return "", nil, err
			}
		}
		if len(ids) == 0 {
			return "", nil, nil
		}
		seed, args = c.placeholders(ids)
	}
	p := target.Field("parent_id")
	if p == nil || p.Type != Many2one || p.Relation != target.Name || !p.Stored() {
		return seed, args, nil
	}
	h, x, y, z := c.alias(), c.alias(), c.alias(), c.alias()
	t := quote(target.Table)
	sql := "WITH RECURSIVE " + quote(h) + "(" + quote("id") + ") AS (SELECT " + col(x, "id") + " FROM " + t + " AS " + quote(x) +
		" WHERE " + col(x, "id") + " IN (" + seed + ") UNION SELECT " + col(y, "id") + " FROM " + t + " AS " + quote(y)
	if lf.op == "child_of" {
		sql += " JOIN " + quote(h) + " ON " + col(y, "parent_id") + " = " + col(h, "id")
	} else {
		sql += " JOIN " + t + " AS " + quote(z) + " ON " + col(y, "id") + " = " + col(z, "parent_id") +
			" JOIN " + quote(h) + " ON " + col(z, "id") + " = " + col(h, "id")
	}
	return sql + ") SELECT " + col(h, "id") + " FROM " + quote(h), args, nil
}

// anyNameDomain is the domain ['|', '|', (field, 'ilike', n1), ...].
func anyNameDomain(field string, names []any) []any {
	dom := make([]any, 0, 2*len(names))
	for range len(names) - 1 {
		dom = append(dom, "|")
	}
	for _, n := range names {
		dom = append(dom, []any{field, "ilike", n})
	}
	return dom
}
