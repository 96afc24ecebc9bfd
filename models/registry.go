package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Registry holds every declared model and the database they live in. It
// is built once by New, from the engine's base addon and the addons
// given, and does not change afterwards: addon state lives in the addons.
type Registry struct {
	models   map[string]*Model
	addons   []string                 // registration order, "base" first
	tables   []func(Dialect) []string // the addons' own tables (Manifest.Tables)
	groups   []Group                  // registration order
	channels map[string]*Model        // bus channel -> the model whose data it carries
	db       *gorm.DB
	dialect  Dialect
	log      *slog.Logger
	notifier Notifier // nil drops notifications
	hashCost int      // bcrypt cost of new password hashes
	cipher   Cipher   // encrypts Encrypted fields; nil stores them as given

	credMu    sync.Mutex
	credCache map[credKey]struct{} // (uid, password hash of the attempt) pairs that checked out
	secret    []byte               // database secret for session tokens
	triggers  map[string][]trigger // "model.field" -> dependent stored computed fields
	triggered map[string]bool      // models with a field in triggers
	implies   map[string][]string  // group -> the groups its members also have
	auth      *authCache           // recently verified credentials and groups

	dummyOnce      sync.Once
	dummy          string       // bcrypt hash unknown logins are checked against (dummyHash)
	passwordChecks atomic.Int64 // bcrypt comparisons made by logins (comparePassword)
}

// Options are what a registry is built with.
type Options struct {
	// DB is the database the models live in (see OpenDB). New does not
	// touch it; a registry without one can only check its declarations.
	DB      *gorm.DB
	Dialect Dialect
	Logger  *slog.Logger // slog.Default() when nil
	// Notifier is the bus notifications go to; nil drops them.
	Notifier Notifier
	// HashCost is the bcrypt cost of passwords hashed from now on
	// (existing hashes keep theirs); 0 means DefaultHashCost. Tests use
	// bcrypt's minimum so that logging in under the race detector takes
	// milliseconds, not seconds.
	HashCost int
	// Cipher encrypts the values of Encrypted fields at rest (the server
	// gives its secret keyring). nil stores them as given: for engine
	// tests and tools, never for a server.
	Cipher Cipher
}

// New builds the registry of the base addon and addons, in that order
// (an addon's dependencies must come before it), checks every
// declaration against the others, then lets each addon take the built
// registry (Manifest.Built). The database is not touched: Migrate and
// Init prepare it.
func New(opts Options, addons ...Addon) (*Registry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HashCost == 0 {
		opts.HashCost = DefaultHashCost
	}
	r := &Registry{
		models: map[string]*Model{}, channels: map[string]*Model{}, implies: map[string][]string{},
		db: opts.DB, dialect: opts.Dialect, log: opts.Logger, notifier: opts.Notifier, cipher: opts.Cipher,
		hashCost: max(opts.HashCost, bcrypt.MinCost), credCache: map[credKey]struct{}{}, auth: newAuthCache(),
	}
	mans := []Manifest{base()}
	for _, a := range addons {
		mans = append(mans, a.Manifest())
	}
	for _, man := range mans {
		if err := r.install(man); err != nil {
			return nil, err
		}
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	for _, man := range mans {
		if man.Built != nil {
			if err := man.Built(r); err != nil {
				return nil, fmt.Errorf("models: addon %s: %w", man.Name, err)
			}
		}
	}
	return r, nil
}

// register adds one model declaration.
func (r *Registry) register(m *Model) error {
	if err := m.finish(); err != nil {
		return err
	}
	if _, dup := r.models[m.Name]; dup {
		return fmt.Errorf("model %s declared twice", m.Name)
	}
	if !validIdent(m.Table) {
		return fmt.Errorf("%s: invalid table name %q", m.Name, m.Table)
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

// Call is one RPC method call on a model, as execute_kw and call_kw carry it.
type Call struct {
	UID    int64
	Model  string
	Method string
	Args   []any
	Kwargs map[string]any

	// Named is a JSON-2 call (/json/2/<model>/<method>): no positional
	// arguments, the records in IDs (a list of ids, or nil), every
	// argument a keyword. IDs on a model-level method is a signature error,
	// as in Odoo 19 ("cannot call m.f with ids").
	Named bool
	IDs   any
}

// LookupMethod returns the model and the public method a call names: its
// own method, else the generic ORM one. A private name is Odoo's
// AccessError; an unknown model or method is marked ErrUnknownName (a
// UserError and an AttributeError, in Odoo 16's words).
func (r *Registry) LookupMethod(model, method string) (*Model, *Method, error) {
	if strings.HasPrefix(method, "_") || method == "init" {
		return nil, nil, AccessErrorf("Private methods (such as %s) cannot be called remotely.", method)
	}
	m := r.models[model]
	if m == nil {
		return nil, nil, &Error{Kind: KindUser, Message: fmt.Sprintf("Object %s doesn't exist", model), Err: ErrUnknownName}
	}
	meth := m.Methods[method]
	if meth == nil {
		meth = genericMethods[method]
	}
	if meth == nil {
		return nil, nil, &Error{Kind: KindAttribute, Message: fmt.Sprintf("The method '%s' does not exist on the model '%s'", method, model), Err: ErrUnknownName}
	}
	return m, meth, nil
}

// Execute runs a call the way Odoo's service.model.execute_kw does:
// private names refused, model and method looked up, arguments bound, the
// method run in one transaction that commits on success.
func (r *Registry) Execute(ctx context.Context, c Call) (any, error) {
	m, meth, err := r.LookupMethod(c.Model, c.Method)
	if err != nil {
		return nil, err
	}
	kwargs := c.Kwargs
	odooCtx := map[string]any{}
	if raw, ok := kwargs["context"]; ok {
		// call_kw replaces the env context with kwargs.context.
		if cm, ok := raw.(map[string]any); ok {
			odooCtx = cm
		} else if !py.IsFalse(raw) {
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
	switch {
	case c.Named && meth.Kind == RecordLevel:
		if ids, err = idsArg(c.IDs); err != nil {
			return nil, &Error{Kind: KindValue, Message: MessageOf(err), Err: ErrSignature}
		}
	case c.Named:
		if py.Truthy(c.IDs) {
			return nil, signatureErrorf("cannot call %s.%s with ids", c.Model, c.Method)
		}
	case meth.Kind == RecordLevel:
		if len(args) == 0 {
			return nil, signatureErrorf("%s() missing 1 required positional argument: 'ids'", c.Method)
		}
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
	return r.wrapError(fn(env))
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
	return r.wrapError(err)
}

// wrapError passes model errors through and turns anything else into an
// internal error. It does not log: the caller at the edge (the RPC
// handler with its request id, the listener with its broker) logs an
// internal error once, with the context only it knows.
func (r *Registry) wrapError(err error) error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return err
	}
	if ie := integrityError(err, "transaction"); ie != nil {
		return ie
	}
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
