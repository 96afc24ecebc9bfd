package models

import (
	"sort"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// prepared is a validated set of values for one create or write.
type prepared struct {
	cols   map[string]any   // column -> DB parameter
	x2many map[*Field][]any // x2many field -> raw commands
	names  []string         // fields given, for recompute triggers
}

// prepareVals checks and converts client values. Fields that cannot be
// set (magic columns, computed or related fields) are ignored, as Odoo
// does; unknown fields are a ValueError.
func (e *Env) prepareVals(m *Model, vals map[string]any) (*prepared, error) {
	p := &prepared{cols: map[string]any{}, x2many: map[*Field][]any{}}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := vals[k]
		f := m.Field(k)
		if f == nil {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(k), py.Repr(m.Name))
		}
		if !e.IsSuperuser() {
			if err := e.checkFieldAccess(f); err != nil {
				return nil, err
			}
		}
		switch {
		case isMagic(k), f.Related != "", f.Compute != nil, f.Name == "display_name":
			continue
		case f.Type == One2many || f.Type == Many2many:
			cmds, ok := v.([]any)
			if !ok && !py.IsFalse(v) {
				return nil, ValueErrorf("Invalid value %s for %s.%s: expected a list of commands", py.Repr(v), m.Name, k)
			}
			p.x2many[f] = cmds
		default:
			dv, err := f.toDB(e.Dialect(), v)
			if err != nil {
				return nil, err
			}
			if f.Type == Many2one && dv == int64(0) {
				dv = nil // id 0 is no record, as in Odoo (and as Bulk stores it)
			}
			if f.Encrypted {
				if dv, err = e.reg.seal(f, dv); err != nil {
					return nil, err
				}
			}
			p.cols[k] = dv
		}
		p.names = append(p.names, k)
	}
	return p, nil
}

func isMagic(name string) bool {
	switch name {
	case "id", "create_uid", "create_date", "write_uid", "write_date":
		return true
	}
	return false
}

// create checks access and creates one record per vals dict.
func (e *Env) create(m *Model, valsList []map[string]any) ([]int64, error) {
	if err := e.checkAccess(m, OpCreate); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(valsList))
	for _, vals := range valsList {
		id, err := e.insert(m, vals)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// insert creates one record without the model access check: defaults,
// conversion, required fields, x2many commands, computed fields and
// constraints all apply.
func (e *Env) insert(m *Model, vals map[string]any) (int64, error) {
	e.touch(m)
	vals = copyVals(vals)
	for _, f := range m.Fields {
		if _, given := vals[f.Name]; given {
			continue
		}
		// A default_<field> context key wins over the declared default,
		// as in Odoo's create (and default_get).
		if v, ok := e.Context["default_"+f.Name]; ok {
			vals[f.Name] = v
		} else if f.Default != nil {
			vals[f.Name] = f.Default(e)
		}
	}
	if m.Prepare != nil {
		if err := m.Prepare(e, vals, true); err != nil {
			return 0, err
		}
	}
	p, err := e.prepareVals(m, vals)
	if err != nil {
		return 0, err
	}
	for _, f := range m.StoredFields() {
		if !f.Required || f.Related != "" || f.Compute != nil || isMagic(f.Name) {
			continue
		}
		if v := p.cols[f.Name]; v == nil || v == "" {
			return 0, ValidationErrorf("Missing required value for the field '%s' (%s)", f.label(), f.Name)
		}
	}
	now := e.Dialect().dbDatetime(time.Now())
	p.cols["create_date"], p.cols["write_date"] = now, now
	if e.UID > 0 {
		p.cols["create_uid"], p.cols["write_uid"] = e.UID, e.UID
	}
	cols := make([]string, 0, len(p.cols))
	for c := range p.cols {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	quoted := make([]string, len(cols))
	args := make([]any, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i], args[i], marks[i] = quote(c), p.cols[c], "?"
	}
	var id int64
	q := `INSERT INTO ` + quote(m.Table) + ` (` + strings.Join(quoted, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `) RETURNING "id"`
	if err := e.DB().Raw(q, args...).Scan(&id).Error; err != nil {
		if ie := integrityError(err, "create"); ie != nil {
			return 0, ie
		}
		return 0, Internal("create "+m.Name, err)
	}
	if err := e.applyX2many(m, id, p.x2many); err != nil {
		return 0, err
	}
	if err := e.afterChange(m, []int64{id}, nil); err != nil {
		return 0, err
	}
	if err := e.createdDependents(m, id, len(p.x2many) > 0); err != nil {
		return 0, err
	}
	return id, nil
}

// execCleanup runs a cleanup statement on behalf of a model's unlink.
func (e *Env) execCleanup(q string, ids []int64) error {
	if err := e.DB().Exec(q, ids).Error; err != nil {
		return Internal("cleanup", err)
	}
	return nil
}

// touch records that m is about to change; users, groups and API keys
// invalidate the credential cache (also when the change rolls back, which
// only costs a cache miss) and, once committed, tell the bus that rights
// changed (noteAccessChange).
func (e *Env) touch(m *Model) {
	if m.InvalidatesAuth {
		e.reg.auth.invalidate()
		e.noteAccessChange()
	}
}

func copyVals(v map[string]any) map[string]any {
	out := make(map[string]any, len(v)+8)
	for k, x := range v {
		out[k] = x
	}
	return out
}

// write updates ids with vals after access, existence and rule checks.
func (e *Env) write(m *Model, ids []int64, vals map[string]any) error {
	if err := e.checkAccess(m, OpWrite); err != nil {
		return err
	}
	if err := e.checkRecords(m, ids, OpWrite); err != nil {
		return err
	}
	if err := e.checkConcurrency(m, ids); err != nil {
		return err
	}
	return e.update(m, ids, vals)
}

// update writes without the access checks.
func (e *Env) update(m *Model, ids []int64, vals map[string]any) error {
	if len(ids) == 0 {
		return nil
	}
	e.touch(m)
	vals = copyVals(vals)
	if m.Prepare != nil {
		if err := m.Prepare(e, vals, false); err != nil {
			return err
		}
	}
	p, err := e.prepareVals(m, vals)
	if err != nil {
		return err
	}
	for _, f := range m.StoredFields() {
		if v, given := p.cols[f.Name]; given && f.Required && (v == nil || v == "") {
			return ValidationErrorf("Missing required value for the field '%s' (%s)", f.label(), f.Name)
		}
	}
	clear, err := e.clearOnChange(m, ids, p)
	if err != nil {
		return err
	}
	// Those reaching ids through a one2many before the write (the
	// order a line leaves) are found after it no more.
	before, err := e.dependents(m, ids, namesSet(p.names), true)
	if err != nil {
		return err
	}
	p.cols["write_date"] = e.Dialect().dbDatetime(time.Now())
	if e.UID > 0 {
		p.cols["write_uid"] = e.UID
	}
	if err := e.setColumns(m, ids, p.cols); err != nil {
		return err
	}
	cleared, err := e.applyClears(m, clear)
	if err != nil {
		return err
	}
	p.names = append(p.names, cleared...)
	for _, id := range ids {
		if err := e.applyX2many(m, id, p.x2many); err != nil {
			return err
		}
	}
	if err := e.afterChange(m, ids, p.names); err != nil {
		return err
	}
	return e.recomputeDependents(before, 1)
}

func namesSet(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// setColumns runs one UPDATE of cols on ids.
func (e *Env) setColumns(m *Model, ids []int64, cols map[string]any) error {
	_, err := e.updateColumns(m, ids, cols)
	return err
}

// updateColumns runs one UPDATE of cols (column -> DB parameter) on ids
// and returns how many rows it changed.
func (e *Env) updateColumns(m *Model, ids []int64, cols map[string]any) (int64, error) {
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	sort.Strings(names)
	sets := make([]string, len(names))
	args := make([]any, 0, len(names)+1)
	for i, c := range names {
		sets[i] = quote(c) + " = ?"
		args = append(args, cols[c])
	}
	var changed int64
	for _, chunk := range idChunks(uniqueIDs(ids)) {
		res := e.DB().Exec(`UPDATE `+quote(m.Table)+` SET `+strings.Join(sets, ", ")+` WHERE "id" IN ?`, append(args, chunk)...)
		if res.Error != nil {
			if ie := integrityError(res.Error, "write"); ie != nil {
				return 0, ie
			}
			return 0, Internal("write "+m.Name, res.Error)
		}
		changed += res.RowsAffected
	}
	return changed, nil
}

// unlink deletes ids after access, existence and rule checks.
func (e *Env) unlink(m *Model, ids []int64) error {
	// As Odoo 16: an empty set is done before any check, and ids already
	// deleted are ignored (check_access_rule does not warn about them);
	// rights and record rules apply to the records that exist.
	if len(ids) == 0 {
		return nil
	}
	if err := e.checkAccess(m, OpUnlink); err != nil {
		return err
	}
	ids, err := e.existing(m, ids)
	if err != nil || len(ids) == 0 {
		return err
	}
	if err := e.checkRecords(m, ids, OpUnlink); err != nil {
		return err
	}
	if err := e.checkConcurrency(m, ids); err != nil {
		return err
	}
	if err := e.checkRestrict(m, ids); err != nil {
		return err
	}
	e.touch(m)
	if m.BeforeUnlink != nil {
		if err := m.BeforeUnlink(e, ids); err != nil {
			return err
		}
	}
	if m.Changed != nil {
		// Told before the rows go, so it can still read them.
		m.Changed(e, ids, nil, true)
	}
	// Found before the rows go: after, the foreign keys pointing at them
	// are NULL (or their rows gone too), as Odoo's unlink marks them
	// modified first.
	deps, err := e.dependents(m, ids, nil, false)
	if err != nil {
		return err
	}
	for _, chunk := range idChunks(uniqueIDs(ids)) {
		if err := e.DB().Exec(`DELETE FROM `+quote(m.Table)+` WHERE "id" IN ?`, chunk).Error; err != nil {
			if ie := integrityError(err, "unlink"); ie != nil {
				return ie
			}
			return Internal("unlink "+m.Name, err)
		}
	}
	return e.recomputeDependents(deps, 1)
}
