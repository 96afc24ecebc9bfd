package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestEngineSetPassword: the operator's password reset (odoo-iot-mqtt
// passwd) replaces the password at once, ends the user's sessions, works
// on archived users (saying so), and refuses what cannot be set.
func TestEngineSetPassword(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		var gone int64
		if err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			gone = makeUser(t, env, "gone")
			return env.Write(r.Model("res.users"), []int64{gone}, map[string]any{"active": false})
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, "admin"); err != nil {
			t.Fatal(err) // in the caches from here on
		}
		sess, err := r.NewSession(ctx, AdminUID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.SetPassword(ctx, "admin", "reset-pw")
		if err != nil || got != (PasswordReset{UID: AdminUID, Active: true}) {
			t.Fatalf("SetPassword(admin) = %+v, %v", got, err)
		}
		if uid, err := r.Authenticate(ctx, "admin", "reset-pw", true); err != nil || uid != AdminUID {
			t.Errorf("login with the new password = %d, %v", uid, err)
		}
		if _, err := r.Authenticate(ctx, "admin", "admin", true); err != ErrAccessDenied {
			t.Errorf("login with the old password: %v", err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, "admin"); err != ErrAccessDenied {
			t.Errorf("object call with the old password: %v", err)
		}
		if _, err := r.Session(ctx, sess.SID); err != ErrSessionExpired {
			t.Errorf("session from before the reset: %v", err)
		}
		if got, err := r.SetPassword(ctx, "gone", "back-pw"); err != nil || got != (PasswordReset{UID: gone, Active: false}) {
			t.Errorf("SetPassword(archived) = %+v, %v", got, err)
		}
		for _, c := range []struct{ login, pw, msg string }{
			{"nobody", "x", "There is no user with login nobody."},
			{"__system__", "x", "system user"},
			{"admin", "", "empty passwords"},
		} {
			_, err := r.SetPassword(ctx, c.login, c.pw)
			wantErr(t, "SetPassword("+c.login+")", err, KindUser, c.msg)
		}
	})
}

// TestSetPasswordUninitialised: a database that was never initialised
// has nobody to reset.
func TestSetPasswordUninitialised(t *testing.T) {
	r := openRegistry(t, "sqlite:"+t.TempDir()+"/empty.db", Options{})
	if err := r.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetPassword(context.Background(), "admin", "x"); !errors.Is(err, ErrNoUsers) {
		t.Errorf("SetPassword on an empty database: %v, want ErrNoUsers", err)
	}
}
