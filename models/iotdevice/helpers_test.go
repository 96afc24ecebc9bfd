package iotdevice_test

import (
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// app is a test registry whose notifications are recorded and whose
// listener service is ctl (none while ctl is nil).
type app struct {
	*modelstest.App
	notes *modelstest.Notes
	ctl   *modelstest.Control
}

// forEachDB runs fn as a subtest per database kind (SQLite, and PostgreSQL
// when configured; under CI=true it is required).
func forEachDB(t *testing.T, fn func(t *testing.T, r *app)) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			a := &app{notes: &modelstest.Notes{}}
			a.App = modelstest.NewFor(t, kind, modelstest.Options{Notifier: a.notes, Control: func() mqtt.BrokerControl {
				if a.ctl == nil {
					return nil
				}
				return a.ctl
			}})
			a.notes.Reg = a.Registry
			fn(t, a)
		})
	}
}
