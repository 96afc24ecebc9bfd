package models

import "time"

// describe returns fields_get's attribute dict of f, in Odoo's key order.
func (f *Field) describe(env *Env) *Dict {
	d := NewDict(16)
	d.Set("type", string(f.Type))
	d.Set("string", f.label())
	if f.Help != "" {
		d.Set("help", f.Help)
	}
	d.Set("required", f.Required)
	d.Set("readonly", f.Readonly || isMagic(f.Name) || (f.Compute != nil || f.Related != "" || f.Name == "display_name"))
	d.Set("store", f.Stored())
	d.Set("searchable", f.Stored() || f.Name == "display_name")
	d.Set("sortable", f.Stored())
	d.Set("manual", false)
	d.Set("depends", append([]string{}, f.depends()...))
	if f.Related != "" {
		d.Set("related", f.Related)
	}
	d.Set("company_dependent", false)
	d.Set("change_default", false)
	d.Set("exportable", !f.Secret)
	// Odoo's field parameter default_export_compatible (False unless a
	// field sets it): no field of ours is exported by default in an
	// import-compatible export.
	d.Set("default_export_compatible", false)
	if len(f.Groups) > 0 {
		d.Set("groups", joinComma(f.Groups))
	}
	switch f.Type {
	case Many2one, One2many, Many2many:
		d.Set("relation", f.Relation)
		d.Set("domain", []any{})
		d.Set("context", map[string]any{})
		if f.Type == One2many {
			d.Set("relation_field", f.InverseName)
		}
		if f.Type == Many2one && f.OnDelete != "" {
			d.Set("ondelete", f.OnDelete)
		}
	case Selection:
		sel := make([]any, len(f.Selection))
		for i, c := range f.Selection {
			sel[i] = []any{c.Value, c.Label}
		}
		d.Set("selection", sel)
	case Char:
		if f.Size > 0 {
			d.Set("size", int64(f.Size))
		}
		d.Set("trim", true)
		d.Set("translate", false)
	case Text:
		d.Set("translate", false)
	case Float:
		d.Set("group_operator", "sum")
	case Integer:
		if f.Name != "id" {
			d.Set("group_operator", "sum")
		}
	case Binary:
		d.Set("attachment", false)
	}
	d.Set("name", f.Name)
	return d
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// methodFieldsGet implements fields_get: attributes=None gives all
// attributes, attributes=[] gives empty dicts (Odoo applies the filter
// literally), allfields limits the fields. Fields the user may not see
// are omitted.
func methodFieldsGet(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	if err := env.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	var only map[string]bool
	if names, err := namesArg(a, "allfields"); err != nil {
		return nil, err
	} else if len(names) > 0 {
		only = map[string]bool{}
		for _, n := range names {
			only[n] = true
		}
	}
	var attrs map[string]bool
	if v := a.Get("attributes"); v != nil {
		names, err := namesArg(a, "attributes")
		if err != nil {
			return nil, err
		}
		attrs = map[string]bool{}
		for _, n := range names {
			attrs[n] = true
		}
	}
	out := NewDict(len(m.Fields))
	for _, f := range m.Fields {
		if (only != nil && !only[f.Name]) || !env.hasAnyGroup(f.Groups) {
			continue
		}
		desc := f.describe(env)
		if attrs != nil {
			filtered := NewDict(len(attrs))
			desc.Range(func(k string, v any) bool {
				if attrs[k] {
					filtered.Set(k, v)
				}
				return true
			})
			desc = filtered
		}
		out.Set(f.Name, desc)
	}
	return out, nil
}

func methodFieldsGetKeys(env *Env, _ []int64, _ Args) (any, error) {
	m := env.CurrentModel()
	out := make([]string, 0, len(m.Fields))
	for _, f := range m.Fields {
		if env.hasAnyGroup(f.Groups) {
			out = append(out, f.Name)
		}
	}
	return out, nil
}

// methodDefaultGet returns the defaults of the requested fields that have
// one, in write format (many2one as a bare id), plus default_<field>
// context keys as Odoo honours them.
func methodDefaultGet(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	names, err := namesArg(a, "fields_list")
	if err != nil {
		return nil, err
	}
	out := NewDict(len(names))
	for _, n := range names {
		f := m.Field(n)
		if f == nil {
			continue
		}
		if v, ok := env.Context["default_"+n]; ok {
			out.Set(n, v)
			continue
		}
		if f.Default == nil || f.Secret {
			continue
		}
		v := f.Default(env)
		switch x := v.(type) {
		case time.Time:
			v = x.UTC().Format(DatetimeFormat)
		case nil:
			v = false
		}
		out.Set(n, v)
	}
	return out, nil
}

// methodCopy duplicates one record: stored values except NoCopy and magic
// fields, overridden by default, through the normal create path.
func methodCopy(env *Env, ids []int64, a Args) (any, error) {
	m := env.CurrentModel()
	if len(ids) != 1 {
		return nil, ExpectedSingleton(m.Name, ids)
	}
	if err := env.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	if err := env.checkVisible(m, ids, OpRead); err != nil {
		return nil, err
	}
	recs, err := env.load(m, ids, nil)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, MissingErrorf("Record does not exist or has been deleted.\n(Record: %s(%s), User: %d)", m.Name, idsRepr(ids), env.UID)
	}
	vals := map[string]any{}
	for _, f := range m.StoredFields() {
		if f.NoCopy || isMagic(f.Name) || f.Compute != nil || f.Related != "" || f.Secret {
			continue
		}
		v := recs[0].vals[f.Name]
		switch x := v.(type) {
		case time.Time:
			v = x.Format(DatetimeFormat)
		case []byte:
			v = f.toRead(x)
		case nil:
			v = false
		}
		vals[f.Name] = v
	}
	for _, f := range m.Fields {
		if f.Type == Many2many && !f.NoCopy {
			rel, err := env.x2manyIDs(f, ids)
			if err == nil {
				rel, err = env.visibleRel(f, rel) // as read shows them to the user
			}
			if err != nil {
				return nil, err
			}
			vals[f.Name] = []any{[]any{int64(6), int64(0), toAnyIDs(rel[ids[0]])}}
		}
	}
	if d, ok := a.Get("default").(map[string]any); ok {
		for k, v := range d {
			vals[k] = v
		}
	}
	for _, f := range m.Fields {
		if _, given := vals[f.Name]; !given && f.NoCopy && f.Default != nil {
			vals[f.Name] = f.Default(env)
		}
	}
	newIDs, err := env.create(m, []map[string]any{vals})
	if err != nil {
		return nil, err
	}
	return newIDs[0], nil
}

func methodGetMetadata(env *Env, ids []int64, _ Args) (any, error) {
	m := env.CurrentModel()
	recs, err := env.read(m, ids, []string{"create_uid", "create_date", "write_uid", "write_date"}, "_classic_read")
	if err != nil {
		return nil, err
	}
	for _, d := range recs {
		d.Set("xmlid", false)
		d.Set("xmlids", []any{})
		d.Set("noupdate", false)
	}
	return recs, nil
}
