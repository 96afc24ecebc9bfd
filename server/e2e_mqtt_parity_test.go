package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonMQTTParity drives the real binary with Python's xmlrpc.client
// (testdata/e2e/mqtt_parity_client.py) through the Odoo 16 parity points
// of the MQTT models (issue 9, item 13): a delete another record needs is
// fault 2 with Odoo's message and deletes nothing, session_info has Odoo
// 16's keys, Subscribe on an unreachable broker is the addon's fault, on
// SQLite and PostgreSQL.
func TestPythonMQTTParity(t *testing.T) {
	py := python3(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			srv := startServer(t, "--db", modelstest.DSN(t, kind), "--db-name", "parity", "--admin-password", "parity-admin-pw")
			out, err := exec.Command(py, filepath.Join("..", "testdata", "e2e", "mqtt_parity_client.py"), srv.url(), "parity", "parity-admin-pw").CombinedOutput()
			t.Logf("python client:\n%s", out)
			if err != nil {
				t.Fatalf("python client failed: %v", err)
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}
