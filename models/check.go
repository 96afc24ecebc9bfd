package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Check validates the declarations against each other, so that a typo in
// a relation, a related path, an access group, an index or a channel
// stops the server at start rather than failing a client later.
func (r *Registry) Check() error {
	c := &checker{r: r}
	for _, m := range r.Models() {
		for _, f := range m.Fields {
			c.field(m, f)
		}
		c.model(m)
		c.partition(m)
		c.indexes(m)
		c.channels(m)
	}
	c.groups()
	if len(c.errs) == 0 {
		r.buildTriggers()
		r.relatedLabels()
	}
	return errors.Join(c.errs...)
}

// checker collects what is wrong with the declarations.
type checker struct {
	r    *Registry
	errs []error
}

func (c *checker) bad(m *Model, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("models: %s: %s", m.Name, fmt.Sprintf(format, args...)))
}

// field checks one field's type, relation, related path and groups.
func (c *checker) field(m *Model, f *Field) {
	switch f.Type {
	case Char, Text, Integer, Float, Boolean, Datetime, Date, Binary:
	case Selection:
		if len(f.Selection) == 0 {
			c.bad(m, "selection field %s has no values", f.Name)
		}
	case Many2one, One2many, Many2many:
		c.relation(m, f)
	default:
		c.bad(m, "field %s: unknown type %q", f.Name, f.Type)
	}
	if f.Related != "" {
		if _, err := c.r.resolvePath(m, f.Related); err != nil {
			c.bad(m, "field %s: related %q: %v", f.Name, f.Related, err)
		}
	}
	for _, g := range f.Groups {
		if !c.r.knownGroup(g) {
			c.bad(m, "field %s: unknown group %q", f.Name, g)
		}
	}
	c.secret(m, f)
}

// secret checks Encrypted and ClearOnChange: encryption is for stored,
// write-only text that no domain, order or group by may reach; clearing
// needs a field that may be empty and names stored fields.
func (c *checker) secret(m *Model, f *Field) {
	if f.Encrypted && (!f.Secret || (f.Type != Char && f.Type != Text) || !f.Stored() || f.Compute != nil || f.Related != "") {
		c.bad(m, "field %s: Encrypted needs a stored, Secret char or text field that is neither computed nor related", f.Name)
	}
	if len(f.ClearOnChange) > 0 && (f.Required || !f.Stored()) {
		c.bad(m, "field %s: ClearOnChange needs a stored field that is not required", f.Name)
	}
	for _, w := range f.ClearOnChange {
		if wf := m.Field(w); wf == nil || !wf.Stored() || wf == f {
			c.bad(m, "field %s: ClearOnChange %q is not another stored field", f.Name, w)
		}
	}
}

// relation checks a relational field's comodel, inverse and ondelete,
// and names a many2many's relation table when the declaration did not.
func (c *checker) relation(m *Model, f *Field) {
	co := c.r.models[f.Relation]
	if co == nil {
		c.bad(m, "field %s: unknown comodel %q", f.Name, f.Relation)
		return
	}
	if f.Type == One2many {
		inv := co.Field(f.InverseName)
		if inv == nil || inv.Type != Many2one || inv.Relation != m.Name {
			c.bad(m, "one2many %s: %s.%s is not a many2one to %s", f.Name, co.Name, f.InverseName, m.Name)
		}
	}
	if f.Type == Many2many && f.RelTable == "" {
		f.RelTable = m2mTable(m, co)
	}
	switch f.OnDelete {
	case "", "cascade", "set null", "restrict":
	default:
		c.bad(m, "field %s: bad ondelete %q", f.Name, f.OnDelete)
	}
}

// model checks the record name, default order, access table and methods.
func (c *checker) model(m *Model) {
	if m.Field(m.RecName) == nil {
		c.bad(m, "rec name %q is not a field", m.RecName)
	}
	if _, err := parseOrder(m, m.Order); err != nil {
		c.bad(m, "default order %q: %v", m.Order, err)
	}
	for g, ops := range m.Access {
		if !c.r.knownGroup(g) {
			c.bad(m, "access for unknown group %q", g)
		}
		if strings.Trim(ops, "rwcu") != "" {
			c.bad(m, "access %q for %s: only r, w, c, u allowed", ops, g)
		}
	}
	for name, meth := range m.Methods {
		if strings.HasPrefix(name, "_") || !validIdent(name) || meth == nil || meth.Fn == nil {
			c.bad(m, "method %q is private, not a name, or has no function", name)
		}
	}
}

// indexes checks that composite indexes name stored fields.
func (c *checker) indexes(m *Model) {
	for _, ix := range m.Indexes {
		if len(ix.Fields) == 0 {
			c.bad(m, "index %q has no fields", ix.Name)
		}
		for _, name := range ix.Fields {
			if f := m.Field(name); f == nil || !f.Stored() {
				c.bad(m, "index %q: %q is not a stored field", ix.Name, name)
			}
		}
		if ix.Name != "" && !validIdent(ix.Name) {
			c.bad(m, "index name %q is not a valid identifier", ix.Name)
		}
	}
}

// channels records which model each bus channel carries; a channel
// claimed by two models is an error.
func (c *checker) channels(m *Model) {
	for _, ch := range m.Channels {
		if ch == ChannelAccess {
			c.bad(m, "channel %q is the engine's own", ch)
		}
		if other := c.r.channels[ch]; other != nil && other != m {
			c.bad(m, "channel %q already carries %s", ch, other.Name)
		}
		c.r.channels[ch] = m
	}
}

// groups checks that the groups' implications name known groups.
func (c *checker) groups() {
	for _, g := range c.r.groups {
		for _, h := range append(append([]string{}, g.Implies...), g.ImpliedBy...) {
			if !c.r.knownGroup(h) {
				c.errs = append(c.errs, fmt.Errorf("models: group %s: unknown group %q", g.Key, h))
			}
		}
	}
}

// resolvePath follows a dotted path of many2one hops and returns the last
// field.
func (r *Registry) resolvePath(m *Model, path string) (*Field, error) {
	parts := strings.Split(path, ".")
	cur := m
	for i, p := range parts {
		f := cur.Field(p)
		if f == nil {
			return nil, fmt.Errorf("no field %s on %s", p, cur.Name)
		}
		if i == len(parts)-1 {
			return f, nil
		}
		if f.Type != Many2one {
			return nil, fmt.Errorf("%s.%s is not a many2one", cur.Name, p)
		}
		cur = r.models[f.Relation]
		if cur == nil {
			return nil, fmt.Errorf("unknown comodel %s", f.Relation)
		}
	}
	return nil, fmt.Errorf("empty path")
}

func m2mTable(a, b *Model) string {
	t := []string{a.Table, b.Table}
	sort.Strings(t)
	return t[0] + "_" + t[1] + "_rel"
}

// partition checks a Partitioning: a stored Datetime key, a known grain,
// and no unique index PostgreSQL could not enforce across partitions.
func (c *checker) partition(m *Model) {
	p := m.Partition
	if p == nil {
		return
	}
	if f := m.Field(p.Field); f == nil || f.Type != Datetime || !f.Stored() {
		c.bad(m, "partition key %q is not a stored datetime field", p.Field)
	}
	if _, err := ParseGrain(string(p.Grain)); err != nil {
		c.bad(m, "%v", err)
	}
	for _, f := range m.Fields {
		if f.Unique {
			c.bad(m, "field %s is unique: a partitioned table cannot enforce it", f.Name)
		}
	}
	for _, ix := range m.Indexes {
		if ix.Unique {
			c.bad(m, "unique index %v: a partitioned table cannot enforce it", ix.Fields)
		}
	}
}
