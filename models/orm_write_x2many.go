package models

// Odoo's x2many commands, as write and create carry them out.

import "github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"

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
