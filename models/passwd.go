package models

import (
	"context"
	"errors"
)

// ErrNoUsers is SetPassword's error on a database that was never
// initialised (Init has not created its users).
var ErrNoUsers = errors.New("models: the database has no users: it was never initialised")

// PasswordReset is what SetPassword changed.
type PasswordReset struct {
	UID    int64
	Active bool // false: the user is archived, and cannot log in until reactivated
}

// SetPassword sets the password of the user with this login, archived or
// not, as an administrator does in the user form: the new password is
// hashed, the old one and every web session of the user stop working at
// once (the session token follows the hash). It is the operator's way
// back in (`odoo-iot-mqtt passwd`), so it needs no password of its own;
// what guards it is access to the database.
func (r *Registry) SetPassword(ctx context.Context, login, password string) (PasswordReset, error) {
	if password == "" {
		return PasswordReset{}, UserErrorf("Setting empty passwords is not allowed for security reasons!")
	}
	if has, err := r.HasUsers(ctx); err != nil {
		return PasswordReset{}, err
	} else if !has {
		return PasswordReset{}, ErrNoUsers
	}
	u, err := r.loadCreds(ctx, `"login" = ?`, login)
	if err != nil {
		return PasswordReset{}, err
	}
	if u == nil {
		return PasswordReset{}, UserErrorf("There is no user with login %s.", login)
	}
	if u.ID == Superuser {
		return PasswordReset{}, UserErrorf("User %s is the system user: it cannot log in, so it has no password to set.", login)
	}
	err = r.Transaction(ctx, Superuser, nil, func(env *Env) error {
		return env.update(r.Model("res.users"), []int64{u.ID}, map[string]any{"password": password})
	})
	if err != nil {
		return PasswordReset{}, err
	}
	return PasswordReset{UID: u.ID, Active: u.Active}, nil
}

// HasUsers reports whether the database holds users already, that is
// whether Init will leave user admin's password alone.
func (r *Registry) HasUsers(ctx context.Context) (bool, error) {
	var n int64
	if err := r.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM "res_users"`).Scan(&n).Error; err != nil {
		return false, Internal("count users", err)
	}
	return n > 0, nil
}
