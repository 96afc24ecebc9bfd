package models

import (
	"strconv"
	"strings"
)

// searchQuery compiles the WHERE clause of a search on m: the domain, the
// implicit active filter and the user's record rules.
func (e *Env) searchWhere(m *Model, domain any) (string, []any, error) {
	if e.allowed(m, OpRead) == false {
		return "", nil, e.checkAccess(m, OpRead)
	}
	where, args, err := compileDomain(e, m, "t", domain)
	if err != nil {
		return "", nil, err
	}
	if m.HasActive() && e.ctxBool("active_test", true) && !domainMentions(domain, "active") {
		// The implicit leaf is compiled apart, so that an error in the
		// client's domain quotes that domain as sent, as Odoo's does.
		aw, aa, err := compileDomain(e, m, "t", []any{[]any{"active", "=", true}})
		if err != nil {
			return "", nil, err
		}
		where, args = "("+aw+") AND ("+where+")", append(aa, args...)
	}
	if rule := e.ruleDomain(m); rule != nil {
		rw, ra, err := compileDomain(e.Sudo(), m, "t", rule)
		if err != nil {
			return "", nil, err
		}
		where = "(" + where + ") AND (" + rw + ")"
		args = append(args, ra...)
	}
	return where, args, nil
}

// search returns the ids of m matching domain, in order, windowed by
// offset and limit (limit <= 0: no limit).
func (e *Env) search(m *Model, domain any, offset, limit int64, order string) ([]int64, error) {
	q, args, err := e.searchSQL(m, `t."id"`, domain, offset, limit, order)
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	if err := e.DB().Raw(q, args...).Scan(&ids).Error; err != nil {
		return nil, Internal("search "+m.Name, err)
	}
	return ids, nil
}

// searchSQL builds "SELECT cols FROM table t WHERE ... ORDER BY ... LIMIT
// ... OFFSET ..." for a search on m. cols are declared column names only.
func (e *Env) searchSQL(m *Model, cols string, domain any, offset, limit int64, order string) (string, []any, error) {
	where, args, err := e.searchWhere(m, domain)
	if err != nil {
		return "", nil, err
	}
	ob, err := orderSQL(e, m, "t", order)
	if err != nil {
		return "", nil, err
	}
	var sb strings.Builder
	sb.WriteString(`SELECT `)
	sb.WriteString(cols)
	sb.WriteString(` FROM `)
	sb.WriteString(quote(m.Table))
	sb.WriteString(` t WHERE `)
	sb.WriteString(where)
	if ob != "" {
		sb.WriteString(" ORDER BY ")
		sb.WriteString(ob)
	}
	if limit > 0 {
		sb.WriteString(" LIMIT " + strconv.FormatInt(limit, 10))
	} else if offset > 0 && e.Dialect() == SQLite {
		sb.WriteString(" LIMIT -1")
	}
	if offset > 0 {
		sb.WriteString(" OFFSET " + strconv.FormatInt(offset, 10))
	}
	return sb.String(), args, nil
}

// count returns how many records of m match domain, capped at limit > 0.
func (e *Env) count(m *Model, domain any, limit int64) (int64, error) {
	where, args, err := e.searchWhere(m, domain)
	if err != nil {
		return 0, err
	}
	q := `SELECT COUNT(*) FROM ` + quote(m.Table) + ` t WHERE ` + where
	if limit > 0 {
		q = `SELECT COUNT(*) FROM (SELECT 1 FROM ` + quote(m.Table) + ` t WHERE ` + where + ` LIMIT ` + strconv.FormatInt(limit, 10) + `) c`
	}
	var n int64
	if err := e.DB().Raw(q, args...).Scan(&n).Error; err != nil {
		return 0, Internal("count "+m.Name, err)
	}
	return n, nil
}

// existing returns which of ids exist (in the given order, deduplicated).
func (e *Env) existing(m *Model, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return []int64{}, nil
	}
	var found []int64
	for _, chunk := range idChunks(ids) {
		var part []int64
		if err := e.DB().Raw(`SELECT "id" FROM `+quote(m.Table)+` WHERE "id" IN ?`, chunk).Scan(&part).Error; err != nil {
			return nil, Internal("exists "+m.Name, err)
		}
		found = append(found, part...)
	}
	set := make(map[int64]bool, len(found))
	for _, id := range found {
		set[id] = true
	}
	out := make([]int64, 0, len(found))
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
			delete(set, id)
		}
	}
	return out, nil
}

// checkRecords verifies that every id exists (MissingError) and lies
// within the user's record rules (AccessError) before a write or unlink.
func (e *Env) checkRecords(m *Model, ids []int64, op byte) error {
	ex, err := e.existing(m, ids)
	if err != nil {
		return err
	}
	if len(ex) != len(uniqueIDs(ids)) {
		missing := missingIDs(ids, ex)
		return MissingErrorf("Record does not exist or has been deleted.\n(Record: %s(%s), User: %d)", m.Name, idsRepr(missing), e.UID)
	}
	if rule := e.ruleDomain(m); rule != nil && len(ids) > 0 {
		ok, err := e.Sudo().search(m, append([]any{[]any{"id", "in", toAnyIDs(ids)}}, rule...), 0, 0, "id")
		if err != nil {
			return err
		}
		if len(ok) != len(ex) {
			return AccessErrorf("Due to security restrictions, you are not allowed to %s '%s' (%s) records.", opVerbs[op], m.Description, m.Name)
		}
	}
	return nil
}

func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func missingIDs(ids, found []int64) []int64 {
	set := make(map[int64]bool, len(found))
	for _, id := range found {
		set[id] = true
	}
	var out []int64
	for _, id := range uniqueIDs(ids) {
		if !set[id] {
			out = append(out, id)
		}
	}
	return out
}

// idsRepr renders ids like a Python tuple body: "99," or "1, 2".
func idsRepr(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	if len(parts) == 1 {
		return parts[0] + ","
	}
	return strings.Join(parts, ", ")
}

func toAnyIDs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
