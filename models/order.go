package models

import (
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// orderTerm is one "field [asc|desc]" of an order specification.
type orderTerm struct {
	Field *Field
	Desc  bool
}

// parseOrder parses an Odoo order string ("timestamp desc, id") against m's
// fields. The syntax is Odoo 16's _check_qorder regular expression
//
//	^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\.id)?(\s+(desc|asc))?\s*(,|$))+(?<!,)$
//
// (case-insensitive), checked part by part because Go's regexp has no
// look-behind; a bad syntax is a UserError, an unknown field a ValueError.
// An empty string yields no terms.
func parseOrder(m *Model, order string) ([]orderTerm, error) {
	if order == "" {
		return nil, nil
	}
	bad := func() error {
		return UserErrorf(`Invalid "order" specified (%s). A valid "order" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`, order)
	}
	parts := strings.Split(order, ",")
	terms := make([]orderTerm, 0, len(parts))
	for _, p := range parts {
		words := strings.Fields(p)
		if len(words) == 0 || len(words) > 2 || !orderName(words[0]) {
			return nil, bad()
		}
		desc := false
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				desc = true
			default:
				return nil, bad()
			}
		}
		// Quotes are allowed by the syntax; Odoo then fails to find the
		// quoted name, we take the name inside.
		name := strings.Trim(words[0], `"`)
		f := m.Field(name)
		if f == nil {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(name), py.Repr(m.Name))
		}
		terms = append(terms, orderTerm{Field: f, Desc: desc})
	}
	return terms, nil
}

// orderName matches ([a-z0-9:_]+|"[a-z0-9:_]+")(\.id)? case-insensitively.
func orderName(s string) bool {
	if len(s) > 3 && strings.EqualFold(s[len(s)-3:], ".id") {
		s = s[:len(s)-3]
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // ASCII lower case; digits, ':' and '_' are unchanged or fail below
		if !(c >= 'a' && c <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == ':' || s[i] == '_') {
			return false
		}
	}
	return true
}

// orderExpr is one sort key before its direction is written.
type orderExpr struct {
	sql      string
	desc     bool
	nullable bool
}

// orderer renders one order specification; seen stops a many2one whose
// comodel orders by a many2one back to it, as Odoo's seen set does.
type orderer struct {
	env  *Env
	n    int
	seen map[string]bool
}

// orderSQL renders ORDER BY terms (without the keyword) for table alias
// ("" means the table name); an empty order means m.Order. A many2one
// sorts by the comodel's own default order, through a correlated subquery
// per key; booleans sort NULL as false; non-stored and secret fields are
// silently ignored, as Odoo ignores fields without a column; "id" always
// works. On SQLite NULLs are placed as PostgreSQL places them (last
// ascending, first descending) so both databases return the same order.
// The result is never empty: with no usable key it orders by id.
func orderSQL(env *Env, m *Model, alias string, order string) (string, error) {
	if order == "" {
		order = m.Order
	}
	terms, err := parseOrder(m, order)
	if err != nil {
		return "", err
	}
	if alias == "" {
		alias = m.Table
	}
	o := &orderer{env: env, seen: map[string]bool{}}
	var parts []string
	for _, t := range terms {
		f := t.Field
		if len(f.Groups) > 0 && !env.IsSuperuser() && !env.hasAnyGroup(f.Groups) {
			// The sort order of a hidden field would reveal its values.
			return "", AccessErrorf("You do not have enough rights to access the fields \"%s\" on %s (%s). Please contact your system administrator.\n\n(Operation: read)", f.Name, m.Description, m.Name)
		}
		for _, e := range o.keys(m, alias, f, t.Desc) {
			parts = append(parts, e.render(env.Dialect()))
		}
	}
	if len(parts) == 0 {
		return col(alias, "id") + " ASC", nil
	}
	return strings.Join(parts, ", "), nil
}

func (e orderExpr) render(d Dialect) string {
	s := e.sql + " ASC"
	if e.desc {
		s = e.sql + " DESC"
	}
	if d == SQLite && e.nullable {
		if e.desc {
			s += " NULLS FIRST"
		} else {
			s += " NULLS LAST"
		}
	}
	return s
}

// keys returns the sort keys of field f of m over alias.
func (o *orderer) keys(m *Model, alias string, f *Field, desc bool) []orderExpr {
	switch {
	case f.Name == "id":
		return []orderExpr{{sql: col(alias, "id"), desc: desc}}
	case !f.Stored() || f.Secret:
		return nil
	case f.Type == Boolean:
		return []orderExpr{{sql: "COALESCE(" + col(alias, f.Name) + ", FALSE)", desc: desc}}
	case f.Type != Many2one:
		return []orderExpr{{sql: col(alias, f.Name), desc: desc, nullable: true}}
	}
	key := m.Name + "." + f.Name
	co := o.env.Registry().Model(f.Relation)
	if o.seen[key] || co == nil {
		return nil
	}
	o.seen[key] = true
	terms, err := parseOrder(co, co.Order)
	if err != nil || len(terms) == 0 {
		// Registry.Check validated every default order; be safe anyway.
		terms = []orderTerm{{Field: co.Field("id")}}
	}
	if len(terms) == 1 && terms[0].Field.Name == "id" {
		// Sorting by the comodel's id is sorting by the column itself.
		return []orderExpr{{sql: col(alias, f.Name), desc: desc != terms[0].Desc, nullable: true}}
	}
	o.n++
	a := "_o" + strconv.Itoa(o.n)
	var out []orderExpr
	for _, t := range terms {
		for _, e := range o.keys(co, a, t.Field, desc != t.Desc) {
			out = append(out, orderExpr{
				sql:      "(SELECT " + e.sql + " FROM " + quote(co.Table) + " AS " + quote(a) + " WHERE " + col(a, "id") + " = " + col(alias, f.Name) + ")",
				desc:     e.desc,
				nullable: true,
			})
		}
	}
	return out
}
