package models

// ondelete='restrict', enforced by the engine before the DELETE, so that
// every database answers alike and names what depends on the record.
// Odoo leaves this to PostgreSQL's foreign key and rewrites the violation
// (odoo/service/model.py); SQLite's violation names neither the table nor
// the constraint, and a database created before a field became restrict
// may still hold an ON DELETE CASCADE key, which would delete the
// dependents instead of refusing.

// restrictError is Odoo 16's rewrite of a foreign key violation on delete:
// the model that holds the reference, and the constraint, named the way
// PostgreSQL names a column's foreign key (which is also Odoo's name).
func restrictError(f *Field) error {
	return ValidationErrorf("The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: %s (%s), Constraint: %s",
		f.model.Description, f.model.Name, f.model.Table+"_"+f.Name+"_fkey")
}

// checkRestrict refuses to delete ids of m while a record of any model
// (archived ones included, whatever the user may read) points at one of
// them through a many2one declared OnDelete "restrict". Fields are tried
// in model-name order, so the answer names the same dependent each time.
func (e *Env) checkRestrict(m *Model, ids []int64) error {
	for _, dep := range e.reg.Models() {
		for _, f := range dep.Fields {
			if !f.Stored() || f.Type != Many2one || f.OnDelete != "restrict" || f.Relation != m.Name {
				continue
			}
			q := `SELECT 1 FROM ` + quote(dep.Table) + ` WHERE ` + quote(f.Name) + ` IN ?`
			args := []any{ids}
			if dep == m {
				// Records deleted together may point at each other.
				q += ` AND "id" NOT IN ?`
				args = append(args, ids)
			}
			var found []int
			if err := e.DB().Raw(q+` LIMIT 1`, args...).Scan(&found).Error; err != nil {
				return Internal("unlink "+m.Name, err)
			}
			if len(found) > 0 {
				return restrictError(f)
			}
		}
	}
	return nil
}
