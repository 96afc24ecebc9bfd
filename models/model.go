package models

import (
	"fmt"
	"strings"
)

// MethodKind tells how call_kw binds a method's first argument.
type MethodKind int

const (
	// ModelLevel methods (@api.model) get no record ids.
	ModelLevel MethodKind = iota
	// RecordLevel methods take the ids (a list or a bare int) as first argument.
	RecordLevel
)

// Param is one parameter of an RPC-callable method, bound from positional
// and keyword arguments the way Python binds a signature.
type Param struct {
	Name     string
	Optional bool
	Default  any
	// Alias is the parameter's name in later Odoo versions, taken as a
	// keyword too (name_search's args is domain since Odoo 17, the name
	// JSON-2 clients send).
	Alias string
}

// Method is one public method of a model.
type Method struct {
	Kind   MethodKind
	Params []Param
	// Rest, when set, takes any extra keyword arguments (Python's **kwargs).
	Rest bool
	// ReadOnly methods write nothing; they run outside a transaction, so
	// they neither wait for nor block writers.
	ReadOnly bool
	// OwnTransactions methods wait on the network (a broker's answer), so
	// they run outside a transaction and open short ones for their writes:
	// no database lock is held while a broker is slow.
	OwnTransactions bool
	Fn              func(env *Env, ids []int64, a Args) (any, error)
}

// Constraint checks records after create and write; it returns a
// ValidationError naming the offending field.
type Constraint func(env *Env, recs []*Record) error

// Model declares one model: its fields, defaults, constraints, access and
// public methods. Declared once, checked by Registry.Check at start.
type Model struct {
	Name        string // "res.partner"
	Description string
	Table       string // derived from Name when empty
	Fields      []*Field
	Order       string // default order, "id" when empty
	RecName     string // field used as display name, "name" when that exists

	// Access maps a group key to the operations it grants, a subset of
	// "rwcu" (read, write, create, unlink), like ir.model.access.csv.
	Access map[string]string
	// Rules restricts which records a non-system user may touch: it returns
	// a domain ANDed to every search and checked on write/unlink.
	Rules func(env *Env) []any

	Constraints []Constraint
	Methods     map[string]*Method

	// Prepare may adjust the client's values before they are checked and
	// converted (hash a password, fill a derived value). create is true on
	// create.
	Prepare func(env *Env, vals map[string]any, create bool) error
	// BeforeUnlink may refuse or clean up before records are deleted.
	BeforeUnlink func(env *Env, ids []int64) error
	// Changed is told which records were created (names nil), written
	// (names: the fields given) or are about to be deleted (deleted true),
	// inside the transaction; effects outside the database go through
	// env.AfterCommit.
	Changed func(env *Env, ids []int64, names []string, deleted bool)

	// Internal models (ir.model rows, users' sessions) refuse writes over
	// RPC even from administrators; the registry maintains them itself.
	ReadOnly bool
	// InvalidatesAuth marks models whose changes (users, groups, API keys)
	// must drop the cache of verified credentials and groups.
	InvalidatesAuth bool

	// Partition, on PostgreSQL, makes the table partitioned by time
	// (partition.go): for tables of millions of rows a day that retention
	// empties by age.
	Partition *Partitioning

	// Indexes are composite indexes beyond the per-field Index and Unique.
	Indexes []Index
	// Channels are the bus channels that carry this model's data:
	// subscribing to one needs the right to read the model.
	Channels []string

	own      []*Field // the declared and extension fields, without the ones finish adds
	finished bool     // finish ran once: Fields holds what it added
	fields   map[string]*Field
}

// Field returns the named field or nil.
func (m *Model) Field(name string) *Field { return m.fields[name] }

// StoredFields lists the fields that have a column.
func (m *Model) StoredFields() []*Field {
	out := make([]*Field, 0, len(m.Fields))
	for _, f := range m.Fields {
		if f.Stored() {
			out = append(out, f)
		}
	}
	return out
}

// HasActive reports whether the model has an active field, which turns on
// the implicit active filter of searches.
func (m *Model) HasActive() bool {
	f := m.fields["active"]
	return f != nil && f.Type == Boolean && f.Stored()
}

func tableName(model string) string { return strings.ReplaceAll(model, ".", "_") }

// magicFields are added to every model, as Odoo's LOG_ACCESS_COLUMNS.
func magicFields() []*Field {
	return []*Field{
		{Name: "id", Type: Integer, String: "ID", Readonly: true},
		{Name: "create_uid", Type: Many2one, Relation: "res.users", String: "Created by", Readonly: true, NoCopy: true},
		{Name: "create_date", Type: Datetime, String: "Created on", Readonly: true, NoCopy: true},
		{Name: "write_uid", Type: Many2one, Relation: "res.users", String: "Last Updated by", Readonly: true, NoCopy: true},
		{Name: "write_date", Type: Datetime, String: "Last Updated on", Readonly: true, NoCopy: true},
	}
}

// finish completes a declaration: table name, magic fields, display_name,
// the field index. It returns an error for a malformed declaration.
func (m *Model) finish() error {
	if m.Name == "" {
		return fmt.Errorf("model without a name")
	}
	if m.Table == "" {
		m.Table = tableName(m.Name)
	}
	if !m.finished {
		m.own, m.finished = m.Fields, true
	}
	m.fields = make(map[string]*Field, len(m.own)+6)
	all := append([]*Field{}, m.own...)
	have := map[string]bool{}
	for _, f := range all {
		have[f.Name] = true
	}
	for _, f := range magicFields() {
		if !have[f.Name] {
			all = append(all, f)
		}
	}
	if !have["display_name"] {
		all = append(all, &Field{Name: "display_name", Type: Char, String: "Display Name", Readonly: true, NotStored: true})
	}
	if !have[LastUpdateField] {
		all = append(all, lastUpdateField())
	}
	m.Fields = all
	for _, f := range m.Fields {
		if _, dup := m.fields[f.Name]; dup {
			return fmt.Errorf("%s: field %s declared twice", m.Name, f.Name)
		}
		if !validIdent(f.Name) {
			return fmt.Errorf("%s: invalid field name %q", m.Name, f.Name)
		}
		f.model = m
		m.fields[f.Name] = f
	}
	if m.RecName == "" {
		if m.fields["name"] != nil {
			m.RecName = "name"
		} else {
			m.RecName = "display_name"
		}
	}
	if m.Order == "" {
		m.Order = "id"
	}
	if m.Methods == nil {
		m.Methods = map[string]*Method{}
	}
	return nil
}

// validIdent accepts the identifiers we let into SQL as column or table
// names: lowercase ASCII letters, digits and underscores.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}
