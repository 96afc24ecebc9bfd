package models

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// The record API addons build on: what Odoo's model methods offer a
// module's Python code. Every call runs as the env's user, so access
// rules apply unless the env is Sudo().

// Logger is the registry's logger, for addons' own messages.
func (r *Registry) Logger() *slog.Logger { return r.log }

// Create makes one record as create() over RPC does, after the user's
// create right: defaults, conversion, required fields, x2many commands,
// computed fields and constraints all apply. It returns the new id.
func (e *Env) Create(m *Model, vals map[string]any) (int64, error) {
	if err := e.checkAccess(m, OpCreate); err != nil {
		return 0, err
	}
	return e.insert(m, vals)
}

// Write updates ids with vals after the access, existence and record
// rule checks, then recomputes what depends on them and runs the
// constraints, as write() does.
func (e *Env) Write(m *Model, ids []int64, vals map[string]any) error {
	return e.write(m, ids, vals)
}

// Unlink deletes ids after the access, existence and record rule checks.
func (e *Env) Unlink(m *Model, ids []int64) error { return e.unlink(m, ids) }

// Load returns the records of ids that exist, in the order of ids, with
// the named stored fields (every stored field when none is named). It
// checks no access: the caller has, or works as the system.
func (e *Env) Load(m *Model, ids []int64, fields ...string) ([]*Record, error) {
	var fs []*Field
	if len(fields) > 0 {
		fs = make([]*Field, 0, len(fields))
		for _, name := range fields {
			f := m.Field(name)
			if f == nil {
				return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(name), py.Repr(m.Name))
			}
			fs = append(fs, f)
		}
	}
	return e.load(m, ids, fs)
}

// Search returns the ids of m matching domain, ordered by order (m's
// default order when ""), windowed by offset and limit (limit 0: all).
// The domain gets the implicit active filter and the user's record rules.
func (e *Env) Search(m *Model, domain []any, offset, limit int64, order string) ([]int64, error) {
	return e.search(m, domain, offset, limit, order)
}

// SearchRead is Search followed by read() of fields (every readable field
// when none), in one query, with many2one values as [id, name].
func (e *Env) SearchRead(m *Model, domain []any, fields []string, offset, limit int64, order string) ([]*Dict, error) {
	names := make([]any, len(fields))
	for i, f := range fields {
		names[i] = f
	}
	return e.searchRead(m, Args{"domain": domain, "fields": names, "offset": offset, "limit": limit, "order": order}, classicRead)
}

// Count is the number of records of m matching domain, at most limit
// when limit > 0.
func (e *Env) Count(m *Model, domain []any, limit int64) (int64, error) {
	return e.count(m, domain, limit)
}

// Read returns records in read()'s format: fields (all readable ones
// when empty); load "_classic_read" renders many2one as [id, name], any
// other load ("" too, as in Odoo) as the bare id.
func (e *Env) Read(m *Model, ids []int64, fields []string, load string) ([]*Dict, error) {
	return e.read(m, ids, fields, load)
}

// DisplayNames is the display name of each id of m.
func (e *Env) DisplayNames(m *Model, ids []int64) (map[int64]string, error) {
	return e.displayNames(m, ids)
}

// CheckAccess returns Odoo's AccessError when the user may not perform
// op (OpRead, OpWrite, OpCreate, OpUnlink) on m at all.
func (e *Env) CheckAccess(m *Model, op byte) error { return e.checkAccess(m, op) }

// CheckRecords returns a MissingError when one of ids does not exist and
// an AccessError when one lies outside the user's record rules for op.
func (e *Env) CheckRecords(m *Model, ids []int64, op byte) error {
	return e.checkRecords(m, ids, op)
}

// SetColumns writes system-managed state (a daemon's status, a device's
// last values) straight into the columns of ids: values are converted by
// their fields, but nothing is recomputed, no constraint runs and no
// write_date is set unless vals names it. It returns how many rows it
// changed, so a caller can tell a record deleted meanwhile.
func (e *Env) SetColumns(m *Model, ids []int64, vals map[string]any) (int64, error) {
	cols, err := e.columnValues(m, vals)
	if err != nil {
		return 0, err
	}
	return e.updateColumns(m, ids, cols)
}

// columnValues converts vals to the DB parameters of their columns.
func (e *Env) columnValues(m *Model, vals map[string]any) (map[string]any, error) {
	cols := make(map[string]any, len(vals))
	for k, v := range vals {
		f := m.Field(k)
		if f == nil || !f.Stored() {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(k), py.Repr(m.Name))
		}
		dv, err := f.toDB(e.Dialect(), v)
		if err == nil && f.Encrypted {
			dv, err = e.reg.seal(f, dv)
		}
		if err != nil {
			return nil, err
		}
		cols[k] = dv
	}
	return cols, nil
}

// Call runs one of m's methods (its own or a generic ORM one) with RPC
// argument binding, inside the env's transaction: what an addon uses to
// call another model the way a client would.
func (e *Env) Call(m *Model, method string, args []any, kwargs map[string]any) (any, error) {
	meth := m.Methods[method]
	if meth == nil {
		meth = genericMethods[method]
	}
	if meth == nil {
		return nil, AttributeErrorf("The method '%s' does not exist on the model '%s'", method, m.Name)
	}
	var ids []int64
	if meth.Kind == RecordLevel {
		if len(args) == 0 {
			return nil, TypeErrorf("%s() missing 1 required positional argument: 'ids'", method)
		}
		var err error
		if ids, err = idsArg(args[0]); err != nil {
			return nil, err
		}
		args = args[1:]
	}
	a, err := bind(method, meth, args, kwargs)
	if err != nil {
		return nil, err
	}
	return meth.Fn(e.withModel(m), ids, a)
}

// Constant returns a Default function giving v.
func Constant(v any) func(*Env) any { return func(*Env) any { return v } }

// DeleteWhere deletes the records of m matching domain straight in the
// database: no access check, no hook, no cascade beyond the database's
// own. It is for an addon's housekeeping of append-only tables (message
// history), where loading the ids first would cost more than the delete.
func (e *Env) DeleteWhere(m *Model, domain []any) (int64, error) {
	where, args, err := compileDomain(e.Sudo(), m, "t", domain)
	if err != nil {
		return 0, err
	}
	q := `DELETE FROM ` + quote(m.Table) + ` WHERE "id" IN (SELECT t."id" FROM ` + quote(m.Table) + ` t WHERE ` + where + `)`
	res := e.DB().Exec(q, args...)
	if res.Error != nil {
		return 0, Internal("delete from "+m.Name, res.Error)
	}
	return res.RowsAffected, nil
}

// UpdateWhere is SetColumns on the records of m matching domain, with
// DeleteWhere's reasons and rules.
func (e *Env) UpdateWhere(m *Model, domain []any, vals map[string]any) (int64, error) {
	where, args, err := compileDomain(e.Sudo(), m, "t", domain)
	if err != nil {
		return 0, err
	}
	cols, err := e.columnValues(m, vals)
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	sets := make([]string, len(names))
	params := make([]any, 0, len(names)+len(args))
	for i, k := range names {
		sets[i] = quote(k) + " = ?"
		params = append(params, cols[k])
	}
	q := `UPDATE ` + quote(m.Table) + ` SET ` + strings.Join(sets, ", ") + ` WHERE "id" IN (SELECT t."id" FROM ` + quote(m.Table) + ` t WHERE ` + where + `)`
	res := e.DB().Exec(q, append(params, args...)...)
	if res.Error != nil {
		return 0, Internal("update "+m.Name, res.Error)
	}
	return res.RowsAffected, nil
}

// ExpectedSingleton is Odoo's ValueError for a method that works on one
// record and was given another number of them.
func ExpectedSingleton(model string, ids []int64) error {
	return ValueErrorf("Expected singleton: %s(%s)", model, idsRepr(ids))
}

// WithUser returns an env of the same transaction acting as uid, with
// uid's rights (Odoo's with_user).
func (e *Env) WithUser(uid int64) *Env {
	c := *e
	c.UID, c.su, c.groups = uid, false, nil
	return &c
}

// Begin opens a transaction as uid and returns its env, for work that
// must hold one transaction across steps of its own (tests that roll
// back, say). end commits when commit is true and rolls back otherwise;
// what was queued with AfterCommit runs after a commit.
func (r *Registry) Begin(ctx context.Context, uid int64) (env *Env, end func(commit bool) error, err error) {
	tx := r.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return nil, nil, Internal("begin", tx.Error)
	}
	var after []func()
	env = &Env{Ctx: ctx, UID: uid, Context: map[string]any{}, reg: r, tx: tx, afterCommit: &after}
	end = func(commit bool) error {
		if !commit {
			return r.wrapError(tx.Rollback().Error)
		}
		if err := tx.Commit().Error; err != nil {
			return r.wrapError(err)
		}
		for _, f := range after {
			f()
		}
		return nil
	}
	return env, end, nil
}

// MethodInfo describes a public method of a model for the API
// documentation (/doc): its name, whether it takes records, and its
// parameters in order.
type MethodInfo struct {
	Name        string
	RecordLevel bool
	Params      []Param
	Rest        bool // takes any further keyword (**kwargs)
}

// PublicMethods lists what a client may call on m: its own methods and
// the generic ORM ones (its own win on a shared name), sorted by name.
func (r *Registry) PublicMethods(m *Model) []MethodInfo {
	seen := map[string]*Method{}
	for name, meth := range genericMethods {
		seen[name] = meth
	}
	for name, meth := range m.Methods {
		if !strings.HasPrefix(name, "_") {
			seen[name] = meth
		}
	}
	out := make([]MethodInfo, 0, len(seen))
	for name, meth := range seen {
		out = append(out, MethodInfo{Name: name, RecordLevel: meth.Kind == RecordLevel, Params: meth.Params, Rest: meth.Rest})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Allowed reports whether the env's user may perform op (OpRead, OpWrite,
// OpCreate, OpUnlink) on m at all.
func (e *Env) Allowed(m *Model, op byte) bool { return e.allowed(m, op) }
