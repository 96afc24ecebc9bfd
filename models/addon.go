package models

import (
	"fmt"
	"slices"
)

// An Addon declares models, groups and bus channels, and extends the
// models of the addons it depends on, as an Odoo module does. server
// registers each addon explicitly, dependencies first; the engine itself
// is the "base" addon every other depends on.
type Addon interface {
	Manifest() Manifest
}

// Manifest is everything an addon declares. The registry checks it as a
// whole at start: an unknown model, field, method, group or dependency
// stops the server before a client can hit it.
type Manifest struct {
	Name    string   // "sale"
	Depends []string // addons that must be registered before this one; "base" is implied
	Groups  []Group
	Models  []*Model
	// Extends adds to models of the addons this one depends on, like
	// Odoo's _inherit without a new _name.
	Extends []*Extension
	// Built runs once the registry is complete and checked, before it
	// serves anything: the addon keeps the registry and prepares what it
	// needs of it (bulk inserts, say). An error stops the start.
	Built func(r *Registry) error
	// Tables are the addon's own tables that are not models (nothing
	// reaches them over RPC), as CREATE TABLE IF NOT EXISTS / CREATE
	// INDEX IF NOT EXISTS statements in the dialect's SQL; Migrate runs
	// them after the models' tables. Their rows are written through
	// Bulk.InsertWith or the addon's own SQL.
	Tables func(d Dialect) []string
}

// Group is an access group, keyed like an Odoo xml id. Membership of a
// group implies membership of the groups it Implies; ImpliedBy names
// existing groups whose members also get this one (Odoo's implied_ids
// written on them by the addon, as base.group_system gets each addon's
// manager group).
type Group struct {
	Key       string // "sale.group_sale_manager"
	Name      string // "MQTT / User", the res.groups row's name
	Implies   []string
	ImpliedBy []string
}

// Extension adds to a model declared by another addon: fields (stored
// fields get their columns by the usual schema sync), methods,
// constraints, indexes, channels and hooks. The model's own declaration
// never knows of it.
type Extension struct {
	Model       string
	Fields      []*Field
	Methods     map[string]*Method
	Constraints []Constraint
	Indexes     []Index
	Channels    []string
	// Changed runs after the model's own Changed hook, with its arguments.
	Changed func(env *Env, ids []int64, names []string, deleted bool)
}

// Index is a database index over one or more stored fields, for what the
// per-field Index and Unique flags cannot say (a composite unique key).
type Index struct {
	Name   string // default: <table>_<fields joined by _>_index (or _uniq)
	Fields []string
	Unique bool
}

// base is the engine's own addon: users, groups, API keys, system
// parameters and the ir.model views of the registry.
func base() Manifest {
	return Manifest{
		Name: "base",
		Groups: []Group{
			{Key: GroupUser, Name: "Internal User"},
			{Key: GroupSystem, Name: "Settings", Implies: []string{GroupUser}},
		},
		Models: []*Model{resGroups(), resUsers(), resUsersAPIKeys(), irConfigParameter(), irModel(), irModelFields()},
	}
}

// install adds one addon's declarations, after checking that what it
// depends on is there. Cross-model checks run later, in Check, once every
// addon is in.
func (r *Registry) install(man Manifest) error {
	if man.Name == "" {
		return fmt.Errorf("models: an addon without a name")
	}
	if slices.Contains(r.addons, man.Name) {
		return fmt.Errorf("models: addon %s registered twice", man.Name)
	}
	for _, dep := range man.Depends {
		if !slices.Contains(r.addons, dep) {
			return fmt.Errorf("models: addon %s depends on %s, which is not registered before it", man.Name, dep)
		}
	}
	for _, g := range man.Groups {
		if err := r.addGroup(g); err != nil {
			return fmt.Errorf("models: addon %s: %w", man.Name, err)
		}
	}
	for _, m := range man.Models {
		if err := r.register(m); err != nil {
			return fmt.Errorf("models: addon %s: %w", man.Name, err)
		}
	}
	for _, x := range man.Extends {
		if err := r.extend(x); err != nil {
			return fmt.Errorf("models: addon %s: %w", man.Name, err)
		}
	}
	if man.Tables != nil {
		r.tables = append(r.tables, man.Tables)
	}
	r.addons = append(r.addons, man.Name)
	return nil
}

// extend applies an extension to a registered model. The model's field
// index is rebuilt, so the extension's fields are as good as declared.
func (r *Registry) extend(x *Extension) error {
	m := r.models[x.Model]
	if m == nil {
		return fmt.Errorf("extension of unknown model %s", x.Model)
	}
	// After the model's own fields, before the magic ones finish adds.
	m.own = append(m.own[:len(m.own):len(m.own)], x.Fields...)
	for name, meth := range x.Methods {
		if _, dup := m.Methods[name]; dup {
			return fmt.Errorf("%s: method %s declared twice", m.Name, name)
		}
		m.Methods[name] = meth
	}
	m.Constraints = append(m.Constraints, x.Constraints...)
	m.Indexes = append(m.Indexes, x.Indexes...)
	m.Channels = append(m.Channels, x.Channels...)
	if x.Changed != nil {
		if prev := m.Changed; prev != nil {
			m.Changed = func(env *Env, ids []int64, names []string, deleted bool) {
				prev(env, ids, names, deleted)
				x.Changed(env, ids, names, deleted)
			}
		} else {
			m.Changed = x.Changed
		}
	}
	return m.finish()
}
