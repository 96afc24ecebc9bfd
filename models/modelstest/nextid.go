package modelstest

import (
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
)

// SetNextID makes the next record of model created in reg's database get
// id next (see testdb.SetNextID): for tests of ids beyond 2^31.
func SetNextID(t testing.TB, reg *models.Registry, model string, next int64) {
	t.Helper()
	db, err := reg.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	kind := "postgres"
	if reg.Dialect() == models.SQLite {
		kind = "sqlite"
	}
	m := reg.Model(model)
	if m == nil {
		t.Fatalf("SetNextID: no model %s", model)
	}
	testdb.SetNextID(t, db, kind, m.Table, next)
}
