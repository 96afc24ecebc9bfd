package modelstest

import (
	"context"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Login authenticates login with password, as the web login does, and
// returns the id of a new session of that user.
func Login(t testing.TB, reg *models.Registry, login, password string) string {
	t.Helper()
	uid, err := reg.Authenticate(context.Background(), login, password, true)
	if err != nil {
		t.Fatalf("authenticate %s: %v", login, err)
	}
	return Session(t, reg, uid)
}

// Session returns the id of a new session of uid, without a password.
func Session(t testing.TB, reg *models.Registry, uid int64) string {
	t.Helper()
	s, err := reg.NewSession(context.Background(), uid, time.Hour)
	if err != nil {
		t.Fatalf("new session of uid %d: %v", uid, err)
	}
	return s.SID
}

// CreateUser creates, as admin, an internal user with no groups beyond the
// defaults (so no MQTT rights) and returns its id.
func CreateUser(t testing.TB, reg *models.Registry, login, password string) int64 {
	t.Helper()
	res, err := reg.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "res.users", Method: "create",
		Args: []any{map[string]any{"name": login, "login": login, "password": password}}})
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	id, ok := res.(int64)
	if !ok {
		t.Fatalf("create user %s: id %T %v", login, res, res)
	}
	return id
}
