package models

import "time"

// SearchWhere is the WHERE clause a search of m by the user of e runs,
// on alias t: the domain, the implicit active filter and the user's
// record rules (an AccessError without read access). Addons that
// aggregate rows in SQL of their own (the history charts) filter by it,
// so they see exactly the rows search would.
func (e *Env) SearchWhere(m *Model, domain []any) (string, []any, error) {
	return e.searchWhere(m, domain)
}

// DBDatetime is the parameter for a datetime column in raw SQL.
func (d Dialect) DBDatetime(t time.Time) any { return d.dbDatetime(t) }

// ParseDatetime reads a datetime in Odoo's wire forms, in UTC.
func ParseDatetime(s string) (time.Time, error) { return parseDatetime(s) }
