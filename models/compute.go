package models

import "strings"

// trigger says: when field Field of some model changes, recompute the
// stored computed fields of Model reached through Path (a relational path
// from Model to the changed model).
type trigger struct {
	Model *Model
	Path  string
	// Reverse: the path crosses a one2many or many2many, so which records
	// depend on a record changes with the record itself (a line moved to
	// another order, or deleted): its dependents are also looked up before
	// a write, not only after.
	Reverse bool
}

// buildTriggers indexes the dotted dependencies of stored computed and
// related fields by the field they depend on ("res.partner.name").
func (r *Registry) buildTriggers() {
	r.triggers, r.triggered = map[string][]trigger{}, map[string]bool{}
	for _, m := range r.Models() {
		for _, f := range m.Fields {
			if !f.Stored() || (f.Compute == nil && f.Related == "") {
				continue
			}
			for _, dep := range f.depends() {
				parts := strings.Split(dep, ".")
				cur, reverse := m, false
				for i := 0; i < len(parts)-1; i++ {
					hop := cur.Field(parts[i])
					if hop == nil || !hop.IsRelational() {
						break
					}
					reverse = reverse || hop.Type != Many2one
					cur = r.models[hop.Relation]
					t := trigger{Model: m, Path: strings.Join(parts[:i+1], "."), Reverse: reverse}
					r.addTrigger(cur.Name+"."+parts[i+1], t)
					if hop.Type == One2many {
						// Which lines an order has is their inverse field.
						r.addTrigger(cur.Name+"."+hop.InverseName, t)
					}
					r.triggered[cur.Name] = true
				}
			}
		}
	}
}

func (r *Registry) addTrigger(key string, t trigger) {
	for _, x := range r.triggers[key] {
		if x == t {
			return
		}
	}
	r.triggers[key] = append(r.triggers[key], t)
}

// depends lists what a stored computed field depends on; a related field
// depends on its path.
func (f *Field) depends() []string {
	if f.Related != "" {
		return []string{f.Related}
	}
	return f.Depends
}

// dependsOn reports whether f must be recomputed when one of names changed
// on its own record.
func (f *Field) dependsOn(names map[string]bool) bool {
	for _, dep := range f.depends() {
		first, _, _ := strings.Cut(dep, ".")
		if names[first] {
			return true
		}
	}
	return false
}

// afterChange recomputes what depends on the given fields of ids (every
// computed field when names is nil: a create), propagates to dependent
// records of other models, and runs the model's constraints.
func (e *Env) afterChange(m *Model, ids []int64, names []string) error {
	if err := e.recompute(m, ids, names, 0, true); err != nil {
		return err
	}
	if m.Changed != nil {
		m.Changed(e, ids, names, false)
	}
	return nil
}

func (e *Env) recompute(m *Model, ids []int64, names []string, depth int, constrain bool) error {
	if depth > 8 || len(ids) == 0 {
		return nil
	}
	su := e.Sudo()
	changed := namesSet(names)
	// Fields are visited in declaration order and each recomputed field
	// counts as changed, so a chain (related topic -> display_name) settles
	// in one pass.
	var todo []*Field
	for _, f := range m.Fields {
		if f.Stored() && (f.Compute != nil || f.Related != "") && (names == nil || f.dependsOn(changed)) {
			todo = append(todo, f)
			changed[f.Name] = true
		}
	}
	var recs []*Record
	if len(todo) > 0 || (constrain && len(m.Constraints) > 0) {
		var err error
		if recs, err = su.load(m, ids, nil); err != nil {
			return err
		}
	}
	for _, r := range recs {
		cols := map[string]any{}
		for _, f := range todo {
			v, err := su.computeValue(f, r)
			if err != nil {
				return err
			}
			dv, err := f.toDB(e.Dialect(), v)
			if err != nil {
				return err
			}
			r.vals[f.Name] = f.normalizeDB(dv)
			cols[f.Name] = dv
		}
		if len(cols) > 0 {
			if err := su.setColumns(m, []int64{r.ID}, cols); err != nil {
				return err
			}
		}
	}
	if constrain {
		for _, c := range m.Constraints {
			if err := c(e, recs); err != nil {
				return err
			}
		}
	}
	if names == nil {
		// A create: insert looks up its dependents (createdDependents).
		return nil
	}
	deps, err := e.dependents(m, ids, changed, false)
	if err != nil {
		return err
	}
	return e.recomputeDependents(deps, depth+1)
}

// createdDependents recomputes what depends on a record just created:
// the records reaching it through a one2many (the order of a new line)
// and, when its create ran x2many commands (nested), also those it
// created pointing back at it (lines of a (0, 0, vals), created before
// its own computed fields were stored). Any other record cannot point at
// a new id yet, so the many2one triggers are not looked up otherwise: a
// create stays one insert where nothing depends on it through a one2many.
func (e *Env) createdDependents(m *Model, id int64, nested bool) error {
	deps, err := e.dependents(m, []int64{id}, nil, !nested)
	if err != nil {
		return err
	}
	return e.recomputeDependents(deps, 1)
}

// dependent is a set of records whose stored computed fields reached
// through a trigger's path must be recomputed.
type dependent struct {
	t   trigger
	ids []int64
}

// dependents finds the records depending on the fields names of ids
// (every field when names is nil), through the reverse triggers only
// when onlyReverse.
func (e *Env) dependents(m *Model, ids []int64, names map[string]bool, onlyReverse bool) ([]dependent, error) {
	if len(ids) == 0 || !e.reg.triggered[m.Name] {
		return nil, nil
	}
	var keys []string
	if names == nil {
		for _, f := range m.StoredFields() {
			keys = append(keys, f.Name)
		}
	} else {
		for n := range names {
			keys = append(keys, n)
		}
	}
	inactive := e.Sudo().WithContext(map[string]any{"active_test": false})
	seen := map[trigger]bool{}
	var out []dependent
	for _, name := range keys {
		for _, t := range e.reg.triggers[m.Name+"."+name] {
			if seen[t] || (onlyReverse && !t.Reverse) {
				continue
			}
			seen[t] = true
			dep, err := inactive.search(t.Model, []any{[]any{t.Path, "in", toAnyIDs(ids)}}, 0, 0, "id")
			if err != nil {
				return nil, err
			}
			if len(dep) > 0 {
				out = append(out, dependent{t: t, ids: dep})
			}
		}
	}
	return out, nil
}

// recomputeDependents recomputes, on the dependents that still exist,
// the fields that depend on their path's first hop.
func (e *Env) recomputeDependents(deps []dependent, depth int) error {
	for _, d := range deps {
		ids, err := e.Sudo().existing(d.t.Model, d.ids)
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(d.t.Path, ".")
		if err := e.recompute(d.t.Model, ids, []string{first}, depth, false); err != nil {
			return err
		}
	}
	return nil
}

// computeValue evaluates a stored computed or related field on a record.
// Related paths are followed as superuser, like Odoo's related fields.
func (e *Env) computeValue(f *Field, r *Record) (any, error) {
	if f.Related == "" {
		return f.Compute(e, r)
	}
	parts := strings.Split(f.Related, ".")
	cur := r
	for i, p := range parts {
		if i == len(parts)-1 {
			return cur.vals[p], nil
		}
		id := cur.Int(p)
		if id == 0 {
			return nil, nil
		}
		co := e.reg.Model(cur.Model.Field(p).Relation)
		recs, err := e.load(co, []int64{id}, nil)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		cur = recs[0]
	}
	return nil, nil
}
