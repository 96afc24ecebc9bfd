package models

import (
	"sort"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// load fetches the stored columns of ids (all stored fields when fields is
// nil), keeping the order of ids and dropping those that don't exist.
func (e *Env) load(m *Model, ids []int64, fields []*Field) ([]*Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cols, stored := selectColumns(m, fields, "")
	var recs []*Record
	for _, chunk := range idChunks(uniqueIDs(ids)) {
		part, err := e.scanRecords(m, stored, `SELECT `+cols+` FROM `+quote(m.Table)+` WHERE "id" IN ?`, chunk)
		if err != nil {
			return nil, err
		}
		recs = append(recs, part...)
	}
	byID := make(map[int64]*Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	out := make([]*Record, 0, len(recs))
	for _, id := range uniqueIDs(ids) {
		if r := byID[id]; r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// selectColumns returns the column list selecting "id" and the stored
// fields among fields (all stored fields when nil), prefixed by alias.
func selectColumns(m *Model, fields []*Field, alias string) (string, []*Field) {
	if fields == nil {
		fields = m.StoredFields()
	}
	prefix := ""
	if alias != "" {
		prefix = alias + "."
	}
	var sb strings.Builder
	sb.WriteString(prefix + `"id"`)
	stored := make([]*Field, 0, len(fields))
	for _, f := range fields {
		if f.Stored() && f.Name != "id" {
			sb.WriteString(", " + prefix + quote(f.Name))
			stored = append(stored, f)
		}
	}
	return sb.String(), stored
}

// scanRecords runs a query selecting "id" then the stored fields, and
// returns the records in the query's order.
func (e *Env) scanRecords(m *Model, stored []*Field, q string, args ...any) ([]*Record, error) {
	rows, err := e.DB().Raw(q, args...).Rows()
	if err != nil {
		return nil, Internal("load "+m.Name, err)
	}
	defer rows.Close()
	dest := make([]any, len(stored)+1)
	ptrs := make([]any, len(dest))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	idField := m.Field("id")
	var out []*Record
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, Internal("load "+m.Name, err)
		}
		rec := &Record{Model: m, vals: make(map[string]any, len(stored)+1)}
		rec.ID = idField.normalizeDB(dest[0]).(int64)
		rec.vals["id"] = rec.ID
		for i, f := range stored {
			v := f.normalizeDB(dest[i+1])
			if f.Encrypted {
				var err error
				if v, err = e.reg.open(f, v); err != nil {
					rec.setLoadError(f.Name, err)
				}
			}
			rec.vals[f.Name] = v
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, Internal("load "+m.Name, err)
	}
	return out, nil
}

// readableFields resolves the field list of a read: all fields the user may
// see when names is empty, else exactly names (unknown -> ValueError).
func (e *Env) readableFields(m *Model, names []string) ([]*Field, error) {
	if len(names) == 0 {
		out := make([]*Field, 0, len(m.Fields))
		for _, f := range m.Fields {
			if !f.Secret && e.hasAnyGroup(f.Groups) {
				out = append(out, f)
			}
		}
		return out, nil
	}
	out := make([]*Field, 0, len(names)+1)
	seen := map[string]bool{}
	for _, n := range names {
		f := m.Field(n)
		if f == nil {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(n), py.Repr(m.Name))
		}
		if err := e.checkFieldAccess(f); err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// read returns records in Odoo's read format: a Dict per record with "id"
// first, then the requested fields. load "_classic_read" renders many2one
// as [id, display_name]; any other load value ("" included, as in Odoo's
// _read_format) as the bare id.
func (e *Env) read(m *Model, ids []int64, names []string, load string) ([]*Dict, error) {
	if err := e.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	fields, err := e.readableFields(m, names)
	if err != nil {
		return nil, err
	}
	if rule := e.ruleDomain(m); rule != nil && len(ids) > 0 {
		ok, err := e.Sudo().search(m, append([]any{[]any{"id", "in", toAnyIDs(ids)}}, rule...), 0, 0, "id")
		if err != nil {
			return nil, err
		}
		if len(ok) != len(uniqueIDs(ids)) {
			ex, _ := e.existing(m, ids)
			if len(ex) != len(ok) {
				return nil, AccessErrorf("Due to security restrictions, you are not allowed to access '%s' (%s) records.", m.Description, m.Name)
			}
		}
	}
	recs, err := e.load(m, ids, columnsFor(fields))
	if err != nil {
		return nil, err
	}
	return e.format(m, recs, fields, load != classicRead)
}

// classicRead is read()'s default load: many2one values as [id, name].
const classicRead = "_classic_read"

// loadArg is a load argument as read() compares it: only the string
// "_classic_read" names many2one values; None, False and any other value
// give bare ids.
func loadArg(a Args) string {
	s, _ := a.Get("load").(string)
	return s
}

// columnsFor is the stored fields to load to render fields: those fields,
// or every stored field when a non-stored computed one needs the others.
func columnsFor(fields []*Field) []*Field {
	for _, f := range fields {
		if !f.Stored() && f.Compute != nil {
			return nil
		}
	}
	return fields
}

// format renders loaded records. Relational values are fetched in one query
// per field for all records at once.
func (e *Env) format(m *Model, recs []*Record, fields []*Field, bareM2O bool) ([]*Dict, error) {
	out := make([]*Dict, len(recs))
	for i, r := range recs {
		d := NewDict(len(fields) + 1)
		d.Set("id", r.ID)
		out[i] = d
	}
	if len(recs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	rf := &recordFormat{su: e.Sudo(), user: e, m: m, recs: recs, ids: ids, out: out, bareM2O: bareM2O}
	for _, f := range fields {
		if f.Name == "id" {
			continue
		}
		if err := rf.field(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordFormat is one format call: the records, their ids, the dicts
// being filled (out[i] for recs[i]) and how to render many2one.
type recordFormat struct {
	su      *Env // lookups and computes run as superuser
	user    *Env // x2many values keep what the user's rules show
	m       *Model
	recs    []*Record
	ids     []int64
	out     []*Dict
	bareM2O bool
}

// field sets f in every dict, rendered by f's kind.
func (rf *recordFormat) field(f *Field) error {
	switch {
	case f.Secret:
		rf.secret(f)
		return nil
	case f.Type == Many2one:
		return rf.many2one(f)
	case f.Type == One2many || f.Type == Many2many:
		return rf.x2many(f)
	case f.Name == "display_name" && !f.Stored():
		return rf.displayName(f)
	case !f.Stored() && f.Compute != nil:
		return rf.computed(f)
	}
	rf.plain(f)
	return nil
}

// secret renders a write-only field as false: its value never leaves.
func (rf *recordFormat) secret(f *Field) {
	for _, d := range rf.out {
		d.Set(f.Name, false)
	}
}

// plain renders a loaded column in read format.
func (rf *recordFormat) plain(f *Field) {
	for i, r := range rf.recs {
		rf.out[i].Set(f.Name, f.toRead(r.vals[f.Name]))
	}
}

// many2one renders false, the bare id, or [id, display_name] with the
// names of all referenced records fetched at once.
func (rf *recordFormat) many2one(f *Field) error {
	var names map[int64]string
	if !rf.bareM2O {
		var refs []int64
		for _, r := range rf.recs {
			if id := r.Int(f.Name); id != 0 {
				refs = append(refs, id)
			}
		}
		var err error
		if names, err = rf.su.displayNames(rf.su.reg.Model(f.Relation), refs); err != nil {
			return err
		}
	}
	for i, r := range rf.recs {
		id := r.Int(f.Name)
		switch {
		case id == 0:
			rf.out[i].Set(f.Name, false)
		case rf.bareM2O:
			rf.out[i].Set(f.Name, id)
		default:
			rf.out[i].Set(f.Name, []any{id, names[id]})
		}
	}
	return nil
}

// x2many renders the related ids of every record, [] when none, from
// one query for all records.
func (rf *recordFormat) x2many(f *Field) error {
	rel, err := rf.su.x2manyIDs(f, rf.ids)
	if err == nil {
		rel, err = rf.user.visibleRel(f, rel)
	}
	if err != nil {
		return err
	}
	for i, r := range rf.recs {
		v := rel[r.ID]
		if v == nil {
			v = []int64{}
		}
		rf.out[i].Set(f.Name, v)
	}
	return nil
}

// displayName renders a non-stored display_name from the model's rec name,
// loading the name's columns when the read did not (display_name asked
// for alone): Odoo's display_name is name_get's value on every path.
func (rf *recordFormat) displayName(f *Field) error {
	var names map[int64]string
	var err error
	if rn := rf.m.Field(rf.m.RecName); rn == f || hasValue(rf.recs[0], rn.Name) {
		names, err = rf.su.displayNamesOf(rf.m, rf.recs)
	} else {
		names, err = rf.su.displayNames(rf.m, rf.ids)
	}
	if err != nil {
		return err
	}
	for i, r := range rf.recs {
		rf.out[i].Set(f.Name, names[r.ID])
	}
	return nil
}

// hasValue reports whether r was loaded with the column of name.
func hasValue(r *Record, name string) bool {
	_, ok := r.vals[name]
	return ok
}

// computed renders a non-stored computed field, calling its compute
// function per record.
func (rf *recordFormat) computed(f *Field) error {
	for i, r := range rf.recs {
		v, err := f.Compute(rf.su, r)
		if err != nil {
			return err
		}
		rf.out[i].Set(f.Name, f.toRead(v))
	}
	return nil
}

// displayNames returns the display name of each id of m.
func (e *Env) displayNames(m *Model, ids []int64) (map[int64]string, error) {
	if len(ids) == 0 {
		return map[int64]string{}, nil
	}
	recs, err := e.load(m, ids, e.nameFields(m))
	if err != nil {
		return nil, err
	}
	return e.displayNamesOf(m, recs)
}

// nameFields are the columns needed to render m's display name.
func (e *Env) nameFields(m *Model) []*Field {
	f := m.Field(m.RecName)
	if f.Stored() {
		return []*Field{f}
	}
	return m.StoredFields()
}

// displayNamesOf renders display names of loaded records: the rec name
// column when stored, its compute function otherwise.
func (e *Env) displayNamesOf(m *Model, recs []*Record) (map[int64]string, error) {
	out := make(map[int64]string, len(recs))
	f := m.Field(m.RecName)
	for _, r := range recs {
		if f.Stored() {
			if v, ok := r.vals[f.Name]; ok {
				s, _ := v.(string)
				out[r.ID] = s
				continue
			}
		}
		if f.Compute != nil {
			v, err := f.Compute(e, r)
			if err != nil {
				return nil, err
			}
			s, _ := v.(string)
			out[r.ID] = s
			continue
		}
		out[r.ID] = m.Name + "," + itoa(r.ID)
	}
	return out, nil
}

// x2manyIDs returns, for each id, the related ids of a one2many or
// many2many field, in the comodel's default order for one2many.
func (e *Env) x2manyIDs(f *Field, ids []int64) (map[int64][]int64, error) {
	co := e.reg.Model(f.Relation)
	type pair struct{ Own, Other int64 }
	var pairs []pair
	var q string
	if f.Type == One2many {
		ob, err := orderSQL(e, co, "t", "")
		if err != nil {
			return nil, err
		}
		q = `SELECT t.` + quote(f.InverseName) + ` AS own, t."id" AS other FROM ` + quote(co.Table) + ` t WHERE t.` + quote(f.InverseName) + ` IN ? ORDER BY ` + ob
	} else {
		own, other := m2mColumns(f)
		q = `SELECT ` + quote(own) + ` AS own, ` + quote(other) + ` AS other FROM ` + quote(f.RelTable) + ` WHERE ` + quote(own) + ` IN ?`
	}
	for _, chunk := range idChunks(ids) {
		var part []pair
		if err := e.DB().Raw(q, chunk).Scan(&part).Error; err != nil {
			return nil, Internal("read "+f.Name, err)
		}
		pairs = append(pairs, part...)
	}
	out := make(map[int64][]int64, len(ids))
	for _, p := range pairs {
		out[p.Own] = append(out[p.Own], p.Other)
	}
	if f.Type == Many2many {
		for _, v := range out {
			sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		}
	}
	return out, nil
}
