package models

import (
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// export_data as Odoo 16's models.py has it (export_data, _export_rows):
// what the web client's Export dialog and scripts call to get a matrix
// of exported values. Values keep Odoo's export formats: many2one as the
// display name, selections as their label, booleans and numbers raw,
// empty values as "", datetimes in the user's time zone; an x2many path
// adds a row per related record after the record's own.

func init() {
	genericMethods["export_data"] = &Method{Kind: RecordLevel, ReadOnly: true, Fn: methodExportData,
		Params: []Param{{Name: "fields_to_export"}}}
}

func methodExportData(env *Env, ids []int64, a Args) (any, error) {
	names, err := namesArg(a, "fields_to_export")
	if err != nil {
		return nil, err
	}
	rows, err := env.ExportRows(env.CurrentModel(), ids, names)
	if err != nil {
		return nil, err
	}
	d := NewDict(1)
	d.Set("datas", rows)
	return d, nil
}

// ExportRows is export_data's matrix for ids and the field paths names
// ("broker_id/name", ".id", "id"), with the read access and record rules
// of the env's user on every model the paths cross. The context's
// import_compat (default true, as in Odoo) exports a many2many in one
// cell, its names joined by commas.
func (e *Env) ExportRows(m *Model, ids []int64, names []string) ([][]any, error) {
	if err := e.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	// Odoo raises MissingError on a deleted record; read() would just
	// leave it out.
	if err := e.checkRecords(m, ids, OpRead); err != nil {
		return nil, err
	}
	paths := make([][]string, len(names))
	for i, n := range names {
		paths[i] = exportPath(n)
	}
	x := &exporter{env: e, importCompat: e.ctxBool("import_compat", true)}
	return x.rows(m, ids, paths)
}

// exportPath is Odoo's fix_import_export_id_paths then split: "a.id" and
// "a:id" are the old spellings of "a/.id" and "a/id".
func exportPath(name string) []string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if i > 0 && name[i-1] != '/' && (strings.HasPrefix(name[i:], ".id") || strings.HasPrefix(name[i:], ":id")) {
			b.WriteByte('/')
			if name[i] == ':' {
				b.WriteString("id")
				i += 2
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return strings.Split(b.String(), "/")
}

// exporter holds what one export_data call shares across its recursion.
type exporter struct {
	env          *Env
	importCompat bool
	tz           *time.Location // the user's, loaded on the first datetime
}

// rows is _export_rows: one line per record, then the extra lines of its
// x2many values.
func (x *exporter) rows(m *Model, ids []int64, paths [][]string) ([][]any, error) {
	var names []string
	seen := map[string]bool{}
	for _, p := range paths {
		if len(p) == 0 || p[0] == ".id" || p[0] == "id" || seen[p[0]] {
			continue
		}
		if m.Field(p[0]) == nil {
			// record._fields[name] in Odoo.
			return nil, KeyErrorf("%s", py.Repr(p[0]))
		}
		seen[p[0]] = true
		names = append(names, p[0])
	}
	if len(ids) == 0 {
		return [][]any{}, nil
	}
	if len(names) == 0 {
		// read() with no names reads every field; check access alone.
		names = []string{"id"}
	}
	recs, err := x.env.read(m, ids, names, "")
	if err != nil {
		return nil, err
	}
	var out [][]any
	for _, rec := range recs {
		id, _ := rec.Get("id")
		current := make([]any, len(paths))
		for i := range current {
			current[i] = ""
		}
		out = append(out, current)
		done := map[string]bool{}
		for i, p := range paths {
			if len(p) == 0 || done[p[0]] {
				continue
			}
			name := p[0]
			switch name {
			case ".id":
				current[i] = strconv.FormatInt(id.(int64), 10)
				continue
			case "id":
				current[i] = externalID(m, id.(int64))
				continue
			}
			f := m.Field(name)
			v, _ := rec.Get(name)
			if !f.IsRelational() {
				if current[i], err = x.value(f, v); err != nil {
					return nil, err
				}
				continue
			}
			done[name] = true
			sub := make([][]string, len(paths))
			for j, q := range paths {
				if len(q) > 0 && q[0] == name {
					sub[j] = q[1:]
					if len(sub[j]) == 0 {
						sub[j] = []string{"display_name"}
					}
				}
			}
			rel := relatedIDs(v)
			co := x.env.reg.Model(f.Relation)
			if x.importCompat && f.Type == Many2many {
				if err := x.many2manyCell(co, rel, sub, i, current); err != nil {
					return nil, err
				}
				continue
			}
			lines, err := x.rows(co, rel, sub)
			if err != nil {
				return nil, err
			}
			if len(lines) == 0 {
				current[i] = ""
				continue
			}
			for j, val := range lines[0] {
				if s, ok := val.(string); !ok || s != "" {
					current[j] = val
				}
			}
			out = append(out, lines[1:]...)
		}
	}
	return out, nil
}

// many2manyCell puts a many2many in one cell, import-compatible: the
// column of its first "id", "name" or "display_name" subpath (the field's
// own column otherwise), external ids or display names joined by commas.
func (x *exporter) many2manyCell(co *Model, rel []int64, sub [][]string, i int, current []any) error {
	index, kind := i, ""
	for _, k := range []string{"id", "name", "display_name"} {
		for j, q := range sub {
			if len(q) == 1 && q[0] == k {
				index, kind = j, k
				break
			}
		}
		if kind != "" {
			break
		}
	}
	parts := make([]string, 0, len(rel))
	if kind == "id" {
		for _, id := range rel {
			parts = append(parts, externalID(co, id))
		}
	} else {
		recs, err := x.env.read(co, rel, []string{"display_name"}, "")
		if err != nil {
			return err
		}
		for _, r := range recs {
			s, _ := r.Get("display_name")
			name, _ := s.(string)
			parts = append(parts, name)
		}
	}
	current[index] = strings.Join(parts, ",")
	return nil
}

// externalID is a record's external id. We keep no ir.model.data, so
// there is none to find and none is created: Odoo would create
// "__export__.<table>_<id>_<8 hex>"; we answer the same name without the
// random suffix, stable across exports.
func externalID(m *Model, id int64) string {
	return "__export__." + m.Table + "_" + strconv.FormatInt(id, 10)
}

// relatedIDs are the ids of a relational value in read format with bare
// many2one ids.
func relatedIDs(v any) []int64 {
	switch t := v.(type) {
	case int64:
		return []int64{t}
	case []int64:
		return t
	}
	return nil
}

// value is Field.convert_to_export of a read-format value: booleans and
// numbers as they are (0 too), a selection's label, a datetime in the
// user's time zone, anything empty as "".
func (x *exporter) value(f *Field, v any) (any, error) {
	switch f.Type {
	case Boolean, Integer, Float:
		return v, nil
	}
	if py.IsFalse(v) {
		return "", nil
	}
	switch f.Type {
	case Selection:
		s, _ := v.(string)
		for _, c := range f.Selection {
			if c.Value == s {
				return c.Label, nil
			}
		}
		return "", nil
	case Datetime:
		s, _ := v.(string)
		t, err := time.ParseInLocation(DatetimeFormat, s, time.UTC)
		if err != nil {
			return s, nil
		}
		loc, err := x.location()
		if err != nil {
			return nil, err
		}
		return t.In(loc).Format(DatetimeFormat), nil
	}
	return v, nil
}

// location is the time zone of the context, else the user's (Odoo's
// context_timestamp), UTC when neither names a known one.
func (x *exporter) location() (*time.Location, error) {
	if x.tz != nil {
		return x.tz, nil
	}
	name, _ := x.env.Context["tz"].(string)
	if name == "" {
		uc, err := x.env.reg.UserContext(x.env.Ctx, x.env.UID)
		if err != nil {
			return nil, err
		}
		name, _ = uc["tz"].(string)
	}
	x.tz = time.UTC
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			x.tz = loc
		}
	}
	return x.tz, nil
}
