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

// applyX2many runs Odoo's x2many commands for one record:
// (0,0,v) create, (1,id,v) update, (2,id) delete, (3,id) unlink,
// (4,id) link, (5,) clear, (6,0,ids) replace.
func (e *Env) applyX2many(m *Model, id int64, cmds map[*Field][]any) error {
	for f, list := range cmds {
		co := e.reg.Model(f.Relation)
		for _, raw := range list {
			cmd, err := parseX2manyCmd(m, f, raw)
			if err != nil {
				return err
			}
			if err := e.runX2manyCmd(m, f, co, id, cmd); err != nil {
				return err
			}
		}
	}
	return nil
}

// x2manyCmd is one parsed x2many command: its code, the record id in
// its second place (0 when absent or not an id), and the raw tuple.
type x2manyCmd struct {
	code   int64
	target int64
	raw    []any
}

// arg returns the command's item i, nil past its end.
func (c x2manyCmd) arg(i int) any {
	if i < len(c.raw) {
		return c.raw[i]
	}
	return nil
}

// parseX2manyCmd checks a command's shape (a non-empty list), its code
// (an integer) and, for codes 1 to 4, that it names a record.
func parseX2manyCmd(m *Model, f *Field, raw any) (x2manyCmd, error) {
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return x2manyCmd{}, ValueErrorf("Invalid command %s for %s.%s", py.Repr(raw), m.Name, f.Name)
	}
	code, ok := py.Int(list[0])
	if !ok {
		return x2manyCmd{}, ValueErrorf("Invalid command %s for %s.%s", py.Repr(raw), m.Name, f.Name)
	}
	cmd := x2manyCmd{code: code, raw: list}
	cmd.target, _ = py.Int(cmd.arg(1))
	if (code >= 1 && code <= 4) && cmd.target == 0 {
		return x2manyCmd{}, ValueErrorf("Command %d on %s.%s needs a record id", code, m.Name, f.Name)
	}
	return cmd, nil
}

// runX2manyCmd carries out one parsed command on record id's field f,
// whose comodel is co.
func (e *Env) runX2manyCmd(m *Model, f *Field, co *Model, id int64, cmd x2manyCmd) error {
	switch cmd.code {
	case 0:
		return e.x2manyCreate(m, f, co, id, cmd)
	case 1:
		vals, ok := cmd.arg(2).(map[string]any)
		if !ok {
			return ValueErrorf("Command 1 on %s.%s needs a dict of values", m.Name, f.Name)
		}
		return e.write(co, []int64{cmd.target}, vals)
	case 2:
		return e.unlink(co, []int64{cmd.target})
	case 3:
		return e.x2manyDetach(f, co, id, cmd.target)
	case 4:
		return e.x2manyAttach(f, co, id, cmd.target)
	case 5:
		return e.clearRel(f, id)
	case 6:
		return e.x2manyReplace(f, co, id, cmd.arg(2))
	}
	return ValueErrorf("Unknown x2many command %d for %s.%s", cmd.code, m.Name, f.Name)
}

// x2manyCreate runs (0, 0, vals): a new comodel record, pointing back at
// id (one2many) or linked to it (many2many).
func (e *Env) x2manyCreate(m *Model, f *Field, co *Model, id int64, cmd x2manyCmd) error {
	vals, ok := cmd.arg(2).(map[string]any)
	if !ok {
		return ValueErrorf("Command 0 on %s.%s needs a dict of values", m.Name, f.Name)
	}
	vals = copyVals(vals)
	if f.Type == One2many {
		vals[f.InverseName] = id
	}
	nid, err := e.createAs(co, vals)
	if err == nil && f.Type == Many2many {
		err = e.link(f, id, nid)
	}
	return err
}

// x2manyDetach runs (3, target): a one2many child loses its parent, a
// many2many link is removed; the target record stays.
func (e *Env) x2manyDetach(f *Field, co *Model, id, target int64) error {
	if f.Type == One2many {
		return e.dropChildren(f, co, []int64{target})
	}
	return e.unlinkRel(f, id, []int64{target})
}

// dropChildren takes one2many children away from their parent: deleted
// when their inverse many2one cascades (a line cannot live without its
// order), else their inverse emptied, as Odoo's One2many does.
func (e *Env) dropChildren(f *Field, co *Model, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if inv := co.Field(f.InverseName); inv != nil && inv.OnDelete == "cascade" {
		return e.unlink(co, ids)
	}
	return e.write(co, ids, map[string]any{f.InverseName: false})
}

// x2manyAttach runs (4, target): a one2many child gets id as parent, a
// many2many gets a link.
func (e *Env) x2manyAttach(f *Field, co *Model, id, target int64) error {
	if f.Type == One2many {
		return e.write(co, []int64{target}, map[string]any{f.InverseName: id})
	}
	return e.link(f, id, target)
}

// x2manyReplace runs (6, 0, ids): clear, then attach each of ids (a
// malformed ids list is reported once the clear has run).
func (e *Env) x2manyReplace(f *Field, co *Model, id int64, idsRaw any) error {
	ids, err := idsArg(idsRaw)
	if f.Type == One2many && err == nil {
		// Only the children left out go: the others stay attached
		// (deleting and re-attaching a cascading line is not possible).
		if err := e.dropOtherChildren(f, co, id, ids); err != nil {
			return err
		}
	} else if err := e.clearRel(f, id); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	for _, t := range uniqueIDs(ids) {
		if err := e.x2manyAttach(f, co, id, t); err != nil {
			return err
		}
	}
	return nil
}

// createAs creates a comodel record with that model's access check.
func (e *Env) createAs(m *Model, vals map[string]any) (int64, error) {
	ids, err := e.create(m, []map[string]any{vals})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func (e *Env) link(f *Field, id, target int64) error {
	co := e.reg.Model(f.Relation)
	if err := e.checkRecords(co, []int64{target}, OpRead); err != nil {
		return err
	}
	own, other := m2mColumns(f)
	var n int64
	if err := e.DB().Raw(`SELECT COUNT(*) FROM `+quote(f.RelTable)+` WHERE `+quote(own)+` = ? AND `+quote(other)+` = ?`, id, target).Scan(&n).Error; err != nil {
		return Internal("link "+f.Name, err)
	}
	if n > 0 {
		return nil
	}
	if err := e.DB().Exec(`INSERT INTO `+quote(f.RelTable)+` (`+quote(own)+`, `+quote(other)+`) VALUES (?, ?)`, id, target).Error; err != nil {
		return Internal("link "+f.Name, err)
	}
	return nil
}

func (e *Env) unlinkRel(f *Field, id int64, targets []int64) error {
	own, other := m2mColumns(f)
	for _, chunk := range idChunks(targets) {
		if err := e.DB().Exec(`DELETE FROM `+quote(f.RelTable)+` WHERE `+quote(own)+` = ? AND `+quote(other)+` IN ?`, id, chunk).Error; err != nil {
			return Internal("unlink relation "+f.Name, err)
		}
	}
	return nil
}

// clearRel removes every link of a record: for one2many it detaches the
// children (Odoo's (5,) sets their inverse to NULL).
func (e *Env) clearRel(f *Field, id int64) error {
	if f.Type == One2many {
		return e.dropOtherChildren(f, e.reg.Model(f.Relation), id, nil)
	}
	own, _ := m2mColumns(f)
	if err := e.DB().Exec(`DELETE FROM `+quote(f.RelTable)+` WHERE `+quote(own)+` = ?`, id).Error; err != nil {
		return Internal("clear relation "+f.Name, err)
	}
	return nil
}

// dropOtherChildren drops the one2many children of id that are not in
// keep.
func (e *Env) dropOtherChildren(f *Field, co *Model, id int64, keep []int64) error {
	var ids []int64
	if err := e.DB().Raw(`SELECT "id" FROM `+quote(co.Table)+` WHERE `+quote(f.InverseName)+` = ?`, id).Scan(&ids).Error; err != nil {
		return Internal("clear relation "+f.Name, err)
	}
	kept := make(map[int64]bool, len(keep))
	for _, k := range keep {
		kept[k] = true
	}
	drop := ids[:0]
	for _, c := range ids {
		if !kept[c] {
			drop = append(drop, c)
		}
	}
	return e.dropChildren(f, co, drop)
}
