package models

// Record rules beyond search and read. search, search_count, read_group
// and the searches behind search_read, web_search_read and name_search put
// the rules in their WHERE clause; read, write and unlink check the ids
// they are given (orm_read.go, orm_search.go). What else hands out ids or
// names goes through visible: exists (the ids outside the rules do not
// exist for the user), name_get and copy (an AccessError, as read gives),
// and the values of one2many and many2many fields, which list only the
// comodel records the user may see (Odoo reads them through the comodel's
// rules too).

// visible returns the ids among ids (deduplicated, in their order) of
// records of m that exist and lie within the user's record rules.
func (e *Env) visible(m *Model, ids []int64) ([]int64, error) {
	ex, err := e.existing(m, ids)
	if err != nil || len(ex) == 0 {
		return ex, err
	}
	rule := e.ruleDomain(m)
	if rule == nil {
		return ex, nil
	}
	// A rule says which records, not whether they are archived: the
	// implicit active filter stays out of it.
	su := e.Sudo().WithContext(map[string]any{"active_test": false})
	ok, err := su.search(m, append([]any{[]any{"id", "in", toAnyIDs(ex)}}, rule...), 0, 0, "id")
	if err != nil {
		return nil, err
	}
	in := make(map[int64]bool, len(ok))
	for _, id := range ok {
		in[id] = true
	}
	out := ex[:0]
	for _, id := range ex {
		if in[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// checkVisible returns read's AccessError when one of ids exists outside
// the user's record rules; missing ids are not its business.
func (e *Env) checkVisible(m *Model, ids []int64, op byte) error {
	if e.ruleDomain(m) == nil || len(ids) == 0 {
		return nil
	}
	ex, err := e.existing(m, ids)
	if err != nil {
		return err
	}
	vis, err := e.visible(m, ex)
	if err != nil {
		return err
	}
	if len(vis) != len(ex) {
		return AccessErrorf("Due to security restrictions, you are not allowed to %s '%s' (%s) records.", opVerbs[op], m.Description, m.Name)
	}
	return nil
}

// visibleRel keeps, in the related ids of an x2many field f (own id ->
// related ids), those the user may see under the comodel's rules.
func (e *Env) visibleRel(f *Field, rel map[int64][]int64) (map[int64][]int64, error) {
	co := e.reg.Model(f.Relation)
	if e.ruleDomain(co) == nil || len(rel) == 0 {
		return rel, nil
	}
	var all []int64
	for _, ids := range rel {
		all = append(all, ids...)
	}
	vis, err := e.visible(co, all)
	if err != nil {
		return nil, err
	}
	in := make(map[int64]bool, len(vis))
	for _, id := range vis {
		in[id] = true
	}
	out := make(map[int64][]int64, len(rel))
	for own, ids := range rel {
		kept := make([]int64, 0, len(ids))
		for _, id := range ids {
			if in[id] {
				kept = append(kept, id)
			}
		}
		out[own] = kept
	}
	return out, nil
}
