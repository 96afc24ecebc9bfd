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
	modelIDs, err := su.syncIrModelRows()
	if err != nil {
		return err
	}
	if err := su.dropStaleIrModels(modelIDs); err != nil {
		return err
	}
	stale, err := su.syncIrModelFieldRows(modelIDs)
	if err != nil {
		return err
	}
	return su.dropStaleIrModelFields(stale)
}

// irRow is the id and key of an ir.model or ir.model.fields row.
type irRow struct {
	ID    int64
	Model string
	Name  string
}

// syncIrModelRows updates the ir.model row of every registry model,
// creating those missing, and returns the ids by model name, those of
// rows no model declares included.
func (e *Env) syncIrModelRows() (map[string]int64, error) {
	var have []irRow
	if err := e.DB().Raw(`SELECT "id", "model", '' AS name FROM "ir_model"`).Scan(&have).Error; err != nil {
		return nil, Internal("read ir.model", err)
	}
	modelIDs := map[string]int64{}
	for _, r := range have {
		modelIDs[r.Model] = r.ID
	}
	mModel := e.reg.Model("ir.model")
	for _, m := range e.reg.Models() {
		vals := map[string]any{"name": m.Description, "model": m.Name, "info": m.Description}
		if id, ok := modelIDs[m.Name]; ok {
			if err := e.update(mModel, []int64{id}, vals); err != nil {
				return nil, err
			}
			continue
		}
		id, err := e.insert(mModel, vals)
		if err != nil {
			return nil, err
		}
		modelIDs[m.Name] = id
	}
	return modelIDs, nil
}

// dropStaleIrModels deletes the ir.model rows among modelIDs of models
// the registry no longer declares.
func (e *Env) dropStaleIrModels(modelIDs map[string]int64) error {
	declared := map[string]bool{}
	for _, m := range e.reg.Models() {
		declared[m.Name] = true
	}
	for name, id := range modelIDs {
		if !declared[name] {
			if err := e.DB().Exec(`DELETE FROM "ir_model" WHERE "id" = ?`, id).Error; err != nil {
				return Internal("drop ir.model", err)
			}
		}
	}
	return nil
}

// syncIrModelFieldRows updates the ir.model.fields row of every field of
// every registry model, creating those missing, and returns the ids of
// the rows no declared field matches, in ascending order.
func (e *Env) syncIrModelFieldRows(modelIDs map[string]int64) ([]int64, error) {
	var fields []irRow
	if err := e.DB().Raw(`SELECT "id", "model", "name" FROM "ir_model_fields"`).Scan(&fields).Error; err != nil {
		return nil, Internal("read ir.model.fields", err)
	}
	fieldIDs := map[string]int64{}
	for _, r := range fields {
		fieldIDs[r.Model+"."+r.Name] = r.ID
	}
	mField := e.reg.Model("ir.model.fields")
	seen := map[string]bool{}
	for _, m := range e.reg.Models() {
		for _, f := range m.Fields {
			key := m.Name + "." + f.Name
			seen[key] = true
			vals := irModelFieldVals(m, f, modelIDs[m.Name])
			if id, ok := fieldIDs[key]; ok {
				if err := e.update(mField, []int64{id}, vals); err != nil {
					return nil, err
				}
			} else if _, err := e.insert(mField, vals); err != nil {
				return nil, err
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
	return stale, nil
}

// irModelFieldVals is the ir.model.fields row describing field f of m.
func irModelFieldVals(m *Model, f *Field, modelID int64) map[string]any {
	return map[string]any{
		"name": f.Name, "field_description": f.label(), "model": m.Name, "model_id": modelID,
		"ttype": string(f.Type), "relation": f.Relation, "relation_field": f.InverseName,
		"required": f.Required, "readonly": f.Readonly, "store": f.Stored(), "help": f.Help,
	}
}

// dropStaleIrModelFields deletes the ir.model.fields rows of ids.
func (e *Env) dropStaleIrModelFields(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := e.DB().Exec(`DELETE FROM "ir_model_fields" WHERE "id" IN ?`, ids).Error; err != nil {
		return Internal("drop ir.model.fields", err)
	}
	return nil
}
