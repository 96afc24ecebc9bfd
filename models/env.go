package models

import (
	"context"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"gorm.io/gorm"
)

// Superuser is uid 1 (__system__), which bypasses access checks and cannot
// log in; AdminUID is the administrator clients log in as.
const (
	Superuser int64 = 1
	AdminUID  int64 = 2
)

// Env is what a model method runs with: the user, the Odoo context, and the
// transaction. Like Odoo's env, it is cheap to derive (Sudo, WithContext).
type Env struct {
	Ctx     context.Context
	UID     int64
	Context map[string]any

	reg    *Registry
	tx     *gorm.DB
	su     bool
	groups map[string]bool // lazily loaded effective groups of UID
	model  *Model

	afterCommit *[]func() // nil outside a transaction
}

// Registry returns the registry the env belongs to.
func (e *Env) Registry() *Registry { return e.reg }

// DB returns the transaction with the request's context attached.
func (e *Env) DB() *gorm.DB { return e.tx.WithContext(e.Ctx) }

// Dialect is the SQL flavour of the database.
func (e *Env) Dialect() Dialect { return e.reg.dialect }

// Sudo returns an env that bypasses access checks, for internal work done
// on the user's behalf (computing display names, writing history).
func (e *Env) Sudo() *Env {
	c := *e
	c.su = true
	return &c
}

// IsSuperuser reports whether access checks are bypassed.
func (e *Env) IsSuperuser() bool { return e.su || e.UID == Superuser }

// WithContext returns an env with ctx as its Odoo context.
func (e *Env) WithContext(ctx map[string]any) *Env {
	c := *e
	c.Context = ctx
	return &c
}

// Model returns the named model or the UserError Odoo raises for it.
func (e *Env) Model(name string) (*Model, error) {
	m := e.reg.Model(name)
	if m == nil {
		return nil, UserErrorf("Object %s doesn't exist", name)
	}
	return m, nil
}

// ctxBool reads a boolean key of the Odoo context; missing means def.
func (e *Env) ctxBool(key string, def bool) bool {
	v, ok := e.Context[key]
	if !ok {
		return def
	}
	return !py.IsFalse(v)
}

// withModel is a hook for methods that need to know the model they were
// called on; the generic methods read it from env.model.
func (e *Env) withModel(m *Model) *Env {
	c := *e
	c.model = m
	return &c
}

// CurrentModel is the model a method was called on.
func (e *Env) CurrentModel() *Model { return e.model }
