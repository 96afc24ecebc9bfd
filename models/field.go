package models

import "strings"

// FieldType is an Odoo field type name as fields_get reports it.
type FieldType string

// The field types the record layer knows.
const (
	Char      FieldType = "char"
	Text      FieldType = "text"
	Integer   FieldType = "integer"
	Float     FieldType = "float"
	Boolean   FieldType = "boolean"
	Selection FieldType = "selection"
	Datetime  FieldType = "datetime"
	Date      FieldType = "date"
	Binary    FieldType = "binary"
	Many2one  FieldType = "many2one"
	One2many  FieldType = "one2many"
	Many2many FieldType = "many2many"
)

// Choice is one value of a selection field.
type Choice struct{ Value, Label string }

// Field declares one field of a model. Zero values mean Odoo's defaults:
// stored, copied, not required.
type Field struct {
	Name      string
	Type      FieldType
	String    string // label
	Help      string
	Required  bool
	Readonly  bool
	Selection []Choice
	Size      int // char: maximum length in characters (0 = unlimited)

	// Default gives the value a new record gets when create omits the field.
	Default func(env *Env) any

	// Relational fields.
	Relation    string // comodel name
	InverseName string // one2many: the many2one on the comodel pointing back
	RelTable    string // many2many: relation table (derived when empty)
	OnDelete    string // many2one: "cascade", "set null" (default) or "restrict"

	// Related is a dotted path ("subscription_id.topic") whose value this
	// field mirrors; with Store it is kept in its own column.
	Related string
	// Compute derives the value from the record's other fields; Depends
	// lists the fields (dotted paths allowed) whose change recomputes it.
	Compute func(env *Env, rec *Record) (any, error)
	Depends []string

	NotStored bool // computed on read, no column
	NoCopy    bool // copy() leaves it at its default
	Secret    bool // write-only: never returned by read or search_read
	// Encrypted stores a Secret char or text field encrypted by the
	// registry's Cipher (Options.Cipher), for secrets the server must read
	// back (a broker's password), unlike a hash. Loaded records hold the
	// plaintext; a value that does not decrypt loads empty, with the
	// reason in Record.LoadError.
	Encrypted bool
	// ClearOnChange names fields that decide where this field's value is
	// sent (a broker's host and port for its password): a write that
	// changes one of them on a record and does not give this field too
	// clears it on that record, so a new destination never receives the
	// old secret.
	ClearOnChange []string
	Index         bool
	Unique        bool // SQL unique constraint on the column
	// NoForeignKey stores a many2one without a database foreign key; its
	// OnDelete is then carried out by the comodel's code. For append-heavy
	// tables (message history) where a key check per row costs more than
	// the insert itself.
	NoForeignKey bool

	// Groups restricts reading and writing the field to members of these
	// group keys; fields_get omits it for others.
	Groups []string

	model        *Model
	relatedLabel string // a related field's target label, when String is empty
}

// Stored reports whether the field has a column in the model's table.
func (f *Field) Stored() bool {
	return !f.NotStored && f.Type != One2many && f.Type != Many2many
}

// IsRelational reports whether the field points at another model.
func (f *Field) IsRelational() bool {
	return f.Type == Many2one || f.Type == One2many || f.Type == Many2many
}

// Model is the model the field belongs to.
func (f *Field) Model() *Model { return f.model }

// label returns the field's label: the declared one, else a related
// field's target label (Registry.Check records it), else the label Odoo
// derives from the name ("broker_id" -> "Broker", "clean_session" ->
// "Clean Session").
func (f *Field) label() string {
	if f.String != "" {
		return f.String
	}
	if f.relatedLabel != "" {
		return f.relatedLabel
	}
	return labelFromName(f.Name)
}

// relatedLabels gives each related field without a label its target's
// label, as Odoo's related fields take their string from the field they
// mirror (a chain of related fields is followed to its end).
func (r *Registry) relatedLabels() {
	var labelOf func(f *Field, depth int) string
	labelOf = func(f *Field, depth int) string {
		if f.String != "" || f.Related == "" || depth > maxPathHops {
			return f.label()
		}
		target, err := r.resolvePath(f.model, f.Related)
		if err != nil {
			return f.label()
		}
		return labelOf(target, depth+1)
	}
	for _, m := range r.Models() {
		for _, f := range m.Fields {
			if f.String == "" && f.Related != "" {
				f.relatedLabel = labelOf(f, 0)
			}
		}
	}
}

// labelFromName is Odoo 16's default field string: the name without a
// trailing "_ids" or "_id", underscores as spaces, then Python's
// str.title() (a letter is upper case after a non-letter, lower case
// after a letter).
func labelFromName(name string) string {
	n := name
	if strings.HasSuffix(n, "_ids") {
		n = n[:len(n)-4]
	} else if strings.HasSuffix(n, "_id") {
		n = n[:len(n)-3]
	}
	b := []byte(strings.ReplaceAll(n, "_", " "))
	prevLetter := false
	for i, c := range b {
		isUpper, isLower := c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z'
		switch {
		case isLower && !prevLetter:
			b[i] = c - ('a' - 'A')
		case isUpper && prevLetter:
			b[i] = c + ('a' - 'A')
		}
		prevLetter = isUpper || isLower
	}
	return string(b)
}

// selectionHas reports whether v is one of the field's selection values.
func (f *Field) selectionHas(v string) bool {
	for _, c := range f.Selection {
		if c.Value == v {
			return true
		}
	}
	return false
}

// Choices builds a selection from value, label pairs, as Odoo declares
// [(value, label), ...]. An odd count is a declaration error.
func Choices(pairs ...string) []Choice {
	if len(pairs)%2 != 0 {
		panic("models.Choices: a value without its label")
	}
	out := make([]Choice, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Choice{Value: pairs[i], Label: pairs[i+1]})
	}
	return out
}
