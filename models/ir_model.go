package models

import "sort"

// ir.model and ir.model.fields are read-only views of the registry, kept
// in tables (synchronised at start) so every generic method and domain
// works on them, as clients expect ('res.partner' in env is an ir.model
// search).
func irModel() *Model {
	return &Model{
		Name: "ir.model", Description: "Models", Order: "model", ReadOnly: true,
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Model Description", Required: true},
			{Name: "model", Type: Char, Required: true, Unique: true},
			{Name: "info", Type: Text, String: "Information"},
			{Name: "state", Type: Selection, Selection: []Choice{{"manual", "Custom Object"}, {"base", "Base Object"}}, Default: Constant("base")},
			{Name: "transient", Type: Boolean, String: "Transient Model"},
			{Name: "field_id", Type: One2many, Relation: "ir.model.fields", InverseName: "model_id", String: "Fields"},
		},
		Access: map[string]string{GroupUser: "r"},
	}
}

func irModelFields() *Model {
	types := []Choice{}
	for _, t := range []FieldType{Binary, Boolean, Char, Date, Datetime, Float, Integer, Many2many, Many2one, One2many, Selection, Text} {
		types = append(types, Choice{string(t), string(t)})
	}
	return &Model{
		Name: "ir.model.fields", Description: "Fields", Order: "model_id, name", ReadOnly: true,
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Field Name", Required: true},
			{Name: "field_description", Type: Char, String: "Field Label", Required: true},
			{Name: "model", Type: Char, String: "Model Name", Required: true, Index: true},
			{Name: "model_id", Type: Many2one, Relation: "ir.model", String: "Model", Required: true, OnDelete: "cascade"},
			{Name: "ttype", Type: Selection, Selection: types, String: "Field Type", Required: true},
			{Name: "relation", Type: Char, String: "Related Model"},
			{Name: "relation_field", Type: Char},
			{Name: "required", Type: Boolean},
			{Name: "readonly", Type: Boolean},
			{Name: "store", Type: Boolean, String: "Stored"},
			{Name: "help", Type: Text},
			{Name: "state", Type: Selection, Selection: []Choice{{"manual", "Custom Field"}, {"base", "Base Field"}}, Default: Constant("base")},
		},
		Access: map[string]string{GroupUser: "r"},
	}
}

// syncIrModel makes ir.model and ir.model.fields match the registry,
// keeping the ids of rows that still exist.
func (e *Env) syncIrModel() error {
	su := e.Sudo().WithContext(map[string]any{"active_test": false})
	mModel, mField := e.reg.Model("ir.model"), e.reg.Model("ir.model.fields")
	type row struct {
		ID    int64
		Model string
		Name  string
	}
	var have []row
	if err := su.DB().Raw(`SELECT "id", "model", '' AS name FROM "ir_model"`).Scan(&have).Error; err != nil {
		return Internal("read ir.model", err)
	}
	modelIDs := map[string]int64{}
	for _, r := range have {
		modelIDs[r.Model] = r.ID
	}
	declared := map[string]bool{}
	for _, m := range e.reg.Models() {
		declared[m.Name] = true
		vals := map[string]any{"name": m.Description, "model": m.Name, "info": m.Description}
		if id, ok := modelIDs[m.Name]; ok {
			if err := su.update(mModel, []int64{id}, vals); err != nil {
				return err
			}
			continue
		}
		id, err := su.insert(mModel, vals)
		if err != nil {
			return err
		}
		modelIDs[m.Name] = id
	}
	for name, id := range modelIDs {
		if !declared[name] {
			if err := su.DB().Exec(`DELETE FROM "ir_model" WHERE "id" = ?`, id).Error; err != nil {
				return Internal("drop ir.model", err)
			}
		}
	}
	var fields []row
	if err := su.DB().Raw(`SELECT "id", "model", "name" FROM "ir_model_fields"`).Scan(&fields).Error; err != nil {
		return Internal("read ir.model.fields", err)
	}
	fieldIDs := map[string]int64{}
	for _, r := range fields {
		fieldIDs[r.Model+"."+r.Name] = r.ID
	}
	seen := map[string]bool{}
	for _, m := range e.reg.Models() {
		for _, f := range m.Fields {
			key := m.Name + "." + f.Name
			seen[key] = true
			vals := map[string]any{
				"name": f.Name, "field_description": f.label(), "model": m.Name, "model_id": modelIDs[m.Name],
				"ttype": string(f.Type), "relation": f.Relation, "relation_field": f.InverseName,
				"required": f.Required, "readonly": f.Readonly, "store": f.Stored(), "help": f.Help,
			}
			if id, ok := fieldIDs[key]; ok {
				if err := su.update(mField, []int64{id}, vals); err != nil {
					return err
				}
				continue
			}
			if _, err := su.insert(mField, vals); err != nil {
				return err
			}
		}
	}
	var stale []int64
	for key, id := range fieldIDs {
		if !seen[key] {
			stale = append(stale, id)
		}
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i] < stale[j] })
	if len(stale) > 0 {
		if err := su.DB().Exec(`DELETE FROM "ir_model_fields" WHERE "id" IN ?`, stale).Error; err != nil {
			return Internal("drop ir.model.fields", err)
		}
	}
	return nil
}
