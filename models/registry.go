package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Registry holds every declared model and the database they live in.
type Registry struct {
	models  map[string]*Model
	db      *gorm.DB
	dialect Dialect
	log     *slog.Logger

	credMu    sync.Mutex
	credCache map[credKey]struct{} // (uid, password hash of the attempt) pairs that checked out
	secret    []byte               // database secret for session tokens
	triggers  map[string][]trigger // "model.field" -> dependent stored computed fields
	hashCost  int                  // bcrypt cost of new password hashes
	auth      *authCache           // recently verified credentials and groups
	control   BrokerControl        // the listener service; nil without MQTT
	notifier  Notifier             // the bus; nil drops notifications
	iot       iotCache             // device ingestion's patterns and devices
}

// NewRegistry returns a registry with every model of the product declared
// and checked.
func NewRegistry(log *slog.Logger) (*Registry, error) { return newRegistry(log) }

// newRegistry also takes extra models, for tests.
func newRegistry(log *slog.Logger, extra ...*Model) (*Registry, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Registry{models: map[string]*Model{}, log: log, credCache: map[credKey]struct{}{}, hashCost: DefaultHashCost, auth: newAuthCache()}
	for _, decl := range declarations {
		if err := r.Register(decl()); err != nil {
			return nil, err
		}
	}
	for _, m := range extra {
		if err := r.Register(m); err != nil {
			return nil, err
		}
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return r, nil
}

// declarations lists the constructors of every model; each model file adds
// its own in an init function.
var declarations []func() *Model

// Register adds a model declaration.
func (r *Registry) Register(m *Model) error {
	if err := m.finish(); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	if _, dup := r.models[m.Name]; dup {
		return fmt.Errorf("models: model %s declared twice", m.Name)
	}
	for name, meth := range actionMethods[m.Name] {
		m.Methods[name] = meth
	}
	if !validIdent(m.Table) {
		return fmt.Errorf("models: %s: invalid table name %q", m.Name, m.Table)
	}
	r.models[m.Name] = m
	return nil
}

// Model returns the named model, or nil.
func (r *Registry) Model(name string) *Model { return r.models[name] }

// Models returns every model sorted by name.
func (r *Registry) Models() []*Model {
	out := make([]*Model, 0, len(r.models))
	for _, m := range r.models {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Dialect is the SQL flavour of the attached database.
func (r *Registry) Dialect() Dialect { return r.dialect }

// DB returns the attached database handle.
func (r *Registry) DB() *gorm.DB { return r.db }

// Check validates the declarations against each other, so that a typo in
// a relation, a related path or an access group stops the server at start
// rather than failing a client later.
func (r *Registry) Check() error {
	var errs []error
	bad := func(m *Model, format string, args ...any) {
		errs = append(errs, fmt.Errorf("models: %s: %s", m.Name, fmt.Sprintf(format, args...)))
	}
	for _, m := range r.Models() {
		for _, f := range m.Fields {
			switch f.Type {
			case Char, Text, Integer, Float, Boolean, Datetime, Date, Binary:
			case Selection:
				if len(f.Selection) == 0 {
					bad(m, "selection field %s has no values", f.Name)
				}
			case Many2one, One2many, Many2many:
				co := r.models[f.Relation]
				if co == nil {
					bad(m, "field %s: unknown comodel %q", f.Name, f.Relation)
					continue
				}
				if f.Type == One2many {
					inv := co.Field(f.InverseName)
					if inv == nil || inv.Type != Many2one || inv.Relation != m.Name {
						bad(m, "one2many %s: %s.%s is not a many2one to %s", f.Name, co.Name, f.InverseName, m.Name)
					}
				}
				if f.Type == Many2many && f.RelTable == "" {
					f.RelTable = m2mTable(m, co)
				}
				switch f.OnDelete {
				case "", "cascade", "set null", "restrict":
				default:
					bad(m, "field %s: bad ondelete %q", f.Name, f.OnDelete)
				}
			default:
				bad(m, "field %s: unknown type %q", f.Name, f.Type)
			}
			if f.Related != "" {
				if _, err := r.resolvePath(m, f.Related); err != nil {
					bad(m, "field %s: related %q: %v", f.Name, f.Related, err)
				}
			}
			for _, g := range f.Groups {
				if !knownGroup(g) {
					bad(m, "field %s: unknown group %q", f.Name, g)
				}
			}
		}
		if m.Field(m.RecName) == nil {
			bad(m, "rec name %q is not a field", m.RecName)
		}
		if _, err := parseOrder(m, m.Order); err != nil {
			bad(m, "default order %q: %v", m.Order, err)
		}
		for g, ops := range m.Access {
			if !knownGroup(g) {
				bad(m, "access for unknown group %q", g)
			}
			if strings.Trim(ops, "rwcu") != "" {
				bad(m, "access %q for %s: only r, w, c, u allowed", ops, g)
			}
		}
		for name, meth := range m.Methods {
			if strings.HasPrefix(name, "_") || meth.Fn == nil {
				bad(m, "method %q is private or has no function", name)
			}
		}
	}
	if len(errs) == 0 {
		r.buildTriggers()
	}
	return errors.Join(errs...)
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

// Call is one RPC method call on a model, as execute_kw and call_kw carry it.
type Call struct {
	UID    int64
	Model  string
	Method string
	Args   []any
	Kwargs map[string]any
}

// Execute runs a call the way Odoo's service.model.execute_kw does:
// private names refused, model and method looked up, arguments bound, the
// method run in one transaction that commits on success.
func (r *Registry) Execute(ctx context.Context, c Call) (any, error) {
	if strings.HasPrefix(c.Method, "_") || c.Method == "init" {
		return nil, AccessErrorf("Private methods (such as %s) cannot be called remotely.", c.Method)
	}
	m := r.models[c.Model]
	if m == nil {
		return nil, UserErrorf("Object %s doesn't exist", c.Model)
	}
	meth := m.Methods[c.Method]
	if meth == nil {
		meth = genericMethods[c.Method]
	}
	if meth == nil {
		return nil, AttributeErrorf("The method '%s' does not exist on the model '%s'", c.Method, c.Model)
	}
	kwargs := c.Kwargs
	odooCtx := map[string]any{}
	if raw, ok := kwargs["context"]; ok {
		// call_kw replaces the env context with kwargs.context.
		if cm, ok := raw.(map[string]any); ok {
			odooCtx = cm
		} else if !isFalse(raw) {
			return nil, TypeErrorf("context must be a dictionary")
		}
		kwargs = make(map[string]any, len(c.Kwargs))
		for k, v := range c.Kwargs {
			if k != "context" {
				kwargs[k] = v
			}
		}
	}
	args := c.Args
	var ids []int64
	if meth.Kind == RecordLevel {
		if len(args) == 0 {
			return nil, TypeErrorf("%s() missing 1 required positional argument: 'ids'", c.Method)
		}
		var err error
		if ids, err = idsArg(args[0]); err != nil {
			return nil, err
		}
		args = args[1:]
	}
	bound, err := bind(c.Method, meth, args, kwargs)
	if err != nil {
		return nil, err
	}
	var result any
	run := r.Transaction
	if meth.ReadOnly || meth.OwnTransactions {
		run = r.Read
	}
	err = run(ctx, c.UID, odooCtx, func(env *Env) error {
		var err error
		result, err = meth.Fn(env.withModel(m), ids, bound)
		return err
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// Read runs fn as uid outside any transaction, for work that only reads.
func (r *Registry) Read(ctx context.Context, uid int64, odooCtx map[string]any, fn func(env *Env) error) error {
	if odooCtx == nil {
		odooCtx = map[string]any{}
	}
	env := &Env{Ctx: ctx, UID: uid, Context: odooCtx, reg: r, tx: r.db}
	return r.wrapError(uid, fn(env))
}

// Transaction runs fn in one database transaction as uid; an error rolls
// back everything fn wrote.
func (r *Registry) Transaction(ctx context.Context, uid int64, odooCtx map[string]any, fn func(env *Env) error) error {
	if odooCtx == nil {
		odooCtx = map[string]any{}
	}
	var after []func()
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		env := &Env{Ctx: ctx, UID: uid, Context: odooCtx, reg: r, tx: tx, afterCommit: &after}
		return fn(env)
	})
	if err == nil {
		for _, f := range after {
			f()
		}
	}
	return r.wrapError(uid, err)
}

// wrapError passes model errors through and turns anything else into an
// internal error, logged here with its cause.
func (r *Registry) wrapError(uid int64, err error) error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		if me.Kind == KindInternal {
			r.log.Error("Model call failed", slog.Int64("uid", uid), slog.Any("error", err))
		}
		return err
	}
	if ie := integrityError(err, "transaction"); ie != nil {
		return ie
	}
	r.log.Error("Model call failed", slog.Int64("uid", uid), slog.Any("error", err))
	return Internal("transaction", err)
}

// integrityError rewrites constraint violations the way Odoo does, so a
// client sees a ValidationError, not a database error. op is "unlink" for
// deletes, where a foreign key means a dependent record.
func integrityError(err error, op string) error {
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "not null") || strings.Contains(s, "not-null"):
		return ValidationErrorf("The operation cannot be completed: a mandatory field is not set.")
	case strings.Contains(s, "foreign key") && op == "unlink":
		return ValidationErrorf("The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.")
	case strings.Contains(s, "foreign key"):
		return ValidationErrorf("The operation cannot be completed: a referenced record does not exist.")
	case strings.Contains(s, "unique"):
		return ValidationErrorf("The operation cannot be completed: a record with the same unique value already exists.")
	}
	return nil
}
