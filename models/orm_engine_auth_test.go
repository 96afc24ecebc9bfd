package models

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestEngineAuthSessions: logins by password and API key (rpc only, by
// scope), hashes at rest, web sessions and what invalidates them, and
// that a password change or a lost group takes effect at once despite the
// credential and group caches.
func TestEngineAuthSessions(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		as := func(uid int64, fn func(env *Env) error) {
			t.Helper()
			if err := r.Transaction(ctx, uid, nil, fn); err != nil {
				t.Fatal(err)
			}
		}
		if uid, err := r.Authenticate(ctx, "admin", "admin", true); err != nil || uid != AdminUID {
			t.Fatalf("admin login = %d, %v", uid, err)
		}
		var tester, gone int64
		as(Superuser, func(env *Env) error {
			tester = makeUser(t, env, "tester", groupTestUser)
			gone = makeUser(t, env, "gone")
			return env.Write(r.Model("res.users"), []int64{gone}, map[string]any{"active": false})
		})
		for _, c := range [][2]string{{"admin", "wrong"}, {"admin", ""}, {"", "admin"}, {"__system__", "admin"}, {"nobody", "admin"}, {"gone", "pw-gone"}} {
			if _, err := r.Authenticate(ctx, c[0], c[1], false); err != ErrAccessDenied {
				t.Errorf("login %q/%q: %v, want ErrAccessDenied", c[0], c[1], err)
			}
		}
		if uid, err := r.Authenticate(ctx, "tester", "pw-tester", true); err != nil || uid != tester {
			t.Errorf("tester login = %d, %v", uid, err)
		}
		var hash, loginDate string
		r.DB().Raw(`SELECT "password", COALESCE(CAST("login_date" AS TEXT), '') FROM "res_users" WHERE "id" = ?`, tester).Row().Scan(&hash, &loginDate)
		if !strings.HasPrefix(hash, "$2") || loginDate == "" {
			t.Errorf("stored password %q (want a bcrypt hash), login_date %q (want set)", hash, loginDate)
		}

		// API keys: rpc logins only, never interactive, stored hashed.
		var key, other string
		as(AdminUID, func(env *Env) error {
			if _, err := GenerateAPIKey(env, "", "", time.Time{}); KindOf(err) != KindUser {
				t.Errorf("an API key without a description: %v", err)
			}
			var err error
			if key, err = GenerateAPIKey(env, "ci", "", time.Time{}); err != nil {
				return err
			}
			other, err = GenerateAPIKey(env, "elsewhere", "other", time.Time{})
			return err
		})
		if len(key) != 40 {
			t.Fatalf("api key %q", key)
		}
		if uid, err := r.Authenticate(ctx, "admin", key, false); err != nil || uid != AdminUID {
			t.Errorf("rpc login with an API key = %d, %v", uid, err)
		}
		if _, err := r.Authenticate(ctx, "admin", key, true); err != ErrAccessDenied {
			t.Errorf("interactive login with an API key: %v", err)
		}
		if _, err := r.Authenticate(ctx, "admin", other, false); err != ErrAccessDenied {
			t.Errorf("rpc login with a key of scope other: %v", err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, key); err != nil {
			t.Errorf("CheckCredentials with an API key: %v", err)
		}
		if err := r.CheckCredentials(ctx, tester, key); err != ErrAccessDenied {
			t.Errorf("admin's key for the tester: %v", err)
		}
		var stored []string
		r.DB().Raw(`SELECT "key" FROM "res_users_apikeys"`).Scan(&stored)
		if len(stored) != 2 || stored[0] == key || stored[1] == key {
			t.Errorf("API keys at rest: %v", stored)
		}

		// Sessions.
		s, err := r.NewSession(ctx, AdminUID, time.Hour)
		if err != nil || !ValidSessionID(s.SID) || s.Login != "admin" {
			t.Fatalf("NewSession = %+v, %v", s, err)
		}
		if got, err := r.Session(ctx, s.SID); err != nil || got.UID != AdminUID || got.Login != "admin" {
			t.Errorf("Session = %+v, %v", got, err)
		}
		old, _ := r.NewSession(ctx, AdminUID, -time.Minute)
		ts, _ := r.NewSession(ctx, tester, time.Hour)
		for what, sid := range map[string]string{"expired": old.SID, "unknown": NewSessionID(), "malformed": "not-a-session"} {
			if _, err := r.Session(ctx, sid); err != ErrSessionExpired {
				t.Errorf("%s session: %v", what, err)
			}
		}
		if _, err := r.NewSession(ctx, 424242, time.Hour); err != ErrAccessDenied {
			t.Errorf("session of a missing user: %v", err)
		}
		if uc, err := r.UserContext(ctx, AdminUID); err != nil || uc["lang"] != "en_US" || uc["tz"] != false || uc["uid"] != AdminUID {
			t.Errorf("UserContext = %v, %v", uc, err)
		}

		// A password change ends sessions and the old password at once.
		call := func(uid int64, model, method string, args []any) (any, error) {
			return r.Execute(ctx, Call{UID: uid, Model: model, Method: method, Args: args})
		}
		if _, err := call(AdminUID, "res.users", "change_password", []any{"wrong", "admin2"}); err != ErrAccessDenied {
			t.Errorf("change_password with a wrong old password: %v", err)
		}
		if _, err := call(AdminUID, "res.users", "change_password", []any{"admin", ""}); KindOf(err) != KindUser {
			t.Errorf("change_password to an empty password: %v", err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, "admin"); err != nil {
			t.Fatal(err) // cached from here on
		}
		if got, err := call(AdminUID, "res.users", "change_password", []any{"admin", "admin2"}); err != nil || got != true {
			t.Fatalf("change_password = %v, %v", got, err)
		}
		if _, err := r.Session(ctx, s.SID); err != ErrSessionExpired {
			t.Errorf("session after a password change: %v", err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, "admin"); err != ErrAccessDenied {
			t.Errorf("old password after the change: %v", err)
		}
		if err := r.CheckCredentials(ctx, AdminUID, "admin2"); err != nil {
			t.Errorf("new password: %v", err)
		}
		if _, err := r.Session(ctx, ts.SID); err != nil {
			t.Errorf("another user's session after admin's password change: %v", err)
		}

		// A lost group is lost at once.
		create := func() error {
			_, err := call(tester, "test.order", "create", []any{map[string]any{"name": "by tester"}})
			return err
		}
		if err := create(); err != nil {
			t.Fatalf("tester create: %v", err)
		}
		as(Superuser, func(env *Env) error {
			return env.Write(r.Model("res.users"), []int64{tester}, map[string]any{"groups_id": []any{[]any{int64(5)}}})
		})
		if err := create(); KindOf(err) != KindAccess {
			t.Errorf("create after losing the group: %v", err)
		}
		// Archiving a user ends their sessions.
		as(Superuser, func(env *Env) error {
			return env.Write(r.Model("res.users"), []int64{tester}, map[string]any{"active": false})
		})
		if _, err := r.Session(ctx, ts.SID); err != ErrSessionExpired {
			t.Errorf("session of an archived user: %v", err)
		}
		if err := r.DeleteSession(ctx, ts.SID); err != nil {
			t.Errorf("DeleteSession: %v", err)
		}
	})
}

// TestEngineExecute: Registry.Execute as execute_kw: private methods and
// unknown names refused, kwargs.context replacing the env context, and a
// failed call rolled back as a whole.
func TestEngineExecute(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		exec := func(c Call) (any, error) {
			if c.UID == 0 {
				c.UID = AdminUID
			}
			return r.Execute(ctx, c)
		}
		errs := []struct {
			call Call
			kind Kind
			msg  string
		}{
			{Call{Model: "test.order", Method: "_private"}, KindAccess, "Private methods (such as _private) cannot be called remotely."},
			{Call{Model: "test.order", Method: "init"}, KindAccess, "Private methods (such as init) cannot be called remotely."},
			{Call{Model: "no.such", Method: "search"}, KindUser, "Object no.such doesn't exist"},
			{Call{Model: "test.order", Method: "nope"}, KindAttribute, "The method 'nope' does not exist on the model 'test.order'"},
			{Call{Model: "test.order", Method: "write"}, KindType, "write() missing 1 required positional argument: 'ids'"},
			{Call{Model: "test.order", Method: "search", Args: []any{[]any{}}, Kwargs: map[string]any{"context": "x"}}, KindType, "context must be a dictionary"},
		}
		for _, e := range errs {
			_, err := exec(e.call)
			wantErr(t, e.call.Model+"."+e.call.Method, err, e.kind, e.msg)
		}
		got, err := exec(Call{Model: "test.order", Method: "default_get", Args: []any{[]any{"state", "name"}},
			Kwargs: map[string]any{"context": map[string]any{"default_state": "done"}}})
		if err != nil {
			t.Fatal(err)
		}
		if m := dictMap(got.(*Dict)); m["state"] != "done" || len(m) != 1 {
			t.Errorf("default_get with kwargs.context = %v", m)
		}
		id, err := exec(Call{Model: "test.order", Method: "create", Args: []any{map[string]any{"name": "E", "amount": 1.0, "note": "kept"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = exec(Call{Model: "test.order", Method: "write", Args: []any{id, map[string]any{"note": "half", "amount": -1.0}}})
		wantErr(t, "write failing its constraint", err, KindValidation, "Amount must not be negative")
		rows, err := exec(Call{Model: "test.order", Method: "read", Args: []any{id, []any{"note", "amount"}}})
		if err != nil {
			t.Fatal(err)
		}
		if m := dictMap(rows.([]*Dict)[0]); m["note"] != "kept" || m["amount"] != 1.0 {
			t.Errorf("after a failed write: %v (want it rolled back)", m)
		}
	})
}

// TestEngineCreateContextDefaults: Odoo's create fills the fields it is
// not given from default_get, so default_<field> context keys apply to
// create too (the web client relies on it: default_order_id for a line
// made from its order's form).
func TestEngineCreateContextDefaults(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		id, err := r.Execute(ctx, Call{UID: AdminUID, Model: "test.order", Method: "create", Args: []any{map[string]any{"name": "E"}},
			Kwargs: map[string]any{"context": map[string]any{"default_note": "from context", "default_state": "done"}}})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := r.Execute(ctx, Call{UID: AdminUID, Model: "test.order", Method: "read", Args: []any{id, []any{"note", "state"}}})
		if err != nil {
			t.Fatal(err)
		}
		if m := dictMap(rows.([]*Dict)[0]); m["note"] != "from context" || m["state"] != "done" {
			t.Errorf("create with context {default_note, default_state} stored note=%#v state=%#v: default_<field> context keys must win over Field.Default, as in Odoo's create", m["note"], m["state"])
		}
	})
}
